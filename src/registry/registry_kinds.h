// The five registry resource kinds (facilities, practitioners, their roles, patients and
// their insurance), with the identifier systems of JP-FHIR.md.
//
// Search parameters (besides _id and _lastUpdated):
//   Organization:     identifier (token, value folded by text::SearchKey), type (token,
//                     facility-type), name (string), prefecture (token, "01".."47")
//   Practitioner:     identifier (token, folded), name (string), qualification (token)
//   PractitionerRole: practitioner (reference), organization (reference), role (token,
//                     qualification), active (token "true"/"false")
//   Patient:          identifier (token, folded), name (string: kanji and kana, every part
//                     and the whole name), birthdate (date), gender (token)
//   Coverage:         identifier (token, JP_Insurance_memberID folded), beneficiary
//                     (reference "Patient/<id>"), payor (reference "Organization/<id>" of the
//                     insurer, also when the payor was given by insurer-number identifier),
//                     status (token)
#pragma once

#include <vector>

#include "registry/resource_kind.h"

namespace renkei::registry {

ResourceKind OrganizationKind();
ResourceKind PractitionerKind();
ResourceKind PractitionerRoleKind();
ResourceKind PatientKind();
ResourceKind CoverageKind();

// All five, in an order where referenced kinds come before referring ones (Organization,
// Practitioner, PractitionerRole, Patient, Coverage); transactions write in this order.
std::vector<ResourceKind> RegistryKinds();

}  // namespace renkei::registry
