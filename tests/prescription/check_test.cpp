// Limits of one check, and the period arithmetic the decision table relies on.
#include "prescription/check.h"

#include <gtest/gtest.h>

#include "test_master.h"

namespace renkei::prescription {
namespace {

using std::chrono::days;

const Date kToday = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20};

CandidateItem Candidate(std::string code) {
  CandidateItem c;
  c.code = std::move(code);
  c.start = kToday;
  c.days_supply = 7;
  return c;
}

TEST(CheckLimitsTest, CandidatesBeyondTheLimitAreRefused) {
  auto master = testing::ShippedMaster();
  CheckRequest r;
  r.check_date = kToday;
  r.candidates.assign(kMaxCandidates, Candidate("2171022F2025"));
  auto at_limit = RunCheck(*master, r);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->items.size(), kMaxCandidates);
  r.candidates.push_back(Candidate("2171022F2025"));
  auto over = RunCheck(*master, r);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kTooLarge);
}

TEST(CheckLimitsTest, HistoryBeyondTheLimitIsRefused) {
  auto master = testing::ShippedMaster();
  CheckRequest r;
  r.check_date = kToday;
  r.requesting_facility = "2710000017";
  r.details_allowed = true;
  r.candidates.push_back(Candidate("2171022F2041"));
  HistoryItem h;
  h.code = "2171022F2025";
  h.facility = "1310000029";
  h.start = kToday;
  h.days_supply = 7;
  r.history.assign(kMaxHistory, h);
  auto at_limit = RunCheck(*master, r);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->items[0].alerts.size(), kMaxHistory);
  r.history.push_back(h);
  auto over = RunCheck(*master, r);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kTooLarge);
}

TEST(CheckPeriodTest, LastDayTaken) {
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 1, RouteClass::kInternal), kToday);
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 7, RouteClass::kInternal), kToday + days(6));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 7, RouteClass::kInjection), kToday + days(6));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kAsNeeded, 3, RouteClass::kInternal), kToday + days(13));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kExternal, 0, RouteClass::kExternal), kToday + days(13));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 30, RouteClass::kExternal), kToday + days(13));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 30, RouteClass::kDental), kToday + days(13));
  EXPECT_EQ(LastDayTaken(kToday, Usage::kDaysSupply, 0, RouteClass::kInternal), kToday + days(13));
}

TEST(CheckPeriodTest, RepeatedChecksGiveTheSameAnswer) {
  auto master = testing::ShippedMaster();
  CheckRequest r;
  r.check_date = kToday;
  r.details_allowed = true;
  r.candidates = {Candidate("2590018F2026"), Candidate("2171018K1039")};
  auto first = RunCheck(*master, r);
  auto second = RunCheck(*master, r);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(first->items.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(first->items[i].alerts.size(), 1u);
    ASSERT_EQ(second->items[i].alerts.size(), 1u);
    EXPECT_EQ(first->items[i].alerts[0].detail->other_code,
              second->items[i].alerts[0].detail->other_code);
  }
}

}  // namespace
}  // namespace renkei::prescription
