// Requests per second per client, as token buckets (DESIGN.md §3.4). Keys are the token's
// subject for authenticated calls and the client IP otherwise; the caller builds them.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace renkei::http {

class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `per_second` tokens refill each second up to `burst`; per_second <= 0 disables limiting.
  // At most max_clients buckets are kept; full (idle) buckets are evicted first.
  RateLimiter(double per_second, double burst, size_t max_clients = 1 << 17);

  // Takes one token from key's bucket at `now`. Returns 0 when the request is admitted,
  // else the whole seconds (>= 1) until a token is available, for Retry-After.
  int Acquire(std::string_view key, TimePoint now);

  bool enabled() const { return per_second_ > 0; }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Sharded so that concurrent clients rarely meet on one mutex; each critical section is a
  // hash lookup and a few floating-point operations.
  struct alignas(64) Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets;
  };
  static constexpr size_t kShards = 64;

  void Evict(Shard& shard, TimePoint now);

  double per_second_;
  double burst_;
  size_t max_per_shard_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
};

}  // namespace renkei::http
