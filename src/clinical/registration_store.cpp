#include "clinical/registration_store.h"

#include <fmt/format.h>

#include "clinical/clins_codes.h"
#include "clinical/item_access.h"
#include "core/ids.h"
#include "fhir/resource.h"

namespace renkei::clinical {

namespace {

constexpr size_t kPage = 500;

void CodingTerms(const json::object* concept_object, std::string_view param,
                 std::vector<store::IndexTerm>& terms) {
  ForEachCoding(concept_object, [&](size_t, std::string_view system, std::string_view code) {
    if (!code.empty())
      terms.push_back({std::string(param), std::string(system), std::string(code)});
  });
}

std::string_view DateElement(ItemType type) {
  switch (type) {
    case ItemType::kCondition:
      return "onsetDateTime";
    case ItemType::kObservation:
      return "effectiveDateTime";
    case ItemType::kAllergyIntolerance:
      return "recordedDate";
  }
  return "";
}

}  // namespace

std::vector<store::IndexTerm> ItemTerms(const json::object& stored, ItemType type,
                                        const RegistrationBundle& bundle, TimePoint now) {
  std::vector<store::IndexTerm> terms;
  terms.push_back({std::string(kParamBundleIdentifier), std::string(kBundleIdentifierSystem),
                   bundle.identifier.value});
  terms.push_back({"facility", std::string(kFacilitySystem), bundle.identifier.facility_code});
  CodingTerms(json::GetObject(stored, "code"), "code", terms);
  if (const json::array* categories = json::GetArray(stored, "category")) {
    for (const auto& v : *categories) {
      if (v.is_string()) {
        terms.push_back({"category", "", std::string(v.get_string())});
      } else if (v.is_object()) {
        CodingTerms(&v.get_object(), "category", terms);
      }
    }
  }
  if (const json::object* meta = json::GetObject(stored, "meta")) {
    if (const json::array* tags = json::GetArray(*meta, "tag")) {
      for (const auto& v : *tags) {
        if (!v.is_object() || json::GetString(v.get_object(), "system") != kFlagSystem) continue;
        if (auto code = json::GetString(v.get_object(), "code"))
          terms.push_back({"_tag", std::string(kFlagSystem), std::string(*code)});
      }
    }
  }
  if (auto date = json::GetString(stored, DateElement(type)))
    if (auto at = ParseDateTime(*date)) terms.push_back({"date", "", FormatInstant(*at)});
  if (auto id = json::GetString(stored, "id")) terms.push_back({"_id", "", std::string(*id)});
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});
  // What the access policy needs, so that searches enforce it inside the query.
  for (auto& t : VisibilityTerms(VisibilityOf(type, stored))) terms.push_back(std::move(t));
  return terms;
}

Result<std::vector<store::ResourceRow>> FindRegistered(store::Transaction& tx,
                                                       std::string_view bundle_identifier) {
  std::vector<store::ResourceRow> rows;
  for (ItemType type :
       {ItemType::kAllergyIntolerance, ItemType::kCondition, ItemType::kObservation}) {
    store::SearchQuery query;
    query.type = std::string(ToString(type));
    query.criteria.push_back(store::Criterion{std::string(kParamBundleIdentifier),
                                              store::MatchOp::kEq,
                                              true,
                                              std::string(kBundleIdentifierSystem),
                                              {std::string(bundle_identifier)}});
    query.count = kPage;
    query.include_total = false;
    while (true) {
      RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(query));
      for (auto& row : page.rows) rows.push_back(std::move(row));
      if (page.next_cursor.empty()) break;
      query.after = page.next_cursor;
    }
  }
  return rows;
}

Result<RegistrationOutcome> ApplyRegistration(store::Transaction& tx,
                                              const RegistrationBundle& bundle,
                                              std::string_view patient_id, TimePoint now) {
  RegistrationOutcome out;
  RK_ASSIGN_OR_RETURN(std::vector<store::ResourceRow> previous,
                      FindRegistered(tx, bundle.identifier.value));
  for (const auto& old : previous) {
    // A deleted version, not a purge: reads of a replaced item answer 410 and the retention
    // sweeper purges it later.
    store::ResourceRow tombstone;
    tombstone.type = old.type;
    tombstone.id = old.id;
    tombstone.last_updated = now;
    tombstone.deleted = true;
    tombstone.patient_id = old.patient_id;
    RK_TRY(tx.WriteResource(tombstone, {}, old.version));
    // The national service deletes what a bundle identifier replaces: no content stays.
    RK_TRY(tx.EraseHistory(old.type, old.id));
  }
  out.removed = previous.size();

  std::string subject = fmt::format("Patient/{}", patient_id);
  for (const RegisteredResource& r : bundle.resources) {
    json::object stored = r.resource;
    std::string id = NewId();
    // The bundle's Patient is the registry patient once stored (matched by the insured-person
    // identifier): the subject points at it by its registry id.
    stored[r.type == ItemType::kAllergyIntolerance ? "patient" : "subject"] =
        json::object{{"reference", subject}};
    fhir::StampMeta(stored, id, 1, now);
    store::ResourceRow row;
    row.type = std::string(ToString(r.type));
    row.id = id;
    row.last_updated = now;
    row.patient_id = std::string(patient_id);
    row.json = json::Serialize(stored);
    RK_TRY(tx.WriteResource(row, ItemTerms(stored, r.type, bundle, now), 0));
    out.ids.push_back(std::move(id));
  }
  return out;
}

}  // namespace renkei::clinical
