// An insurer's bulk load of its members (Patients) and their coverages (Coverage/$import):
// NDJSON in, one store transaction, all or nothing.
#pragma once

#include <cstdint>
#include <string_view>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::eligibility {

// A bulk load's outcome.
struct ImportSummary {
  int64_t patients_created = 0;
  int64_t patients_updated = 0;
  int64_t coverages_created = 0;
  int64_t coverages_updated = 0;
};

// Loads body for the insurer who inside one write transaction: Patients upserted by their
// insured-person identifier, Coverages by theirs, a beneficiary given as that identifier
// (logical reference) resolved to the Patient of this load or of the store. Validation,
// indexing and write policy are the registry kinds' (registry/registry_kinds.h). Any bad line
// stores nothing: kInvalid / kBusinessRule list every bad line as "line[N]..."; kForbidden
// for a non-insurer or a line about another insurer's member. One audit entry (action
// "import", purpose HOPERAT) is written with the data, or recorded as failed.
Result<ImportSummary> ImportCoverages(store::Store& store, audit::AuditLog& audit,
                                      const Clock& clock, const Limits& limits,
                                      const Principal& who, std::string_view body);

}  // namespace renkei::eligibility
