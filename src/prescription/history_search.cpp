// FHIR search of a patient's prescriptions and dispensings (issue 4 "History and retention"):
// GET /fhir/MedicationRequest and /fhir/MedicationDispense with patient (required), date (the
// first day taken), code, facility, prescription and paging. What may be returned is decided
// by access::ScopeFor and put into the query itself, so totals and paging reveal nothing of
// what the principal may not see (issue "Access policy").
#include <fmt/format.h>

#include <algorithm>

#include "access/decision.h"
#include "access/facts_store.h"
#include "access/purpose_claim.h"
#include "clinical/item_access.h"
#include "clinical/item_service.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "prescription/prescription_service.h"
#include "registry/store_query.h"

namespace renkei::prescription {
namespace {

constexpr std::string_view kSourceParam = "source";
constexpr uint16_t kPrescriptionBit = 1u << static_cast<int>(access::Category::kPrescriptions);

const std::vector<fhir::SearchParamDef>& HistoryParams() {
  static const std::vector<fhir::SearchParamDef> kParams = {
      {"patient", fhir::SearchParamKind::kReference, "Patient", false,
       "The patient (required): Patient/<id>"},
      {"date", fhir::SearchParamKind::kDate, "", false,
       "First day taken (prescriptions: authoredOn or boundsPeriod.start; dispensings: "
       "whenHandedOver), Japan calendar day"},
      {"code", fhir::SearchParamKind::kToken, "", false, "YJ or general-name code"},
      {"facility", fhir::SearchParamKind::kToken, "", false,
       "10-digit code of the facility that registered the item"},
      {std::string(kPrescriptionParam), fhir::SearchParamKind::kToken, "", false,
       "Prescription id (dispensings: the prescription dispensed)"},
  };
  return kParams;
}

// MedicationRequest adds where the prescriptions come from (issue "Clinical information
// sharing": the 6th item, prescriptions, is taken from the medication sections of documents).
const std::vector<fhir::SearchParamDef>& RequestParams() {
  static const std::vector<fhir::SearchParamDef> kParams = [] {
    std::vector<fhir::SearchParamDef> params = HistoryParams();
    params.push_back({std::string(kSourceParam), fhir::SearchParamKind::kToken, "", false,
                      "prescription (default): electronic prescriptions; document: "
                      "prescriptions taken from referral letters and discharge summaries"});
    return params;
  }();
  return kParams;
}

}  // namespace

Response PrescriptionService::HandleSearch(Request& req, std::string_view type) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  const bool requests = type == kRequestType;
  auto search = fhir::ParseSearch(req.query, requests ? RequestParams() : HistoryParams(), limits_,
                                  fhir::PrefersLenient(req.Header("prefer").value_or("")));
  if (!search.ok()) return fhir::ErrorResponse(search.error());
  std::string patient_id;
  store::SearchQuery q;
  q.type = std::string(type);
  for (const fhir::SearchCriterion& c : search->criteria) {
    if (c.param == kSourceParam) {
      if (c.values.size() != 1 || (c.values[0] != "prescription" && c.values[0] != "document")) {
        return fhir::ErrorResponse(
            Error(ErrorCode::kInvalid, "source is prescription or document"));
      }
      if (c.values[0] == "document") q.type = std::string(clinical::kDocumentMedicationType);
      continue;
    }
    if (c.param == "patient") {
      if (!patient_id.empty() || c.values.size() != 1 || c.op != fhir::SearchOp::kEq ||
          !c.values[0].starts_with("Patient/")) {
        return fhir::ErrorResponse(
            Error(ErrorCode::kInvalid, "give exactly one patient (Patient/<id>)"));
      }
      patient_id = c.values[0].substr(8);
    }
    q.criteria.push_back(
        store::Criterion{c.param, registry::ToMatchOp(c.op), c.has_system, c.system, c.values});
  }
  if (patient_id.empty()) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kInvalid, "searches of prescriptions and dispensings name the patient"));
  }
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  q.patient_id = patient_id;
  registry::SetPagingAndOrder(q, *search);

  struct Found {
    store::SearchPage page;
    access::Decision decision;
    std::string_view others_refused;  // only the facility's own items were searched: why
    uint8_t masks = 0;
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<
      Found>(store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
    Found f;
    RK_ASSIGN_OR_RETURN(access::AccessFacts facts, access::LoadFacts(tx, patient_id, now));
    facts.nurses_may_view = who.nurses_may_view;
    const access::Actor actor = access::ActorOf(who);
    access::AccessRequest ar;
    ar.actor = actor;
    ar.patient_id = patient_id;
    ar.item.category = access::Category::kPrescriptions;
    ar.purpose = claim->view();
    f.decision = access::Decide(ar, facts);
    const access::SearchScope scope = access::ScopeFor(actor, patient_id, claim->view(), facts);
    const bool others = (scope.categories & kPrescriptionBit) != 0;
    const bool own = (scope.own_categories & kPrescriptionBit) != 0;
    if (!others && !own) {
      return Error(ErrorCode::kForbidden,
                   f.decision.reason.empty() ? "not permitted" : std::string(f.decision.reason));
    }
    store::SearchQuery query = q;
    if (!others) {
      // Only what this facility registered itself.
      query.criteria.push_back({"facility", store::MatchOp::kEq, false, "", {who.facility_code}});
    }
    // Items the patient hid are left out inside the query (but not from the facility that
    // registered them), so totals and paging count none of them.
    RK_ASSIGN_OR_RETURN(auto hidden,
                        clinical::HiddenItemCriterion(tx, scope, query.type, who.facility_code));
    if (hidden) query.criteria.push_back(std::move(*hidden));
    RK_ASSIGN_OR_RETURN(f.page, tx.Search(query));
    f.masks = scope.masks;
    if (!others) f.others_refused = f.decision.reason;
    return f;
  });
  const std::string purpose = found.ok() && found->decision.permit
                                  ? std::string(found->decision.basis)
                                  : std::string(claim->code());
  audit::AuditEntry entry = audit::EntryFor(who, patient_id, "search", "prescriptions", purpose,
                                            found.ok() ? "success" : "denied");
  entry.detail = json::Serialize(json::object{{"type", type}});
  if (!found.ok()) {
    (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(found.error());
  }
  // The entry is durable before any data leaves.
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());

  std::vector<fhir::BundleEntryOut> entries;
  for (const store::ResourceRow& row : found->page.rows) {
    fhir::BundleEntryOut e;
    // Prescriptions taken from documents have no REST endpoint of their own.
    e.full_url = row.type == kRequestType || row.type == kDispenseType
                     ? fhir::ResourceUrl(req.base_url, row.type, row.id)
                     : fmt::format("urn:uuid:{}", row.id);
    e.resource_json = row.json;
    e.search_mode = "match";
    entries.push_back(std::move(e));
  }
  if ((found->masks & access::kMaskHiddenNotice) != 0) {
    entries.push_back(fhir::OutcomeEntry("some items are hidden at the patient's request"));
  }
  if (!found->others_refused.empty()) {
    entries.push_back(fhir::OutcomeEntry(
        fmt::format("only this facility's own items are shown: {}", found->others_refused)));
  }
  const std::string self =
      fmt::format("{}/fhir/{}?{}", req.base_url, type, fhir::PageQuery(*search, search->cursor));
  std::string next;
  if (!found->page.next_cursor.empty()) {
    next = fmt::format("{}/fhir/{}?{}", req.base_url, type,
                       fhir::PageQuery(*search, found->page.next_cursor));
  }
  return Response::Json(200, fhir::SearchSetBundle(found->page.total, self, next, entries));
}

}  // namespace renkei::prescription
