#include "clinical/registration_items.h"

#include <fmt/format.h>

#include "clinical/clins_codes.h"

namespace renkei::clinical {

using fhir::Child;
using fhir::IssueCollector;

namespace {

bool HasText(const json::object* concept_object) {
  if (concept_object == nullptr) return false;
  auto text = json::GetString(*concept_object, "text");
  return text && !text->empty();
}

bool HasKeyStartingWith(const json::object& o, std::string_view prefix) {
  for (const auto& kv : o)
    if (kv.key().starts_with(prefix)) return true;
  return false;
}

bool IsContainedOfType(const json::object& resource, std::string_view local_ref,
                       std::string_view type) {
  if (!local_ref.starts_with('#')) return false;
  const json::array* contained = json::GetArray(resource, "contained");
  if (contained == nullptr) return false;
  for (const auto& v : *contained) {
    if (!v.is_object()) continue;
    if (json::GetString(v.get_object(), "id") == local_ref.substr(1) &&
        json::GetString(v.get_object(), "resourceType") == type)
      return true;
  }
  return false;
}

// The condition-clinical code of Condition.clinicalStatus, empty when absent.
std::string ClinicalStatus(const json::object& condition) {
  std::string status;
  ForEachCoding(json::GetObject(condition, "clinicalStatus"), [&](size_t, std::string_view system,
                                                                  std::string_view code) {
    if (status.empty() && system == "http://terminology.hl7.org/CodeSystem/condition-clinical")
      status = std::string(code);
  });
  return status;
}

bool IsJlacSystem(std::string_view system, bool& infection) {
  // JP-CLINS shared-item systems: .../CodeSystem/JLAC10|JLAC11/JP_CLINS_ObsLabResult_
  // CoreLabo_CS and ..._InfectionLabo_CS (JP-FHIR.md "Code systems"); plus the full JLAC10
  // master, by URL or OID (the real example codes eGFR that way).
  constexpr std::string_view kClinsPrefix = "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC1";
  if (system.starts_with(kClinsPrefix)) {
    if (system.ends_with("_InfectionLabo_CS")) {
      infection = true;
      return true;
    }
    return system.ends_with("_CoreLabo_CS");
  }
  return system == kJlac10System || system == kJlac10Oid;
}

}  // namespace

void CheckEncounterAndDepartment(const EntryContext& e, IssueCollector& c) {
  std::string encounter_path = Child(e.path, "encounter");
  const json::object* encounter = json::GetObject(e.resource, "encounter");
  auto reference = encounter ? json::GetString(*encounter, "reference") : std::nullopt;
  if (!reference) {
    RuleIssue(c, encounter_path, rule::kContainedEncounter,
              "the encounter is required as a reference to a contained Encounter");
  } else if (!IsContainedOfType(e.resource, *reference, "Encounter")) {
    RuleIssue(c, Child(encounter_path, "reference"), rule::kContainedEncounter,
              "the encounter must reference a contained Encounter ('#id')");
  }

  bool department = false;
  if (const json::array* extensions = json::GetArray(e.resource, "extension")) {
    for (const auto& v : *extensions) {
      if (!v.is_object()) continue;
      const auto& ext = v.get_object();
      if (json::GetString(ext, "url") != kDepartmentExtension) continue;
      const json::object* value = json::GetObject(ext, "valueCodeableConcept");
      if (value != nullptr && (HasText(value) || json::GetArray(*value, "coding") != nullptr))
        department = true;
    }
  }
  if (!department) {
    RuleIssue(c, Child(e.path, "extension"), rule::kDepartment,
              "the JP_eCS_Department extension (clinical department) is required");
  }
}

void CheckCondition(const EntryContext& e, IssueCollector& c) {
  std::string code_path = Child(e.path, "code");
  const json::object* code = json::GetObject(e.resource, "code");
  bool coded = false;
  bool placeholder = false;
  ForEachCoding(code, [&](size_t, std::string_view system, std::string_view value) {
    if ((system == kDiseaseKeyNumberSystem || system == kDiseaseKeyNumberOid) &&
        IsDigits(value, 8)) {
      coded = true;
      if (value == kDiseasePlaceholder) placeholder = true;
    }
  });
  if (!coded) {
    RuleIssue(c, code_path, rule::kConditionCode,
              "a disease management number (master-disease-keyNumber, 8 digits) is required");
  } else if (placeholder && !HasText(code)) {
    RuleIssue(c, Child(code_path, "text"), rule::kPlaceholderText,
              "the uncodable disease number 99999999 requires code.text");
  }

  if (!HasKeyStartingWith(e.resource, "onset")) {
    RuleIssue(c, Child(e.path, "onset"), rule::kConditionOnset, "onset[x] is required");
  }
  // JP-FHIR.md: abatement when ended, with clinicalStatus remission/resolved. Both
  // directions are checked; other statuses (active, recurrence, relapse, inactive) take no
  // abatement.
  std::string status = ClinicalStatus(e.resource);
  bool ended = status == "remission" || status == "resolved";
  bool abated = HasKeyStartingWith(e.resource, "abatement");
  if (ended && !abated) {
    RuleIssue(c, Child(e.path, "abatement"), rule::kConditionAbatement,
              fmt::format("clinicalStatus '{}' requires abatement[x]", status));
  } else if (abated && !ended) {
    RuleIssue(c, Child(e.path, "clinicalStatus"), rule::kConditionAbatement,
              "a Condition with abatement[x] must have clinicalStatus remission or resolved");
  }
}

bool CheckObservation(const EntryContext& e, IssueCollector& c) {
  const json::array* performer = json::GetArray(e.resource, "performer");
  if (performer == nullptr || performer->empty()) {
    RuleIssue(c, Child(e.path, "performer"), rule::kObservationPerformer,
              "a performer is required");
  }
  std::string code_path = Child(e.path, "code");
  const json::object* code = json::GetObject(e.resource, "code");
  bool local = false;
  bool jlac = false;
  bool infection = false;
  bool placeholder = false;
  ForEachCoding(code, [&](size_t, std::string_view system, std::string_view value) {
    if (system == kLabLocalCodeSystem && !value.empty()) local = true;
    bool is_infection = false;
    if (IsJlacSystem(system, is_infection)) {
      // JLAC10 and JLAC11 codes are 17 characters (JLAC11 uses letters).
      if (IsUpperAlnum(value, 17)) {
        jlac = true;
        infection = infection || is_infection;
        if (value == kLabPlaceholder) placeholder = true;
      }
    }
  });
  if (!local) {
    RuleIssue(c, Child(code_path, "coding"), rule::kObservationLocalCode,
              "a local lab code (JP_CLINS_ObsLabResult_LocalCode_CS) is required");
  }
  if (!jlac) {
    RuleIssue(c, Child(code_path, "coding"), rule::kObservationLabCode,
              "a JLAC10/JLAC11 code (17 characters; 99999999999999999 when uncoded) is required");
  } else if (placeholder && !HasText(code)) {
    RuleIssue(c, Child(code_path, "text"), rule::kPlaceholderText,
              "the uncoded lab placeholder 99999999999999999 requires code.text");
  }
  return infection;
}

void CheckAllergy(const EntryContext& e, IssueCollector& c) {
  bool medication_category = false;
  if (const json::array* category = json::GetArray(e.resource, "category")) {
    for (const auto& v : *category)
      if (v.is_string() && v.get_string() == "medication") medication_category = true;
  }
  std::string code_path = Child(e.path, "code");
  const json::object* code = json::GetObject(e.resource, "code");

  bool drug_system = false;
  bool drug_coded = false;
  bool jfagy_coded = false;
  bool placeholder = false;
  std::vector<std::pair<size_t, std::string>> bad_codes;  // coding index, why
  ForEachCoding(code, [&](size_t i, std::string_view system, std::string_view value) {
    // YCM + a YJ code (check digit verified); GCM + the first 9 characters of one + ZZZ.
    bool ycm = value.size() == 15 && value.starts_with("YCM") && IsYjCode(value.substr(3));
    bool gcm = value.size() == 15 && value.starts_with("GCM") &&
               IsUpperAlnum(value.substr(3, 9), 9) && value.substr(12) == "ZZZ";
    if (system == kJfagyDrugYcmSystem || system == kJfagyDrugGcmSystem ||
        system == kJfagyDrugPlainSystem) {
      drug_system = true;
      bool ok = value == kDrugAllergyPlaceholder || (system == kJfagyDrugYcmSystem && ycm) ||
                (system == kJfagyDrugGcmSystem && gcm) ||
                (system == kJfagyDrugPlainSystem && (ycm || gcm));
      if (!ok) {
        bad_codes.emplace_back(
            i,
            "a drug allergen code is YCM + a YJ code (12, with its check digit) or GCM + 9 + ZZZ");
      } else {
        drug_coded = true;
        if (value == kDrugAllergyPlaceholder) placeholder = true;
      }
    } else if (system == kJfagyFoodSystem || system == kJfagyNonFoodSystem) {
      if (!IsUpperAlnum(value, 12)) {
        bad_codes.emplace_back(i, "a J-FAGY code has 12 characters (A-Z, 0-9)");
      } else {
        jfagy_coded = true;
        if (value == kFoodAllergyPlaceholder || value == kNonFoodAllergyPlaceholder)
          placeholder = true;
      }
    }
  });

  bool drug = medication_category || drug_system;
  std::string_view code_rule = drug ? rule::kAllergyDrugCode : rule::kAllergyOtherCode;
  for (const auto& [i, why] : bad_codes) {
    RuleIssue(c, fhir::Index(Child(code_path, "coding"), i) + ".code", code_rule, why);
  }
  if (!bad_codes.empty()) return;
  if (drug) {
    // JP-FHIR.md: drug allergies coded YCM/GCM (J-FAGY drug code systems).
    if (!drug_coded) {
      RuleIssue(c, code_path, rule::kAllergyDrugCode,
                "a drug allergy must be coded with a J-FAGY YCM or GCM drug code");
    } else if (placeholder && !HasText(code)) {
      RuleIssue(c, Child(code_path, "text"), rule::kPlaceholderText,
                "the placeholder D9M000000000 requires code.text");
    }
    return;
  }
  // Other allergies: a J-FAGY food / non-food code, or text.
  if (!jfagy_coded && !HasText(code)) {
    RuleIssue(c, code_path, rule::kAllergyOtherCode,
              "an allergy must carry a J-FAGY food or non-food code, or code.text");
  } else if (placeholder && !HasText(code)) {
    RuleIssue(c, Child(code_path, "text"), rule::kPlaceholderText,
              "the J-FAGY placeholder requires code.text");
  }
}

}  // namespace renkei::clinical
