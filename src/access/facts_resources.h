// The stored forms of the other facts the decision reads (decision.h): the patient's
// restrictions as a FHIR Consent with deny provisions, and a disaster declaration as a FHIR
// Basic resource (R4 has no resource for it).
#pragma once

#include <string_view>
#include <vector>

#include "access/decision.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::access {

// Consent.category code (kConsentCategorySystem) telling card consents from restrictions.
inline constexpr std::string_view kCardConsentCategory = "card";
inline constexpr std::string_view kRestrictionsCategory = "restrictions";
// Index term of both kinds of Consent: the instant until which it can bind a decision (card
// consents: signed + 24 hours; restrictions: kForever), so LoadFacts reads both in one query.
inline constexpr std::string_view kInForceUntilParam = "in-force-until";
inline constexpr std::string_view kForever = "9999-12-31T23:59:59.999Z";
// Basic.code of a disaster declaration, and the store type holding it.
inline constexpr std::string_view kDisasterType = "Basic";
inline constexpr std::string_view kDisasterCode = "disaster-declaration";
inline constexpr std::string_view kRenkeiCodeSystem = "http://renkei.jp/fhir/CodeSystem/access";

// The patient's restrictions (DESIGN.md §5) as a Consent: policyRule OPTOUT when opted out
// (else OPTIN); the base provision denies when opted out or when an allow list exists, and
// nested provisions permit the allowed facilities, deny the blocked ones and deny the hidden
// items (provision.data, meaning instance).
json::object BuildRestrictions(std::string_view patient_id, const PatientRestrictions& r,
                               TimePoint at);
// Reads back exactly what BuildRestrictions wrote. kInternal on a malformed stored resource.
Result<PatientRestrictions> ReadRestrictions(const json::object& consent);
std::vector<store::IndexTerm> RestrictionIndexTerms(std::string_view patient_id);

// A disaster declaration: prefectures (extension, repeated) and period [start, end).
json::object BuildDeclaration(const DisasterDeclaration& d, std::string_view declared_by,
                              TimePoint at);
Result<DisasterDeclaration> ReadDeclaration(const json::object& basic);
// code (token) and end (the period end, FormatInstant) so that only live ones are queried.
std::vector<store::IndexTerm> DeclarationIndexTerms(const DisasterDeclaration& d);

}  // namespace renkei::access
