// The auth module's PrincipalResolver: turns (practitioner, facility code) into the Principal
// a token will carry, from the registry.
#pragma once

#include <string_view>

#include "core/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::registry {

// Finds the Organization whose identifier (institution code, insurer number or facility
// code) is facility_code and an active PractitionerRole linking the practitioner to it;
// fills facility type, prefecture, emergency flag and the role's qualification (kind
// kPractitioner, subject = practitioner_id). kForbidden when the practitioner holds no active
// role there; kNotFound when no such facility or practitioner is registered. One read
// transaction with two index lookups and two reads.
Result<Principal> ResolvePrincipal(store::Store& store, std::string_view practitioner_id,
                                   std::string_view facility_code);

}  // namespace renkei::registry
