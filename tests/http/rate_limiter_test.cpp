#include "http/rate_limiter.h"

#include <gtest/gtest.h>

namespace renkei::http {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, BurstThenRefusedThenRecovers) {
  RateLimiter limiter(2.0, 3.0);
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("ip:1", t0), 0);
  EXPECT_EQ(limiter.Acquire("ip:1", t0), 0);
  EXPECT_EQ(limiter.Acquire("ip:1", t0), 0);
  EXPECT_EQ(limiter.Acquire("ip:1", t0), 1);  // empty: retry after 0.5 s, rounded up
  EXPECT_EQ(limiter.Acquire("ip:1", t0 + milliseconds(100)), 1);
  EXPECT_EQ(limiter.Acquire("ip:1", t0 + milliseconds(600)), 0);  // one token refilled
  EXPECT_EQ(limiter.Acquire("ip:1", t0 + milliseconds(600)), 1);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter(1.0, 1.0);
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("sub:a", t0), 0);
  EXPECT_NE(limiter.Acquire("sub:a", t0), 0);
  EXPECT_EQ(limiter.Acquire("sub:b", t0), 0);
}

TEST(RateLimiterTest, RetryAfterReflectsSlowRate) {
  RateLimiter limiter(0.1, 1.0);
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("k", t0), 0);
  EXPECT_EQ(limiter.Acquire("k", t0), 10);
}

TEST(RateLimiterTest, DisabledAdmitsEverything) {
  RateLimiter limiter(0, 1);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.Acquire("k", t0), 0);
}

TEST(RateLimiterTest, BoundedNumberOfClients) {
  // More clients than the table holds: old full buckets are evicted, limiting still works.
  RateLimiter limiter(1.0, 1.0, 64 * 16);
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(limiter.Acquire("ip:" + std::to_string(i), t0 + std::chrono::seconds(i)), 0);
  }
  auto t1 = t0 + std::chrono::seconds(6000);
  EXPECT_EQ(limiter.Acquire("ip:x", t1), 0);
  EXPECT_NE(limiter.Acquire("ip:x", t1), 0);
}

}  // namespace
}  // namespace renkei::http
