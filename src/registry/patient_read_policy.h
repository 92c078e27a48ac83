// Who may write registry data, and the insurer lookups the policies need. Reads of
// patient-owned data are decided by access::Decide (read_access.h), not here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/principal.h"
#include "core/status.h"
#include "registry/resource_kind.h"
#include "store/store.h"

namespace renkei::registry {

// Refuses, before any search, principals who may read no patient record at all (clerks).
Status CheckPatientSearch(const Principal& who);

// Organization, Practitioner, PractitionerRole: only the ministry writes.
Status DirectoryWritePolicy(WriteContext& ctx, const json::object& resource);
// Any authenticated principal reads directory entries; purpose HOPERAT (not audited).
Result<std::string> DirectoryReadPolicy(const Principal& who, store::Transaction& tx,
                                        const store::ResourceRow& row);
// Patient: insurers and the ministry write.
Status PatientWritePolicy(WriteContext& ctx, const json::object& resource);
// Coverage: the ministry, and insurers whose own insurer number is the payor.
Status CoverageWritePolicy(WriteContext& ctx, const json::object& resource);

// Coverage searches by an insurer are limited to its own Coverage (payor = its insurer
// Organization); nullopt when its Organization is not registered. No criteria for others.
Result<std::optional<std::vector<store::Criterion>>> CoverageSearchScope(const Principal& who,
                                                                         store::Transaction& tx);

// The id of the insurer Organization with this insurer number, or nullopt (memoized in ctx
// when given).
Result<std::optional<std::string>> InsurerOrganizationId(store::Transaction& tx,
                                                         std::string_view insurer_number);
// The insurer number a Coverage's payor[0] names (by identifier, or by reference to an
// insurer Organization), or nullopt when it names none.
Result<std::optional<std::string>> PayorInsurerNumber(store::Transaction& tx,
                                                      const json::object& coverage);

}  // namespace renkei::registry
