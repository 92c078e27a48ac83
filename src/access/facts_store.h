// Loading the facts of one patient for the decision (decision.h) from the store.
#pragma once

#include <string_view>

#include "access/decision.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::access {

// The facts for deciding reads of this patient's data at `now`, in three indexed queries:
// the patient's card consents that may be open (signed within the last 24 hours; revoked ones
// included so that the decision can say so) and their restrictions (both on the patient-first
// key), and the disaster declarations not yet ended. nurses_may_view stays false: it is the
// requesting facility's setting, the caller's to fill. facts.now = now.
Result<AccessFacts> LoadFacts(store::Transaction& tx, std::string_view patient_id, TimePoint now);

}  // namespace renkei::access
