// Prometheus metrics of the HTTP layer (text exposition format 0.0.4). Series are labelled by
// route PATTERN, never by concrete path (paths carry patient ids). Recording is lock-free:
// every series is a preallocated atomic counter.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/request.h"

namespace renkei::http {

class Metrics {
 public:
  // Histogram upper bounds in seconds (the +Inf bucket is implicit).
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  // One slot per route of the table (labelled with its pattern and method) plus one per
  // method for requests that matched no route (route="unmatched").
  explicit Metrics(const RouteTable& routes);
  ~Metrics();

  size_t RouteSlot(size_t route_index) const { return route_index; }
  size_t UnmatchedSlot(Method method) const;
  // Slot for methods outside Method (e.g. TRACE), labelled method="OTHER".
  size_t UnmatchedOtherSlot() const;

  // Counts one finished request in a slot: status and duration.
  void Record(size_t slot, int status, std::chrono::nanoseconds duration);
  void AddRateLimited() { rate_limited_.fetch_add(1, std::memory_order_relaxed); }
  void AddInFlight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  void AddConnections(int delta) { connections_.fetch_add(delta, std::memory_order_relaxed); }

  // The whole exposition, "text/plain; version=0.0.4".
  std::string Render() const;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kStatusCount = 500;  // 100..599
  struct Slot {
    std::string route;   // pattern, already escaped for a label value
    std::string method;  // "GET"
    std::array<std::atomic<uint64_t>, kStatusCount> statuses{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> sum_ns{0};
    std::atomic<uint64_t> count{0};
  };

  std::vector<std::unique_ptr<Slot>> slots_;
  size_t unmatched_base_ = 0;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> connections_{0};
  std::atomic<uint64_t> rate_limited_{0};
};

}  // namespace renkei::http
