#include "clinical/item_service.h"

#include <fmt/format.h>

#include "clinical/item_access.h"
#include "clinical/item_view.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/routes.h"
#include "fhir/search_params.h"
#include "registry/store_query.h"

namespace renkei::clinical {
namespace {

using internal::PatientIdIn;
using internal::PatientView;
using internal::ServedItemJson;
using internal::WithUninformedDate;

constexpr ItemType kItemTypes[] = {ItemType::kCondition, ItemType::kAllergyIntolerance,
                                   ItemType::kObservation};

const std::vector<fhir::SearchParamDef>& ItemParams() {
  static const std::vector<fhir::SearchParamDef> kParams = {
      {"patient", fhir::SearchParamKind::kReference, "Patient", false,
       "The patient (required unless the patient searches their own): Patient/<id>"},
      {"code", fhir::SearchParamKind::kToken, "", false,
       "Disease, lab (JLAC10/11, local) or allergen code"},
      {"category", fhir::SearchParamKind::kToken, "", false, "Resource category"},
      {"date", fhir::SearchParamKind::kDate, "", false,
       "Condition onset, Observation effective time, allergy recordedDate"},
      {"facility", fhir::SearchParamKind::kToken, "", false,
       "10-digit code of the facility that registered the item"},
  };
  return kParams;
}

}  // namespace

ItemService::ItemService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                         Limits limits, access::DeclarationCache* declarations)
    : store_(store), audit_(audit), clock_(clock), limits_(limits), declarations_(declarations) {}

RouteTable ItemService::Routes() {
  RouteTable routes;
  routes.push_back(fhir::TypeOperation(
      Method::kPost, "Bundle", kRegisterOperation,
      "Register a JP-CLINS 5-item bundle (collection): replaces what its bundle identifier "
      "registered before; a Patient-only bundle deletes it",
      [this](Request& req) { return HandleRegister(req); },
      {.returns_patient_data = false, .max_body_bytes = kMaxRegistrationBundleBytes}));
  for (ItemType type : kItemTypes) {
    const std::string_view name = ToString(type);
    routes.push_back(
        fhir::ReadRoute(name, fmt::format("Read a registered {} (access policy applies)", name),
                        [this, type](Request& req) { return HandleRead(req, type); }));
    routes.push_back(fhir::SearchRoute(
        name,
        fmt::format("Search one patient's {} items; consent is enforced inside the query", name),
        [this, type](Request& req) { return HandleSearch(req, type); }));
  }
  routes.push_back(fhir::InstanceOperation(
      Method::kGet, "Patient", "$summary",
      "What the caller may see of the patient's 6 items, as a document Bundle grouped by item",
      [this](Request& req) { return HandleSummary(req); }));
  return routes;
}

Response ItemService::HandleRead(Request& req, ItemType type) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  const std::string name(ToString(type));
  const std::string id(req.PathParam("id"));
  struct Found {
    store::ResourceRow row;
    access::Decision decision;
    ItemVisibility item;
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent(name, id));
        if (!row) return Error(ErrorCode::kNotFound, fmt::format("{}/{} is not known", name, id));
        if (row->deleted) {
          // Replaced, deleted by its facility, or removed by retention (issue: 410).
          return Error(ErrorCode::kGone, fmt::format("{}/{} has been deleted", name, id));
        }
        Found f;
        auto parsed = json::ParseObject(row->json, limits_);
        if (!parsed.ok()) return Error(ErrorCode::kInternal, "a stored item is not JSON");
        f.item = VisibilityOf(type, *parsed);
        RK_ASSIGN_OR_RETURN(
            auto view, PatientView::Load(tx, who, *claim, row->patient_id, now, declarations_));
        f.decision = view->DecideItem(f.item.category, fmt::format("{}/{}", name, id), f.item);
        f.row = std::move(*row);
        return f;
      });
  if (!found.ok()) return fhir::ErrorResponse(found.error());
  const bool permit = found->decision.permit;
  audit::AuditEntry entry = audit::EntryFor(
      who, found->row.patient_id, "read", access::ToString(found->item.category),
      permit ? found->decision.basis : claim->code(), permit ? "success" : "denied");
  entry.detail = json::Serialize(json::object{{"type", name}});
  if (!permit) {
    (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(Error(ErrorCode::kForbidden, std::string(found->decision.reason)));
  }
  // The entry is durable before any data leaves.
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());
  std::string body = found->row.json;
  if ((found->decision.masks & access::kMaskUninformedFlag) != 0) {
    body = WithUninformedDate(std::move(body), found->item.uninformed_date, limits_);
  }
  Response r = Response::Json(200, std::move(body));
  r.headers.emplace_back("ETag", fhir::FormatETag(found->row.version));
  return r;
}

Response ItemService::HandleSearch(Request& req, ItemType type) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  const std::string name(ToString(type));
  auto search = fhir::ParseSearch(req.query, ItemParams(), limits_,
                                  fhir::PrefersLenient(req.Header("prefer").value_or("")));
  if (!search.ok()) return fhir::ErrorResponse(search.error());
  std::optional<std::string> patient_id;
  store::SearchQuery q = registry::ToStoreQuery(name, *search);
  for (const store::Criterion& c : q.criteria) {
    if (c.param != "patient") continue;
    std::optional<std::string> id;
    if (c.values.size() == 1 && c.op == store::MatchOp::kEq) id = PatientIdIn(c.values[0]);
    if (patient_id || !id) {
      return fhir::ErrorResponse(
          Error(ErrorCode::kInvalid, "give exactly one patient (patient=Patient/<id>)"));
    }
    patient_id = std::move(id);
  }
  // The patient-first key (q.patient_id, set by the scope) is the patient criterion: items
  // carry no "patient" term.
  std::erase_if(q.criteria, [](const store::Criterion& c) { return c.param == "patient"; });
  if (!patient_id && who.kind == PrincipalKind::kPatient) patient_id = who.subject;
  if (!patient_id) {
    return fhir::ErrorResponse(Error(
        ErrorCode::kInvalid, fmt::format("a search of {} names the patient (patient=...)", name)));
  }
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());

  struct Found {
    store::SearchPage page;
    access::Decision decision;
    std::string_view others_refused;
    uint8_t masks = 0;
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        RK_ASSIGN_OR_RETURN(auto view,
                            PatientView::Load(tx, who, *claim, *patient_id, now, declarations_));
        Found f;
        auto any = view->DecideAny(internal::CategoriesOf(name));
        f.decision = any.decision;
        f.others_refused = any.others_refused;
        store::SearchQuery query = q;
        RK_ASSIGN_OR_RETURN(bool visible, view->Narrow(tx, name, query));
        if (!visible || !f.decision.permit) {
          return Error(ErrorCode::kForbidden, f.decision.reason.empty()
                                                  ? std::string("not permitted")
                                                  : std::string(f.decision.reason));
        }
        RK_ASSIGN_OR_RETURN(f.page, tx.Search(query));
        f.masks = view->scope().masks;
        return f;
      });
  const bool permit = found.ok();
  audit::AuditEntry entry = audit::EntryFor(who, *patient_id, "search", name,
                                            permit ? found->decision.basis : claim->code(),
                                            permit ? "success" : "denied");
  if (!found.ok()) {
    if (found.error().code() == ErrorCode::kForbidden) (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(found.error());
  }
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());

  std::vector<fhir::BundleEntryOut> entries;
  for (const store::ResourceRow& row : found->page.rows) {
    fhir::BundleEntryOut e;
    e.full_url = fhir::ResourceUrl(req.base_url, row.type, row.id);
    e.resource_json = ServedItemJson(row, who.kind != PrincipalKind::kPatient, limits_);
    e.search_mode = "match";
    entries.push_back(std::move(e));
  }
  auto notice = [&](std::string_view text) { entries.push_back(fhir::OutcomeEntry(text)); };
  if ((found->masks & access::kMaskHiddenNotice) != 0) {
    notice("some items are hidden at the patient's request");
  }
  if (!found->others_refused.empty()) {
    // Only the facility's own items were searched: say why the others' are not.
    notice(fmt::format("only this facility's own items are shown: {}", found->others_refused));
  }
  const std::string self =
      fmt::format("{}/fhir/{}?{}", req.base_url, name, fhir::PageQuery(*search, search->cursor));
  std::string next;
  if (!found->page.next_cursor.empty()) {
    next = fmt::format("{}/fhir/{}?{}", req.base_url, name,
                       fhir::PageQuery(*search, found->page.next_cursor));
  }
  return Response::Json(200, fhir::SearchSetBundle(found->page.total, self, next, entries));
}

}  // namespace renkei::clinical
