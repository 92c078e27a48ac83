// The identifier systems, code systems and extensions the registries speak (JP-FHIR.md;
// JP Core where it has one, renkei's own under http://renkei.jp/fhir/ where it has none).
#pragma once

#include <string_view>

#include "fhir/jp_systems.h"

namespace renkei::registry {

// Insured person: insurer(8):symbol:number:branch (JP-CLINS; JP-FHIR.md "Identifiers").
inline constexpr std::string_view kMemberIdSystem = fhir::kMemberIdSystem;
// 10-digit medical institution code: prefecture(2) point table(1) institution(7).
inline constexpr std::string_view kInstitutionNoSystem = fhir::kInstitutionNoSystem;
// Insurer number (保険者番号), JP Core insurerNumber; renkei keeps it at 8 digits.
inline constexpr std::string_view kInsurerNumberSystem = fhir::kInsurerNumberSystem;
// Codes of bodies with no institution or insurer number (fire departments, the ministry,
// research bodies): 10 digits, the first two the prefecture ("00" for national bodies).
inline constexpr std::string_view kFacilityCodeSystem =
    "http://renkei.jp/fhir/IdSystem/facility-code";
// Medical registration number (医籍登録番号).
inline constexpr std::string_view kMedicalRegistrationSystem = fhir::kMedicalRegistrationSystem;

// Facility types with the spellings of core/principal.h (hospital, clinic, dental-clinic,
// pharmacy, fire-department, insurer, ministry, research).
inline constexpr std::string_view kFacilityTypeSystem =
    "http://renkei.jp/fhir/CodeSystem/facility-type";
// Qualifications with the spellings of core/principal.h (physician ... clerk).
inline constexpr std::string_view kQualificationSystem =
    "http://renkei.jp/fhir/CodeSystem/qualification";
// Prefecture of an Organization (JP Core extension; valueCoding in PrefectureNo-2digits).
inline constexpr std::string_view kPrefectureExtension =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_PrefectureNo";
inline constexpr std::string_view kPrefectureSystem =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/PrefectureNo-2digits";
// valueBoolean: the hospital receives emergency patients (救急告示病院), DOMAIN.md §1.
inline constexpr std::string_view kEmergencyHospitalExtension =
    "http://renkei.jp/fhir/StructureDefinition/emergency-hospital";
// valueBoolean: the facility lets its nurses view clinical information (issue "Access policy",
// legal basis 2: "and nurses, when the facility enables it").
inline constexpr std::string_view kNursesMayViewExtension =
    "http://renkei.jp/fhir/StructureDefinition/nurses-may-view";
// HumanName representation: IDE (kanji) / SYL (kana), as JP Core names carry it.
inline constexpr std::string_view kNameRepresentationExtension =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
// High-cost medical expense category (限度額適用区分): valueCoding in kHighCostCategorySystem.
inline constexpr std::string_view kHighCostCategoryExtension =
    "http://renkei.jp/fhir/StructureDefinition/high-cost-category";
inline constexpr std::string_view kHighCostCategorySystem =
    "http://renkei.jp/fhir/CodeSystem/high-cost-category";
// Copayment as a percentage (Coverage.costToBeneficiary.type).
inline constexpr std::string_view kCopayTypeSystem =
    "http://terminology.hl7.org/CodeSystem/coverage-copay-type";
inline constexpr std::string_view kAdministrativeGenderSystem =
    "http://hl7.org/fhir/administrative-gender";

}  // namespace renkei::registry
