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
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      if (Status s = RunOnce(); !s.ok()) {
        // A failed sweep is retried at the next interval; nothing depends on it in between.
        log::Warn("housekeeping.failed", {{"error", s.error().ToString()}});
      }
      if (Status s = RunRetentionIfDue(); !s.ok()) {
        // Batches committed before the failure stay committed; the next run continues.
        log::Warn("retention.failed", {{"error", s.error().ToString()}});
      }
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    }
  });
}

void Housekeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace renkei::app
