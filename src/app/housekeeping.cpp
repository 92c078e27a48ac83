#include "app/housekeeping.h"

#include "core/log.h"

namespace renkei::app {

Housekeeper::Housekeeper(store::Store& store, const Clock& clock, HousekeepingOptions options)
    : store_(store), clock_(clock), options_(options) {}

Housekeeper::~Housekeeper() {
  Stop();
}

Status Housekeeper::RunOnce() {
  const TimePoint now = clock_.Now();
  return store::RunInTransaction(store_, store::TxMode::kWrite,
                                 [&](store::Transaction& tx) -> Status {
                                   RK_TRY(tx.PurgeNonces(now));
                                   return tx.PurgeIdempotency(now - options_.idempotency_retention);
                                 });
}

Status Housekeeper::RunRetentionIfDue() {
  if (!options_.retention) return Ok();
  const auto now = std::chrono::steady_clock::now();
  if (last_retention_ && now - *last_retention_ < options_.retention_interval) return Ok();
  last_retention_ = now;
  return options_.retention(clock_.Now());
}

void Housekeeper::Start() {
  thread_.Start(std::chrono::duration_cast<std::chrono::milliseconds>(options_.interval), [this] {
    if (Status s = RunOnce(); !s.ok()) {
      // A failed sweep is retried at the next interval; nothing depends on it in between.
      log::Warn("housekeeping.failed", {{"error", s.error().ToString()}});
    }
    if (Status s = RunRetentionIfDue(); !s.ok()) {
      // Batches committed before the failure stay committed; the next run continues.
      log::Warn("retention.failed", {{"error", s.error().ToString()}});
    }
  });
}

void Housekeeper::Stop() {
  thread_.Stop();
}

}  // namespace renkei::app
