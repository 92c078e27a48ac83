// JP-CLINS systems, codes and rule ids shared by the clinical validators (JP-FHIR.md
// "Identifiers", "Code systems", "Dummy codes").
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "fhir/jp_systems.h"
#include "fhir/validation.h"

namespace renkei::clinical {

// Identifier and extension systems.
inline constexpr std::string_view kBundleIdentifierSystem =
    "http://jpfhir.jp/fhir/clins/bundle-identifier";
inline constexpr std::string_view kBundleProfile =
    "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
inline constexpr std::string_view kBundleResourceTypeSystem =
    "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
inline constexpr std::string_view kInsuredPersonSystem = fhir::kMemberIdSystem;
inline constexpr std::string_view kFacilitySystem = fhir::kInstitutionNoSystem;
inline constexpr std::string_view kPatientLocalIdSystemPrefix = "urn:oid:1.2.392.100495.20.3.51.1";
inline constexpr std::string_view kInstitutionNumberExtension =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
inline constexpr std::string_view kDepartmentExtension =
    "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department";
inline constexpr std::string_view kFlagSystem =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

// Code systems of the items.
inline constexpr std::string_view kDiseaseKeyNumberSystem =
    "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
inline constexpr std::string_view kDiseaseKeyNumberOid = "urn:oid:1.2.392.200119.4.101.2";
inline constexpr std::string_view kLabLocalCodeSystem =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
inline constexpr std::string_view kJlac10System =
    "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
inline constexpr std::string_view kJlac10Oid = "urn:oid:1.2.392.200119.4.504";
inline constexpr std::string_view kJfagyFoodSystem =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
inline constexpr std::string_view kJfagyNonFoodSystem =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
inline constexpr std::string_view kJfagyDrugYcmSystem =
    "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
inline constexpr std::string_view kJfagyDrugGcmSystem =
    "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS";
// Seen in a published example without the YCM/GCM folder; accepted when the code itself
// says YCM or GCM.
inline constexpr std::string_view kJfagyDrugPlainSystem =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyMedicationAllergen_CS";

// JP-CLINS placeholders, accepted only with a text (JP-FHIR.md "Dummy codes").
inline constexpr std::string_view kDiseasePlaceholder = "99999999";
inline constexpr std::string_view kLabPlaceholder = "99999999999999999";
inline constexpr std::string_view kDrugAllergyPlaceholder = "D9M000000000";
inline constexpr std::string_view kFoodAllergyPlaceholder = "D9F000000000";
inline constexpr std::string_view kNonFoodAllergyPlaceholder = "D9N000000000";

// Rule ids: each issue's text starts with "[<rule id>] ". The guide's own R-code numbering is
// not reproduced here; these ids name the rules of JP-FHIR.md one by one.
namespace rule {
inline constexpr std::string_view kBundleType = "renkei:bundle-type";
inline constexpr std::string_view kBundleProfile = "renkei:bundle-profile";
inline constexpr std::string_view kBundleResourceTag = "renkei:bundle-resource-tag";
inline constexpr std::string_view kBundleIdentifier = "renkei:bundle-identifier";
inline constexpr std::string_view kSenderFacility = "renkei:sender-facility";
inline constexpr std::string_view kFirstEntryPatient = "renkei:first-entry-patient";
inline constexpr std::string_view kInsuredPersonId = "renkei:insured-person-id";
inline constexpr std::string_view kEntryResourceType = "renkei:entry-resource-type";
inline constexpr std::string_view kReferenceScope = "renkei:reference-scope";
inline constexpr std::string_view kSubjectPatient = "renkei:subject-patient";
inline constexpr std::string_view kInstitutionNumber = "renkei:institution-number";
inline constexpr std::string_view kLocalIdFacility = "renkei:local-id-facility";
inline constexpr std::string_view kNameFullWidthSpace = "renkei:name-fullwidth-space";
inline constexpr std::string_view kFlagCode = "renkei:flag-code";
inline constexpr std::string_view kFlagPlacement = "renkei:flag-placement";
inline constexpr std::string_view kContainedEncounter = "renkei:contained-encounter";
inline constexpr std::string_view kDepartment = "renkei:department";
inline constexpr std::string_view kConditionCode = "renkei:condition-code";
inline constexpr std::string_view kConditionOnset = "renkei:condition-onset";
inline constexpr std::string_view kConditionAbatement = "renkei:condition-abatement";
inline constexpr std::string_view kObservationPerformer = "renkei:observation-performer";
inline constexpr std::string_view kObservationLocalCode = "renkei:observation-local-code";
inline constexpr std::string_view kObservationLabCode = "renkei:observation-lab-code";
inline constexpr std::string_view kAllergyDrugCode = "renkei:allergy-drug-code";
inline constexpr std::string_view kAllergyOtherCode = "renkei:allergy-other-code";
inline constexpr std::string_view kPlaceholderText = "renkei:placeholder-text";
}  // namespace rule

// Records a business-rule issue whose text names the rule: "[rule] text".
void RuleIssue(fhir::IssueCollector& c, std::string path, std::string_view rule_id,
               std::string_view text);

// ^[0-4][0-9][1-3][0-9]{7}$ (JP-CLINS facility number).
bool IsClinsFacilityCode(std::string_view code);
// ^[0-9]{8}:[^:\s　]*:[^:\s　]*:(|[0-9]{2})$ (insured-person identifier).
bool IsInsuredPersonId(std::string_view value);
// Splits `facility^year^localid` checked against the JP-FHIR.md regex.
bool ParseBundleIdentifier(std::string_view value, std::string& facility, int& year,
                           std::string& local_id);
// A YJ code: 12 characters A-Z/0-9 whose last is the check digit of JP-FHIR.md "YJ code"
// (weights 6,5,4,3,2,7,6,5,4,3,2; letters A-I 1-9, J-R 1-9, S-Z 2-9; 10 written as 0).
bool IsYjCode(std::string_view code);
// True when text contains U+3000 (ideographic space).
bool HasFullWidthSpace(std::string_view text);
// True when every character is an ASCII digit and the length is n.
bool IsDigits(std::string_view text, size_t n);
// True when every character is A-Z or 0-9 and the length is n.
bool IsUpperAlnum(std::string_view text, size_t n);

// Each coding object of a CodeableConcept (skipping malformed elements).
template <typename F>
void ForEachCoding(const json::object* concept_object, F&& f) {
  if (concept_object == nullptr) return;
  const json::array* codings = json::GetArray(*concept_object, "coding");
  if (codings == nullptr) return;
  for (size_t i = 0; i < codings->size(); ++i) {
    if (!(*codings)[i].is_object()) continue;
    const auto& coding = (*codings)[i].get_object();
    f(i, json::GetString(coding, "system").value_or(""),
      json::GetString(coding, "code").value_or(""));
  }
}

}  // namespace renkei::clinical
