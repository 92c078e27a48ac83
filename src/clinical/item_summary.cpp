// GET /fhir/Patient/{id}/$summary (issue "Clinical information sharing", "Viewing"): a
// document-like Bundle of what the principal may see, grouped by item: diagnoses, drug
// allergies, other allergies, infections, the latest lab result per item, and the
// prescriptions taken from documents. Each query carries the principal's scope
// (item_view.h), so hidden items are counted nowhere.
#include <fmt/format.h>

#include <map>

#include "clinical/item_access.h"
#include "clinical/item_service.h"
#include "clinical/item_view.h"
#include "core/ids.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"

namespace renkei::clinical {
namespace {

using access::Category;
using internal::PatientView;

// The sections in the order the issue lists them.
struct SectionDef {
  Category category;
  std::string_view title;
};
constexpr SectionDef kSections[] = {
    {Category::kDiagnoses, "Diagnoses"},
    {Category::kDrugAllergies, "Drug allergies"},
    {Category::kOtherAllergies, "Other allergies"},
    {Category::kInfections, "Infections"},
    {Category::kLabResults, "Latest lab results"},
    {Category::kPrescriptions, "Prescriptions (from documents)"},
};
constexpr std::string_view kSectionSystem = "http://renkei.jp/fhir/CodeSystem/summary-section";
// What the reader must know about the summary as a whole (items hidden at the patient's
// request; only the facility's own items shown).
constexpr std::string_view kNoticeExtension = "http://renkei.jp/fhir/StructureDefinition/notice";
// LOINC 60591-5 "Patient summary Document".
constexpr std::string_view kLoinc = "http://loinc.org";

constexpr std::string_view kStoreTypes[] = {"Condition", "AllergyIntolerance", "Observation",
                                            kDocumentMedicationType};

struct SummaryItem {
  Category category;
  store::ResourceRow row;
  std::string effective;  // Observation effective time, for "latest per item"
  std::string lab_key;    // Observation: the item (first coding), for "latest per item"
};

// Keeps, per lab item, the result with the latest effective time (ties: newest registered,
// which comes first in the newest-first query).
std::vector<SummaryItem> LatestPerItem(std::vector<SummaryItem> labs) {
  std::map<std::string, size_t> best;
  std::vector<SummaryItem> out;
  for (auto& item : labs) {
    auto it = best.find(item.lab_key);
    if (it == best.end()) {
      best.emplace(item.lab_key, out.size());
      out.push_back(std::move(item));
    } else if (item.effective > out[it->second].effective) {
      out[it->second] = std::move(item);
    }
  }
  return out;
}

}  // namespace

Response ItemService::HandleSummary(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  auto patient_id = internal::PatientIdIn(req.PathParam("id"));
  if (!patient_id) return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "malformed patient id"));
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());

  struct Found {
    access::Decision decision;
    std::string_view others_refused;
    uint8_t masks = 0;
    std::vector<SummaryItem> items;
    std::vector<std::string> truncated;  // store types with more items than the bound
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        RK_ASSIGN_OR_RETURN(auto patient, tx.ReadCurrent("Patient", *patient_id));
        if (!patient || patient->deleted) {
          return Error(ErrorCode::kNotFound, "no such patient");
        }
        RK_ASSIGN_OR_RETURN(auto view,
                            PatientView::Load(tx, who, *claim, *patient_id, now, declarations_));
        Found f;
        uint16_t all = 0;
        for (const auto& s : kSections) all |= internal::Bit(s.category);
        auto any = view->DecideAny(all);
        f.decision = any.decision;
        f.others_refused = any.others_refused;
        if (!f.decision.permit) {
          return Error(ErrorCode::kForbidden, std::string(f.decision.reason));
        }
        f.masks = view->scope().masks;
        for (std::string_view type : kStoreTypes) {
          store::SearchQuery q;
          q.type = std::string(type);
          q.count = kMaxSummaryItemsPerType;
          q.include_total = false;
          q.newest_first = true;
          RK_ASSIGN_OR_RETURN(bool visible, view->Narrow(tx, type, q));
          if (!visible) continue;
          RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
          if (!page.next_cursor.empty()) f.truncated.emplace_back(type);
          auto item_type = ParseItemType(type);
          for (auto& row : page.rows) {
            SummaryItem item;
            item.category = Category::kPrescriptions;
            if (item_type == ItemType::kCondition) {
              item.category = Category::kDiagnoses;  // no need to read the item (CategoryOf)
            } else if (item_type) {
              auto parsed = json::ParseObject(row.json, limits_);
              if (!parsed.ok()) return Error(ErrorCode::kInternal, "a stored item is not JSON");
              item.category = CategoryOf(*item_type, *parsed);
              if (item.category == Category::kLabResults) {
                item.lab_key = LabItemKey(*parsed);
                item.effective =
                    std::string(json::GetString(*parsed, "effectiveDateTime").value_or(""));
              }
            }
            item.row = std::move(row);
            f.items.push_back(std::move(item));
          }
        }
        return f;
      });
  const bool permit = found.ok();
  audit::AuditEntry entry = audit::EntryFor(who, *patient_id, "read", "summary",
                                            permit ? found->decision.basis : claim->code(),
                                            permit ? "success" : "denied");
  if (!found.ok()) {
    if (found.error().code() == ErrorCode::kForbidden) (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(found.error());
  }
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());

  // Group by section; labs keep their latest result per item.
  std::map<Category, std::vector<SummaryItem>> by_section;
  for (auto& item : found->items) by_section[item.category].push_back(std::move(item));
  by_section[Category::kLabResults] = LatestPerItem(std::move(by_section[Category::kLabResults]));

  const bool practitioner = who.kind != PrincipalKind::kPatient;
  json::array sections;
  std::vector<fhir::BundleEntryOut> entries;
  for (const SectionDef& def : kSections) {
    json::array refs;
    for (const SummaryItem& item : by_section[def.category]) {
      fhir::BundleEntryOut e;
      const bool from_document = item.row.type == kDocumentMedicationType;
      e.full_url = from_document ? fmt::format("urn:uuid:{}", item.row.id)
                                 : fhir::ResourceUrl(req.base_url, item.row.type, item.row.id);
      e.resource_json =
          from_document ? item.row.json : internal::ServedItemJson(item.row, practitioner, limits_);
      refs.push_back(json::object{{"reference", e.full_url}});
      entries.push_back(std::move(e));
    }
    json::object section{
        {"title", def.title},
        {"code", json::object{{"coding", json::array{json::object{
                                             {"system", kSectionSystem},
                                             {"code", access::ToString(def.category)}}}}}}};
    if (refs.empty()) {
      section["emptyReason"] = json::object{
          {"coding", json::array{json::object{
                         {"system", "http://terminology.hl7.org/CodeSystem/list-empty-reason"},
                         {"code", "unavailable"}}}}};
    } else {
      section["entry"] = std::move(refs);
    }
    sections.push_back(std::move(section));
  }
  json::object composition{
      {"resourceType", "Composition"},
      {"status", "final"},
      {"type", json::object{{"coding",
                             json::array{json::object{{"system", kLoinc}, {"code", "60591-5"}}}}}},
      {"subject", json::object{{"reference", fmt::format("Patient/{}", *patient_id)}}},
      {"date", FormatInstant(now)},
      {"title", "Patient summary"},
      {"section", std::move(sections)}};
  json::array notices;
  if ((found->masks & access::kMaskHiddenNotice) != 0) {
    // Emergency, ambulance and disaster viewers are told that the patient hid something
    // (never what, nor how much).
    notices.push_back(
        json::object{{"url", kNoticeExtension},
                     {"valueString", "some items are hidden at the patient's request"}});
  }
  if (!found->others_refused.empty()) {
    notices.push_back(json::object{
        {"url", kNoticeExtension},
        {"valueString",
         fmt::format("only this facility's own items are shown: {}", found->others_refused)}});
  }
  for (const std::string& type : found->truncated) {
    // A summary stays bounded; the searches page through everything.
    notices.push_back(json::object{
        {"url", kNoticeExtension},
        {"valueString",
         fmt::format("more than {} {} items: the {} most recently registered are summarized; "
                     "search them for the rest",
                     kMaxSummaryItemsPerType,
                     type == kDocumentMedicationType ? "MedicationRequest" : type,
                     kMaxSummaryItemsPerType)}});
  }
  if (!notices.empty()) composition["extension"] = std::move(notices);
  fhir::BundleEntryOut head;
  head.full_url = fmt::format("urn:uuid:{}", NewId());
  head.resource_json = json::Serialize(composition);
  entries.insert(entries.begin(), std::move(head));
  return Response::Json(
      200, fhir::BundleJson("document", std::nullopt, {}, entries, FormatInstant(now)));
}

}  // namespace renkei::clinical
