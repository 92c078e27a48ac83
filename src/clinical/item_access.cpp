#include "clinical/item_access.h"

#include <fmt/format.h>

#include <algorithm>

#include "clinical/clins_codes.h"
#include "core/limits.h"

namespace renkei::clinical {
namespace {

// Two visibility terms per item: "<category>:<flags>" with flags 0 (none), 1 (UNINFORMED),
// 2 (UNDELIVERED) or 3 (both), and "own:<facility>:<category>". A scope names the flag
// combinations it admits, so one IN list expresses every scope exactly.
constexpr std::string_view kOwn = "own";

std::string FlagsValue(access::Category c, int flags) {
  return fmt::format("{}:{}", access::ToString(c), flags);
}

bool IsInfectionSystem(std::string_view system) {
  // JP-FHIR.md "Code systems": .../JLAC10|JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS.
  return system.starts_with("http://jpfhir.jp/fhir/clins/CodeSystem/JLAC1") &&
         system.ends_with("_InfectionLabo_CS");
}

bool IsDrugAllergySystem(std::string_view system) {
  return system == kJfagyDrugYcmSystem || system == kJfagyDrugGcmSystem ||
         system == kJfagyDrugPlainSystem;
}

std::string OwnValue(std::string_view facility, access::Category c) {
  return fmt::format("{}:{}:{}", kOwn, facility, access::ToString(c));
}

}  // namespace

access::Category CategoryOf(ItemType type, const json::object& resource) {
  switch (type) {
    case ItemType::kCondition:
      return access::Category::kDiagnoses;
    case ItemType::kObservation: {
      bool infection = false;
      ForEachCoding(json::GetObject(resource, "code"),
                    [&](size_t, std::string_view system, std::string_view) {
                      infection = infection || IsInfectionSystem(system);
                    });
      return infection ? access::Category::kInfections : access::Category::kLabResults;
    }
    case ItemType::kAllergyIntolerance: {
      bool drug = false;
      if (const json::array* category = json::GetArray(resource, "category")) {
        for (const auto& v : *category) {
          drug = drug || (v.is_string() && v.get_string() == "medication");
        }
      }
      ForEachCoding(json::GetObject(resource, "code"),
                    [&](size_t, std::string_view system, std::string_view) {
                      drug = drug || IsDrugAllergySystem(system);
                    });
      return drug ? access::Category::kDrugAllergies : access::Category::kOtherAllergies;
    }
  }
  return access::Category::kDiagnoses;
}

std::string_view InstitutionNumberOf(const json::object& resource) {
  const json::array* extensions = json::GetArray(resource, "extension");
  if (extensions == nullptr) return {};
  for (const auto& e : *extensions) {
    if (!e.is_object() || json::GetString(e.get_object(), "url") != kInstitutionNumberExtension) {
      continue;
    }
    if (const json::object* id = json::GetObject(e.get_object(), "valueIdentifier")) {
      return json::GetString(*id, "value").value_or("");
    }
  }
  return {};
}

std::string LabItemKey(const json::object& observation) {
  std::string first;
  std::string jlac;
  ForEachCoding(json::GetObject(observation, "code"),
                [&](size_t, std::string_view system, std::string_view code) {
                  std::string key = fmt::format("{}|{}", system, code);
                  const bool is_jlac = system.find("/JLAC1") != std::string_view::npos ||
                                       system == kJlac10System || system == kJlac10Oid;
                  if (is_jlac && jlac.empty()) jlac = key;
                  if (first.empty()) first = std::move(key);
                });
  return jlac.empty() ? first : jlac;
}

ItemVisibility VisibilityOf(ItemType type, const json::object& stored) {
  ItemVisibility v;
  v.category = CategoryOf(type, stored);
  v.registering_facility = std::string(InstitutionNumberOf(stored));
  const json::object* meta = json::GetObject(stored, "meta");
  if (meta != nullptr) {
    if (const json::array* tags = json::GetArray(*meta, "tag")) {
      for (const auto& t : *tags) {
        if (!t.is_object() || json::GetString(t.get_object(), "system") != kFlagSystem) continue;
        std::string_view code = json::GetString(t.get_object(), "code").value_or("");
        v.uninformed = v.uninformed || code == "UNINFORMED";
        v.undelivered = v.undelivered || code == "UNDELIVERED";
      }
    }
  }
  if (v.uninformed) {
    // The date shown with the flag: when the facility recorded the item, else when it was
    // registered here (JP-CLINS carries no separate flag date).
    std::optional<std::string_view> date = json::GetString(stored, "recordedDate");
    if (!date && meta != nullptr) date = json::GetString(*meta, "lastUpdated");
    v.uninformed_date = std::string(date.value_or(""));
  }
  return v;
}

std::vector<store::IndexTerm> VisibilityTerms(const ItemVisibility& item) {
  std::vector<store::IndexTerm> terms;
  const int flags = (item.uninformed ? 1 : 0) | (item.undelivered ? 2 : 0);
  terms.push_back({std::string(kParamVisibility), "", FlagsValue(item.category, flags)});
  if (!item.registering_facility.empty()) {
    terms.push_back(
        {std::string(kParamVisibility), "", OwnValue(item.registering_facility, item.category)});
  }
  return terms;
}

std::optional<store::Criterion> ScopeCriterion(const access::SearchScope& scope,
                                               std::string_view actor_facility,
                                               uint16_t categories_of_type) {
  store::Criterion c;
  c.param = std::string(kParamVisibility);
  for (int i = 0; i < access::kCategoryCount; ++i) {
    const uint16_t bit = static_cast<uint16_t>(1u << i);
    if ((categories_of_type & bit) == 0) continue;
    const auto category = static_cast<access::Category>(i);
    // Items of other facilities. An own item matches these values too; that is exact because
    // Decide permits a facility its own item whenever it permits another facility's item of
    // the same category (own_categories contains categories; decision.cpp).
    if ((scope.categories & bit) != 0) {
      for (int flags = 0; flags < 4; ++flags) {
        if (scope.exclude_uninformed && (flags & 1) != 0) continue;
        if (scope.exclude_undelivered && (flags & 2) != 0) continue;
        c.values.push_back(FlagsValue(category, flags));
      }
    }
    if (!actor_facility.empty() && (scope.own_categories & bit) != 0) {
      c.values.push_back(OwnValue(actor_facility, category));
    }
  }
  if (c.values.empty()) return std::nullopt;
  return c;
}

Result<std::optional<store::Criterion>> HiddenItemCriterion(store::Transaction& tx,
                                                            const access::SearchScope& scope,
                                                            std::string_view type,
                                                            std::string_view actor_facility) {
  if (scope.hidden_item_ids == nullptr) return std::optional<store::Criterion>();
  store::Criterion c;
  c.param = "_id";
  c.negate = true;
  const std::string prefix = fmt::format("{}/", type);
  for (const std::string& ref : *scope.hidden_item_ids) {
    if (!ref.starts_with(prefix)) continue;
    const std::string id = ref.substr(prefix.size());
    RK_ASSIGN_OR_RETURN(std::optional<store::ResourceRow> row, tx.ReadCurrent(type, id));
    if (!row || row->deleted) continue;
    // The patient's hiding is aimed at other facilities: the registering facility keeps
    // seeing its own item (InScope).
    auto parsed = json::ParseObject(row->json, Limits{});
    if (!parsed.ok()) return Error(ErrorCode::kInternal, "a stored item is not JSON");
    if (!actor_facility.empty() && InstitutionNumberOf(*parsed) == actor_facility) continue;
    c.values.push_back(id);
  }
  if (c.values.empty()) return std::optional<store::Criterion>();
  return std::optional<store::Criterion>(std::move(c));
}

}  // namespace renkei::clinical
