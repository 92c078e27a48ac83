#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace renkei::http {

RateLimiter::RateLimiter(double per_second, double burst, size_t max_clients)
    : per_second_(per_second),
      burst_(std::max(burst, 1.0)),
      max_per_shard_(std::max<size_t>(max_clients / kShards, 16)),
      shards_(std::make_unique<std::array<Shard, kShards>>()) {}

int RateLimiter::Acquire(std::string_view key, TimePoint now) {
  if (!enabled()) return 0;
  Shard& shard = (*shards_)[Hash()(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Evict(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  if (now > b.last) {
    std::chrono::duration<double> elapsed = now - b.last;
    b.tokens = std::min(burst_, b.tokens + elapsed.count() * per_second_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = (1.0 - b.tokens) / per_second_;
  return static_cast<int>(std::clamp(std::ceil(wait), 1.0, 86400.0));
}

void RateLimiter::Evict(Shard& shard, TimePoint now) {
  // A bucket that has refilled to full carries no state worth keeping.
  std::chrono::duration<double> refill(burst_ / per_second_);
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    if (now - it->second.last >= refill) {
      it = shard.buckets.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (many clients active at once): forget one arbitrary client, which can only
  // make that client's limit more lenient, never stricter.
  if (shard.buckets.size() >= max_per_shard_) shard.buckets.erase(shard.buckets.begin());
}

}  // namespace renkei::http
