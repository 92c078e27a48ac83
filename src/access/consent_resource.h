// A card-reader consent as a FHIR R4 Consent (http://hl7.org/fhir/R4/consent.html), owned by
// the patient and kept in the generic resource store, and the facts the decision reads back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "access/decision.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "fhir/jp_systems.h"
#include "store/store.h"

namespace renkei::access {

// The store type and the code system of the consent categories (the reader's groups).
inline constexpr std::string_view kConsentType = "Consent";
inline constexpr std::string_view kConsentCategorySystem =
    "http://renkei.jp/fhir/CodeSystem/card-consent-category";
// Medical institution codes (JP Core), the identifier system of the consented facility.
inline constexpr std::string_view kFacilityCodeSystem = fhir::kInstitutionNoSystem;

// The Consent for a card consent given at facility_code for groups, signed at signed_at:
// status active, provision permit for the facility (actor role IRCP), purpose TREAT,
// period [signed_at, signed_at + 24 h), one provision.code per group word. id and meta are
// stamped by the caller.
json::object BuildCardConsent(std::string_view patient_id, std::string_view facility_code,
                              uint8_t groups, TimePoint signed_at);

// Marks the Consent revoked at `at`: status inactive, provision.period.end = at (when earlier
// than the planned end) and the revocation instant in an extension.
void MarkRevoked(json::object& consent, TimePoint at);

// Reads back what the decision needs. kInternal when the stored resource lacks the facility,
// the dateTime or the categories written by BuildCardConsent.
Result<CardConsent> ReadCardConsent(const json::object& consent);

// The search terms of a card consent: patient (reference), category (token "card"), actor
// (facility token), status (token) and date (the signing instant, FormatInstant so that text
// comparison orders it).
std::vector<store::IndexTerm> ConsentIndexTerms(const CardConsent& consent,
                                                std::string_view patient_id);

}  // namespace renkei::access
