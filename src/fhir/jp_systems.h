// The Japanese identifier systems every module speaks (JP-FHIR.md "Identifiers"); defined once
// here so that a registry, a validator and an audit view can never disagree on a URL.
#pragma once

#include <string_view>

namespace renkei::fhir {

// Insured person: insurer(8):symbol:number:branch (JP-CLINS).
inline constexpr std::string_view kMemberIdSystem =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
// 10-digit medical institution code: prefecture(2) point table(1) institution(7).
inline constexpr std::string_view kInstitutionNoSystem =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
// Insurer number (保険者番号), JP Core insurerNumber; 8 digits.
inline constexpr std::string_view kInsurerNumberSystem = "urn:oid:1.2.392.100495.20.3.61";
// Medical registration number (医籍登録番号).
inline constexpr std::string_view kMedicalRegistrationSystem =
    "http://jpfhir.jp/fhir/core/mhlw/IdSystem/medicalRegistrationNumber";

}  // namespace renkei::fhir
