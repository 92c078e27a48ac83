// The server's background upkeep: spent one-time values (card and assertion nonces) and old
// idempotency outcomes are deleted on a schedule, so the tables that guard against replays
// and double writes stay the size of their windows instead of growing forever; and the
// retention sweeper of patient data (retention/) runs on its own, longer schedule.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::app {

struct HousekeepingOptions {
  std::chrono::seconds interval{600};
  // How long a retried request with the same X-Request-Id gets the first answer back.
  std::chrono::hours idempotency_retention{24};
  // The retention sweep of patient data, run at start and then every retention_interval
  // (checked at each upkeep); unset: not run by this server.
  std::function<Status(TimePoint now)> retention;
  std::chrono::seconds retention_interval{3600};
};

class Housekeeper {
 public:
  Housekeeper(store::Store& store, const Clock& clock, HousekeepingOptions options = {});
  ~Housekeeper();  // stops the sweeper

  // One sweep at the clock's now, in one write transaction (retried like any other).
  Status RunOnce();
  // The retention sweep, when one is set and it is due (always on the first call).
  Status RunRetentionIfDue();
  // Sweeps every interval on a thread of its own until Stop(); the first sweep runs at once.
  void Start();
  void Stop();

 private:
  store::Store& store_;
  const Clock& clock_;
  HousekeepingOptions options_;
  std::optional<std::chrono::steady_clock::time_point> last_retention_;
  PeriodicThread thread_;  // last: stopped before the members its job uses go
};

}  // namespace renkei::app
