// The FHIR R4 AuditEvent view of an audit entry (http://hl7.org/fhir/R4/auditevent.html): what
// the ministry's audit search and the patient's access history show.
#pragma once

#include <string_view>

#include "core/json.h"
#include "fhir/jp_systems.h"
#include "store/store.h"

namespace renkei::audit {

// Code systems renkei defines itself (the purposes and actions HL7 has no code for).
inline constexpr std::string_view kPurposeSystem =
    "http://renkei.jp/fhir/CodeSystem/purpose-of-use";
inline constexpr std::string_view kActionSystem = "http://renkei.jp/fhir/CodeSystem/audit-action";
inline constexpr std::string_view kQualificationSystem =
    "http://renkei.jp/fhir/CodeSystem/qualification";
inline constexpr std::string_view kAuditDetailType = "renkei-detail";
// HL7 systems used by the view.
inline constexpr std::string_view kActReasonSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ActReason";
inline constexpr std::string_view kFacilitySystem = fhir::kInstitutionNoSystem;

// The AuditEvent for row: id = seq; type/subtype from the action; outcome 0 (success),
// 4 (denied) or 8 (error); agents for the practitioner (or patient) and the facility;
// purposeOfUse in v3-ActReason (DISASTER also in the renkei system); entities for the patient
// and the category; source renkei.
json::object ToAuditEvent(const store::AuditRow& row);

// The purposeOfUse CodeableConcept for a purpose code.
json::object PurposeConcept(std::string_view purpose);

}  // namespace renkei::audit
