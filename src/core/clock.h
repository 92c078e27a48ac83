// Time. Services take a Clock so that tests and `renkei retention run --now` can set it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace renkei {

using TimePoint = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// Wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A settable clock for tests and simulated time; thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_us_(start.time_since_epoch().count()) {}
  TimePoint Now() const override;
  void Set(TimePoint t) { now_us_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::microseconds d) { now_us_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_us_;
};

// FHIR instant in UTC with milliseconds: 2026-11-21T05:26:54.123Z.
std::string FormatInstant(TimePoint t);
// FHIR date: 2026-11-21 (UTC).
std::string FormatDate(TimePoint t);
// Parses a FHIR dateTime/instant ("2026-11-21", "2026-11-21T05:26:54Z",
// "2026-11-21T14:26:54+09:00", with optional fraction). Partial dates (YYYY, YYYY-MM) are
// taken at their start.
std::optional<TimePoint> ParseDateTime(std::string_view text);
// Seconds since the epoch, for JWT claims.
int64_t ToUnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(int64_t s);

}  // namespace renkei
