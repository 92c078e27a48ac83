#include "clinical/item_view.h"

#include "clinical/item_service.h"
#include "core/json.h"

namespace renkei::clinical::internal {

namespace {
// The extension carrying the date of an UNINFORMED flag on a served item (kMaskUninformedFlag).
constexpr std::string_view kUninformedSinceExtension =
    "http://renkei.jp/fhir/StructureDefinition/uninformed-since";

}  // namespace

uint16_t CategoriesOf(std::string_view store_type) {
  using access::Category;
  if (store_type == "Condition") return Bit(Category::kDiagnoses);
  if (store_type == "Observation") return Bit(Category::kLabResults) | Bit(Category::kInfections);
  if (store_type == "AllergyIntolerance") {
    return Bit(Category::kDrugAllergies) | Bit(Category::kOtherAllergies);
  }
  if (store_type == kDocumentMedicationType) return Bit(Category::kPrescriptions);
  return 0;
}

Result<std::unique_ptr<PatientView>> PatientView::Load(store::Transaction& tx, const Principal& who,
                                                       const access::ClaimedPurpose& claim,
                                                       std::string_view patient_id, TimePoint now,
                                                       access::DeclarationCache* declarations) {
  std::unique_ptr<PatientView> view(new PatientView(who, claim, std::string(patient_id)));
  // The patient's own view does not depend on consents or restrictions (decision.cpp).
  if (who.kind != PrincipalKind::kPatient) {
    RK_ASSIGN_OR_RETURN(view->facts_, access::LoadFacts(tx, patient_id, now, declarations));
  }
  view->facts_.now = now;
  view->facts_.nurses_may_view = who.nurses_may_view;
  view->scope_ =
      access::ScopeFor(access::ActorOf(who), view->patient_id_, claim.view(), view->facts_);
  return view;
}

access::Decision PatientView::DecideItem(access::Category category, std::string_view item_id,
                                         const ItemVisibility& item) const {
  access::AccessRequest r;
  r.actor = access::ActorOf(who_);
  r.patient_id = patient_id_;
  r.item.category = category;
  r.item.item_id = item_id;
  r.item.registering_facility = item.registering_facility;
  r.item.uninformed = item.uninformed;
  r.item.uninformed_date = item.uninformed_date;
  r.item.undelivered = item.undelivered;
  r.purpose = claim_.view();
  return access::Decide(r, facts_);
}

PatientView::AnyDecision PatientView::DecideAny(uint16_t categories) const {
  access::AccessRequest r;
  r.actor = access::ActorOf(who_);
  r.patient_id = patient_id_;
  r.purpose = claim_.view();
  std::optional<access::Decision> first;
  for (int i = 0; i < access::kCategoryCount; ++i) {
    if ((categories & (1u << i)) == 0) continue;
    r.item.category = static_cast<access::Category>(i);
    access::Decision d = access::Decide(r, facts_);
    if (d.permit) return {d, {}};
    if (!first) first = d;
  }
  if (!first) return {};
  // A facility sees what it registered itself without a basis for other facilities' items.
  if (!who_.facility_code.empty()) {
    r.item.registering_facility = who_.facility_code;
    for (int i = 0; i < access::kCategoryCount; ++i) {
      if ((categories & (1u << i)) == 0) continue;
      r.item.category = static_cast<access::Category>(i);
      if (access::Decision own = access::Decide(r, facts_); own.permit) {
        return {own, first->reason};
      }
    }
  }
  return {*first, first->reason};
}

Result<bool> PatientView::Narrow(store::Transaction& tx, std::string_view type,
                                 store::SearchQuery& q) const {
  auto scope = ScopeCriterion(scope_, who_.facility_code, CategoriesOf(type));
  if (!scope) return false;
  q.patient_id = patient_id_;
  q.criteria.push_back(std::move(*scope));
  RK_ASSIGN_OR_RETURN(auto hidden, HiddenItemCriterion(tx, scope_, type, who_.facility_code));
  if (hidden) q.criteria.push_back(std::move(*hidden));
  return true;
}

std::string WithUninformedDate(std::string stored_json, std::string_view date,
                               const Limits& limits) {
  auto parsed = json::ParseObject(stored_json, limits);
  if (!parsed.ok()) return stored_json;
  json::array extensions;
  if (const json::array* e = json::GetArray(*parsed, "extension")) extensions = *e;
  extensions.push_back(json::object{{"url", kUninformedSinceExtension}, {"valueDateTime", date}});
  (*parsed)["extension"] = std::move(extensions);
  return json::Serialize(*parsed);
}

std::string ServedItemJson(const store::ResourceRow& row, bool practitioner, const Limits& limits) {
  // Cheap test first: only UNINFORMED items (a few) are parsed again.
  if (!practitioner || row.json.find("UNINFORMED") == std::string::npos) return row.json;
  auto type = ParseItemType(row.type);
  auto parsed = json::ParseObject(row.json, limits);
  if (!type || !parsed.ok()) return row.json;
  ItemVisibility v = VisibilityOf(*type, *parsed);
  return v.uninformed ? WithUninformedDate(row.json, v.uninformed_date, limits) : row.json;
}

std::optional<std::string> PatientIdIn(std::string_view value) {
  if (value.starts_with("Patient/")) value.remove_prefix(8);
  if (value.empty() || value.size() > 64 || value.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace renkei::clinical::internal
