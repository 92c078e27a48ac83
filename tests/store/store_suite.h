// The store conformance suite's shared fixture: every test runs once per engine (SQLite and
// PostgreSQL) against a fresh, migrated database (STYLE.md: one shared test header for all
// back ends; engine differences are Capabilities flags, never skips).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/store.h"
#include "support/test_db.h"

namespace renkei::store {

class StoreTest : public ::testing::TestWithParam<testing::Engine> {
 protected:
  void SetUp() override { store_ = testing::MakeTestStore(GetParam()); }
  void TearDown() override { store_.reset(); }

  std::unique_ptr<Transaction> BeginOrDie(TxMode mode) {
    auto tx = store_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << (tx.ok() ? "" : tx.error().ToString());
    return tx.ok() ? std::move(tx).value() : nullptr;
  }

  std::unique_ptr<Store> store_;
};

inline TimePoint At(int64_t seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

inline ResourceRow MakeRow(std::string type, std::string id, std::string patient,
                           TimePoint at = At(1'700'000'000), std::string json = "{}") {
  ResourceRow r;
  r.type = std::move(type);
  r.id = std::move(id);
  r.patient_id = std::move(patient);
  r.last_updated = at;
  r.json = std::move(json);
  return r;
}

inline std::string EngineParamName(const ::testing::TestParamInfo<testing::Engine>& info) {
  return testing::EngineName(info.param);
}

#define RENKEI_INSTANTIATE_STORE_SUITE(suite)                                    \
  INSTANTIATE_TEST_SUITE_P(AllEngines, suite,                                    \
                           ::testing::ValuesIn(::renkei::testing::AllEngines()), \
                           ::renkei::store::EngineParamName)

// Fails the test with the error text when a Status/Result is not ok.
#define RK_ASSERT_OK(expr)                                                                \
  do {                                                                                    \
    const auto& rk_assert_ok_ = (expr);                                                   \
    ASSERT_TRUE(rk_assert_ok_.ok()) << #expr << ": " << rk_assert_ok_.error().ToString(); \
  } while (0)
#define RK_EXPECT_OK(expr)                                                                \
  do {                                                                                    \
    const auto& rk_expect_ok_ = (expr);                                                   \
    EXPECT_TRUE(rk_expect_ok_.ok()) << #expr << ": " << rk_expect_ok_.error().ToString(); \
  } while (0)

}  // namespace renkei::store
