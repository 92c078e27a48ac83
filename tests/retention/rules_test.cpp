// The retention table (rules.h) with explicit instants: every rule just before and exactly at
// its boundary, LTS, the "last 3" ranks, and the search bound agreeing with the rule.
#include "retention/rules.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace renkei::retention {
namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::seconds;

TimePoint At(const char* text) {
  auto t = ParseDateTime(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(TimePoint{});
}

// Not expired one microsecond before `boundary`, expired at it.
void ExpectBoundary(RecordFacts facts, TimePoint boundary, Rule rule) {
  Verdict before = Evaluate(facts, boundary - microseconds(1));
  EXPECT_FALSE(before.expired) << InfoOf(rule).id;
  Verdict at = Evaluate(facts, boundary);
  EXPECT_TRUE(at.expired) << InfoOf(rule).id;
  EXPECT_EQ(at.rule, rule);
  EXPECT_EQ(at.why, "expired");
}

TEST(RetentionRules, AddJapanYearsCountsCalendarYearsInJapanTime) {
  EXPECT_EQ(AddJapanYears(At("2020-06-01T01:00:00Z"), 5), At("2025-06-01T01:00:00Z"));
  // 1 January 05:00 in Japan is still 31 December in UTC: the year counts in Japan.
  EXPECT_EQ(AddJapanYears(At("2020-12-31T20:00:00Z"), 5), At("2025-12-31T20:00:00Z"));
  // A leap day becomes the start of 1 March (Japan) when the target year has none.
  EXPECT_EQ(AddJapanYears(At("2024-02-29T10:00:00+09:00"), 1), At("2025-03-01T00:00:00+09:00"));
  EXPECT_EQ(AddJapanYears(At("2024-02-29T10:00:00+09:00"), 4), At("2028-02-29T10:00:00+09:00"));
  // Five years contain one or two leap days.
  EXPECT_EQ(AddJapanYears(At("2021-03-01T00:00:00Z"), 5) - At("2021-03-01T00:00:00Z"),
            days(365 * 5 + 1));
}

TEST(RetentionRules, ItemsFiveYearsFromRegistration) {
  const TimePoint registered = At("2021-04-10T03:15:00Z");
  for (RecordKind kind : {RecordKind::kCondition, RecordKind::kAllergy, RecordKind::kInfection}) {
    RecordFacts f;
    f.kind = kind;
    f.registered = registered;
    ExpectBoundary(f, At("2026-04-10T03:15:00Z"), Rule::kItemFiveYears);
  }
}

TEST(RetentionRules, LtsKeepsAnItemWhateverItsAge) {
  RecordFacts f;
  f.kind = RecordKind::kCondition;
  f.registered = At("2000-01-01T00:00:00Z");
  f.lts = true;
  Verdict v = Evaluate(f, At("2090-01-01T00:00:00Z"));
  EXPECT_FALSE(v.expired);
  EXPECT_EQ(v.why, "kept: LTS");
  EXPECT_FALSE(v.age_expiry.has_value());
}

TEST(RetentionRules, LabResultsOneYearByEffectiveDateAndTheLastThreeKept) {
  RecordFacts f;
  f.kind = RecordKind::kLabResult;
  f.registered = At("2025-03-01T00:00:00Z");
  f.effective = At("2025-02-20T00:30:00Z");  // 2025-02-20 09:30 in Japan
  f.rank = 4;
  ExpectBoundary(f, At("2026-02-20T00:30:00Z"), Rule::kLabOneYear);
  // Among the last 3 of its item: kept however old.
  for (int rank = 1; rank <= kKeepNewest; ++rank) {
    f.rank = rank;
    Verdict v = Evaluate(f, At("2040-01-01T00:00:00Z"));
    EXPECT_FALSE(v.expired) << rank;
    EXPECT_EQ(v.why, "kept: among the last 3");
  }
  // An unknown rank keeps it too.
  f.rank = 0;
  EXPECT_FALSE(Evaluate(f, At("2040-01-01T00:00:00Z")).expired);
  // Without an effective date the registration counts.
  f.rank = 5;
  f.effective.reset();
  ExpectBoundary(f, At("2026-03-01T00:00:00Z"), Rule::kLabOneYear);
}

TEST(RetentionRules, DocumentPrescriptionsHundredDaysAndTheLastThreeKept) {
  RecordFacts f;
  f.kind = RecordKind::kDocumentPrescription;
  f.registered = At("2026-01-05T00:00:00Z");
  f.effective = At("2026-01-01T02:00:00Z");
  f.rank = 4;
  ExpectBoundary(f, At("2026-01-01T02:00:00Z") + days(100), Rule::kDocumentPrescription);
  f.rank = 3;
  EXPECT_FALSE(Evaluate(f, At("2030-01-01T00:00:00Z")).expired);
}

TEST(RetentionRules, ReferralLetters) {
  RecordFacts f;
  f.kind = RecordKind::kReferralLetter;
  f.registered = At("2026-01-01T00:00:00Z");
  // Never retrieved: 180 days after submission.
  ExpectBoundary(f, At("2026-01-01T00:00:00Z") + days(180), Rule::kReferralUnretrieved);
  // Retrieved on day 179: the retrieval decides, 7 days later (past the 180 days).
  f.retrieved = At("2026-01-01T00:00:00Z") + days(179);
  EXPECT_FALSE(Evaluate(f, At("2026-01-01T00:00:00Z") + days(180)).expired);
  ExpectBoundary(f, *f.retrieved + days(7), Rule::kReferralRetrieved);
  // Retrieved at once: gone 7 days later, long before the 180 days.
  f.retrieved = At("2026-01-01T06:00:00Z");
  ExpectBoundary(f, At("2026-01-08T06:00:00Z"), Rule::kReferralRetrieved);
}

TEST(RetentionRules, CheckupReportsFiveYears) {
  RecordFacts f;
  f.kind = RecordKind::kCheckupReport;
  f.registered = At("2021-07-01T05:00:00Z");
  ExpectBoundary(f, At("2026-07-01T05:00:00Z"), Rule::kCheckupFiveYears);
}

TEST(RetentionRules, PrescriptionRecordsHundredDaysAfterTheLastDayOfUse) {
  RecordFacts f;
  f.kind = RecordKind::kPrescriptionRecord;
  f.first_day = Date(std::chrono::year{2025} / 1 / 1);
  f.days_supply = 30;
  // Last day 31 January; kept through 11 May; expired when 12 May begins in Japan.
  ExpectBoundary(f, At("2025-05-12T00:00:00+09:00"), Rule::kPrescriptionRecord);
  // Without a days' supply the first day counts.
  f.days_supply = 0;
  ExpectBoundary(f, At("2025-04-12T00:00:00+09:00"), Rule::kPrescriptionRecord);
  // Without a first day nothing can be said: kept.
  f.first_day.reset();
  EXPECT_FALSE(Evaluate(f, At("2090-01-01T00:00:00Z")).expired);
}

TEST(RetentionRules, PrescriptionBundleGoesWhenNoItemIsLeft) {
  RecordFacts f;
  f.kind = RecordKind::kPrescriptionBundle;
  f.registered = At("2025-01-01T00:00:00Z");
  ExpectBoundary(f, At("2025-01-01T00:00:00Z") + days(100), Rule::kPrescriptionBundle);
  f.items_left = true;
  Verdict v = Evaluate(f, At("2030-01-01T00:00:00Z"));
  EXPECT_FALSE(v.expired);
  EXPECT_EQ(v.why, "kept: some of its items are left");
}

// The sweeper searches with LatestExpiredAnchor: it must be exactly the last expired anchor.
TEST(RetentionRules, LatestExpiredAnchorIsTheExactInverse) {
  std::mt19937_64 rng(20261121);
  std::uniform_int_distribution<int64_t> span(0, int64_t{40} * 365 * 86400);
  const TimePoint base = At("2010-01-01T00:00:00Z");
  std::vector<TimePoint> nows = {At("2029-03-01T00:00:00+09:00"), At("2028-02-29T23:59:59+09:00"),
                                 At("2029-02-28T15:00:00Z")};
  for (int i = 0; i < 200; ++i) {
    nows.push_back(base + seconds(span(rng)) + microseconds(span(rng) % 1000000));
  }
  for (int r = 0; r < kRuleCount; ++r) {
    const Rule rule = static_cast<Rule>(r);
    for (TimePoint now : nows) {
      TimePoint anchor = LatestExpiredAnchor(rule, now);
      if (rule == Rule::kPrescriptionRecord) {
        // Anchors are Japan dates at UTC midnight: the next one is a day later.
        EXPECT_LE(ExpiresAt(rule, anchor), now) << InfoOf(rule).id;
        EXPECT_GT(ExpiresAt(rule, anchor + days(1)), now) << InfoOf(rule).id;
        continue;
      }
      EXPECT_LE(ExpiresAt(rule, anchor), now) << InfoOf(rule).id << " " << FormatInstant(now);
      EXPECT_GT(ExpiresAt(rule, anchor + microseconds(1)), now)
          << InfoOf(rule).id << " " << FormatInstant(now);
    }
  }
}

TEST(RetentionRules, EveryRuleHasItsOwnIdTextAndSource) {
  std::set<std::string_view> ids;
  for (int r = 0; r < kRuleCount; ++r) {
    const RuleInfo& info = InfoOf(static_cast<Rule>(r));
    EXPECT_FALSE(info.text.empty());
    EXPECT_FALSE(info.source.empty());
    EXPECT_TRUE(ids.insert(info.id).second) << info.id;
  }
}

}  // namespace
}  // namespace renkei::retention
