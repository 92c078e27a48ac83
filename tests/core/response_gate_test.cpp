// The response gate: a response waits for every piece of held work, hears the first failure,
// and without an open scope nothing is held.
#include "core/response_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace renkei {
namespace {

TEST(ResponseGateTest, NothingHeldSettlesAtOnce) {
  auto gate = ResponseGate::Make();
  std::optional<Status> got;
  gate->OnSettled([&](Status s) { got = std::move(s); });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok());
}

TEST(ResponseGateTest, SettlesOnlyAfterEveryHeldPieceCompleted) {
  auto gate = ResponseGate::Make();
  auto first = gate->Hold();
  auto second = gate->Hold();
  int calls = 0;
  gate->OnSettled([&](Status s) {
    ++calls;
    EXPECT_TRUE(s.ok());
  });
  EXPECT_EQ(calls, 0);
  first(Ok());
  EXPECT_EQ(calls, 0);
  second(Ok());
  EXPECT_EQ(calls, 1);
}

TEST(ResponseGateTest, WorkDoneBeforeTheHandlerReturnedSettlesOnRegistration) {
  auto gate = ResponseGate::Make();
  gate->Hold()(Ok());
  bool settled = false;
  gate->OnSettled([&](Status s) { settled = s.ok(); });
  EXPECT_TRUE(settled);
}

TEST(ResponseGateTest, TheFirstFailureIsReported) {
  auto gate = ResponseGate::Make();
  auto a = gate->Hold();
  auto b = gate->Hold();
  auto c = gate->Hold();
  std::optional<Status> got;
  gate->OnSettled([&](Status s) { got = std::move(s); });
  a(Ok());
  b(Error(ErrorCode::kUnavailable, "first"));
  c(Error(ErrorCode::kInternal, "second"));
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(got->error().message(), "first");
}

TEST(ResponseGateTest, ScopeOpensTheGateForThisThreadOnlyAndRestoresTheOuterOne) {
  EXPECT_EQ(ResponseGate::Current(), nullptr);
  auto outer = ResponseGate::Make();
  auto inner = ResponseGate::Make();
  {
    ResponseGate::Scope a(outer);
    EXPECT_EQ(ResponseGate::Current(), outer.get());
    std::thread([] { EXPECT_EQ(ResponseGate::Current(), nullptr); }).join();
    {
      ResponseGate::Scope b(inner);
      EXPECT_EQ(ResponseGate::Current(), inner.get());
    }
    EXPECT_EQ(ResponseGate::Current(), outer.get());
  }
  EXPECT_EQ(ResponseGate::Current(), nullptr);
}

TEST(ResponseGateTest, CompletionsFromManyThreadsSettleExactlyOnce) {
  for (int round = 0; round < 50; ++round) {
    auto gate = ResponseGate::Make();
    std::vector<ResponseGate::Completion> held;
    for (int i = 0; i < 8; ++i) held.push_back(gate->Hold());
    std::atomic<int> calls{0};
    gate->OnSettled([&](Status) { ++calls; });
    std::vector<std::thread> threads;
    for (auto& done : held) threads.emplace_back([&done] { done(Ok()); });
    for (auto& t : threads) t.join();
    EXPECT_EQ(calls.load(), 1);
  }
}

TEST(ResponseGateTest, ACompletionKeepsTheGateAlive) {
  ResponseGate::Completion done;
  bool settled = false;
  {
    auto gate = ResponseGate::Make();
    done = gate->Hold();
    gate->OnSettled([&](Status s) { settled = s.ok(); });
  }
  done(Ok());
  EXPECT_TRUE(settled);
}

}  // namespace
}  // namespace renkei
