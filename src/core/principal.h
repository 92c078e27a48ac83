// Who is acting: the result of verifying an access token. Carried with every request.
#pragma once

#include <string>

namespace renkei {

enum class FacilityType {
  kHospital,
  kClinic,
  kDentalClinic,
  kPharmacy,
  kFireDepartment,
  kInsurer,
  kMinistry,
  kResearch,
};

enum class Qualification { kPhysician, kDentist, kPharmacist, kNurse, kParamedic, kClerk, kNone };

enum class PrincipalKind {
  kPractitioner,  // a practitioner acting at a facility (SMART Backend Services token)
  kPatient,       // the patient themself (portal login by card challenge)
  kSystem,        // a facility system acting without a practitioner (insurer bulk load)
};

struct Principal {
  PrincipalKind kind = PrincipalKind::kPractitioner;
  std::string subject;        // token subject: practitioner id, patient id or client id
  std::string facility_code;  // 10-digit medical institution code (or insurer/ministry code)
  FacilityType facility_type = FacilityType::kClinic;
  std::string prefecture;           // "01".."47"
  bool emergency_hospital = false;  // hospital receiving emergency patients
  bool nurses_may_view = false;     // the facility lets its nurses view clinical information
  std::string practitioner_id;      // empty unless kind == kPractitioner
  Qualification qualification = Qualification::kNone;
  std::string token_id;  // jti of the access token, for audit correlation
};

// Stable lower-case spellings used in tokens, manifests and audit: "hospital", "physician"...
std::string_view ToString(FacilityType t);
std::string_view ToString(Qualification q);
bool ParseFacilityType(std::string_view text, FacilityType& out);
bool ParseQualification(std::string_view text, Qualification& out);

// Qualified staff may view clinical data (DOMAIN.md §3, Safety Management Guideline 6.0);
// clerks see eligibility only.
bool IsClinicallyQualified(Qualification q);

}  // namespace renkei
