// Loading the facts of one patient for the decision (decision.h) from the store.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

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

// The live disaster declarations are the same for every patient and change a few times a year,
// yet every decision needs them: a server keeps them for `ttl` (steady time) instead of reading
// them for each read. A declaration made on this server is seen at once (Invalidate); one made
// on another node within ttl. Ended declarations need no invalidation: Decide checks each
// declaration's period against now. Thread-safe.
class DeclarationCache {
 public:
  explicit DeclarationCache(std::chrono::milliseconds ttl = std::chrono::seconds(1));
  // The declarations not ended at the time they were read (from tx when the copy is older
  // than ttl or invalidated).
  Result<std::vector<DisasterDeclaration>> Get(store::Transaction& tx, TimePoint now);
  void Invalidate();

 private:
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::shared_ptr<const std::vector<DisasterDeclaration>> cached_;
  std::chrono::steady_clock::time_point loaded_{};
};

// LoadFacts with the declarations taken from the cache (nullptr: read them, as LoadFacts does).
Result<AccessFacts> LoadFacts(store::Transaction& tx, std::string_view patient_id, TimePoint now,
                              DeclarationCache* declarations);

}  // namespace renkei::access
