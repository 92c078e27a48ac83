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
