// The retention sweep deletes spent nonces and idempotency outcomes past their window, on both
// engines, once on demand and on its own thread.
#include "app/housekeeping.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/test_db.h"

namespace renkei::app {
namespace {

using renkei::testing::Engine;

class HousekeepingTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    Status s = store::RunInTransaction(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          auto used = tx.UseNonce("card", "spent", clock_.Now());
          if (!used.ok()) return used.error();
          RK_TRY(tx.PutIdempotent("fhir-create", "old", "first", clock_.Now()));
          return Ok();
        });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  // Whether the nonce is free again and the idempotency outcome forgotten.
  std::pair<bool, bool> Swept() {
    bool nonce_free = false, outcome_gone = false;
    Status s = store::RunInTransaction(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          auto got = tx.GetIdempotent("fhir-create", "old");
          if (!got.ok()) return got.error();
          outcome_gone = !got->has_value();
          auto used = tx.UseNonce("card", "spent", clock_.Now() + std::chrono::hours(1));
          if (!used.ok()) return used.error();
          nonce_free = *used;
          return Ok();
        });
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return {nonce_free, outcome_gone};
  }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<store::Store> store_;
};

TEST_P(HousekeepingTest, KeepsWhatIsInsideItsWindow) {
  Housekeeper keeper(*store_, clock_);
  clock_.Advance(std::chrono::hours(23));
  ASSERT_TRUE(keeper.RunOnce().ok());
  auto [nonce_free, outcome_gone] = Swept();
  EXPECT_TRUE(nonce_free);  // the nonce expired when it was spent (its expiry was then)
  EXPECT_FALSE(outcome_gone);
}

TEST_P(HousekeepingTest, ForgetsOutcomesOlderThanTheRetention) {
  Housekeeper keeper(*store_, clock_);
  clock_.Advance(std::chrono::hours(25));
  ASSERT_TRUE(keeper.RunOnce().ok());
  EXPECT_TRUE(Swept().second);
}

TEST_P(HousekeepingTest, SweepsOnItsOwnThreadAndStops) {
  clock_.Advance(std::chrono::hours(48));
  HousekeepingOptions options;
  options.interval = std::chrono::seconds(3600);
  Housekeeper keeper(*store_, clock_, options);
  keeper.Start();  // the first sweep runs at once
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {  // bounded: 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gone = Swept().second;
  }
  keeper.Stop();
  EXPECT_TRUE(gone);
}

INSTANTIATE_TEST_SUITE_P(Engines, HousekeepingTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::app
