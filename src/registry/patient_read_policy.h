// Who may read and write registry data. The patient read decision sits in ONE function,
// DecidePatientRead, which the access-policy module (consent, emergency, disaster) replaces.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/principal.h"
#include "core/status.h"
#include "registry/resource_kind.h"
#include "store/store.h"

namespace renkei::registry {

// May who read the patient-owned row? Returns the purpose of use for the audit entry:
// the patient themself -> PATRQT; the ministry -> HOPERAT; an insurer -> COVERAGE for
// Coverage it pays and Patients it covers; clinically qualified practitioners (physician,
// dentist, pharmacist, nurse, paramedic) -> TREAT. Clerks and everyone else: kForbidden.
Result<std::string> DecidePatientRead(const Principal& who, store::Transaction& tx,
                                      const store::ResourceRow& row);

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
