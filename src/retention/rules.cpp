#include "retention/rules.h"

#include <array>

namespace renkei::retention {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;

// Japan Standard Time has no daylight saving time: a day there is always 24 hours, so the day
// counts below are plain durations.
constexpr hours kJapanOffset{9};

constexpr std::array<RuleInfo, kRuleCount> kRules = {{
    {"item-5y",
     "Condition, AllergyIntolerance and infection Observation: 5 years from registration, not "
     "while flagged LTS",
     "DOMAIN.md §2 six items (retention 5 years; long-term flag), issue 5 Retention"},
    {"lab-1y-last-3",
     "Lab-result Observation: 1 year from its effective date (registration when absent); the "
     "last 3 results per item and patient are kept",
     "DOMAIN.md §2 six items (1 year, or the last 3 results), issue 5 Retention"},
    {"document-prescription-100d-last-3",
     "Prescription taken from a document: 100 days from authoredOn (submission when absent); "
     "the patient's last 3 are kept",
     "DOMAIN.md §2 six items (100 days, or the last 3), issue 5 Retention"},
    {"referral-retrieved-7d", "Referral letter: 7 days after the addressee retrieved it",
     "DOMAIN.md §2 documents (deleted about 1 week after retrieval), issue 5 (7 days)"},
    {"referral-unretrieved-180d", "Referral letter never retrieved: 180 days after submission",
     "DOMAIN.md §2 documents (6 months when not retrieved), issue 5 (180 days)"},
    {"checkup-5y", "Checkup report: 5 years from submission",
     "DOMAIN.md §2 documents (5 years), issue 5 Retention"},
    {"prescription-record-100d",
     "Prescription or dispensing record: 100 days after its last day of use (first day taken + "
     "days' supply)",
     "DOMAIN.md §1 electronic prescriptions (the last 100 days are shown), issue 4 History and "
     "retention"},
    {"prescription-bundle-100d",
     "Prescription document: when none of its items is left and it is 100 days old",
     "issue 4 History and retention"},
}};

TimePoint AddDays(TimePoint t, int n) {
  return t + days(n);
}

int Years(Rule rule) {
  switch (rule) {
    case Rule::kItemFiveYears:
    case Rule::kCheckupFiveYears:
      return 5;
    case Rule::kLabOneYear:
      return 1;
    default:
      return 0;
  }
}

int Days(Rule rule) {
  switch (rule) {
    case Rule::kDocumentPrescription:
    case Rule::kPrescriptionBundle:
      return 100;
    case Rule::kReferralRetrieved:
      return 7;
    case Rule::kReferralUnretrieved:
      return 180;
    default:
      return 0;
  }
}

// Shared by the two "newest N kept" rules.
Verdict AgeAndRank(Rule rule, TimePoint anchor, int rank, TimePoint now) {
  Verdict v;
  v.rule = rule;
  v.age_expiry = ExpiresAt(rule, anchor);
  if (now < *v.age_expiry) {
    v.why = "kept: younger than the retention period";
  } else if (rank == 0) {
    v.why = "kept: its rank among the newest is unknown";
  } else if (rank <= kKeepNewest) {
    v.why = "kept: among the last 3";
  } else {
    v.expired = true;
    v.why = "expired";
  }
  return v;
}

Verdict ByAge(Rule rule, TimePoint anchor, TimePoint now) {
  Verdict v;
  v.rule = rule;
  v.age_expiry = ExpiresAt(rule, anchor);
  v.expired = now >= *v.age_expiry;
  v.why = v.expired ? "expired" : "kept: younger than the retention period";
  return v;
}

}  // namespace

const RuleInfo& InfoOf(Rule rule) {
  return kRules[static_cast<size_t>(rule)];
}

Date JapanDay(TimePoint t) {
  return std::chrono::floor<days>(t + kJapanOffset);
}

TimePoint AddJapanYears(TimePoint t, int years) {
  const TimePoint local = t + kJapanOffset;
  const Date day = std::chrono::floor<days>(local);
  const microseconds time_of_day = local - day;
  const std::chrono::year_month_day ymd =
      std::chrono::year_month_day(day) + std::chrono::years(years);
  if (!ymd.ok()) {
    // Only 29 February can be missing in the target year: keep until 1 March begins.
    const Date march_first = std::chrono::sys_days(ymd.year() / std::chrono::March / 1);
    return TimePoint(march_first) - kJapanOffset;
  }
  return TimePoint(std::chrono::sys_days(ymd)) + time_of_day - kJapanOffset;
}

TimePoint ExpiresAt(Rule rule, TimePoint anchor) {
  if (rule == Rule::kPrescriptionRecord) {
    // The record matters through its last day of use and the 100 days after it; it expires
    // when the 101st day after that begins in Japan.
    const Date last = std::chrono::floor<days>(anchor);
    return TimePoint(last + days(101)) - kJapanOffset;
  }
  if (int years = Years(rule); years > 0) return AddJapanYears(anchor, years);
  return AddDays(anchor, Days(rule));
}

TimePoint LatestExpiredAnchor(Rule rule, TimePoint now) {
  if (rule == Rule::kPrescriptionRecord) return TimePoint(JapanDay(now) - days(101));
  const int years = Years(rule);
  if (years == 0) return AddDays(now, -Days(rule));
  // AddJapanYears is non-decreasing, so the expired anchors are exactly those up to some
  // instant; n calendar years last between 365n days and 366n days plus a day, which brackets
  // it: lo is expired, hi is not. Bisection to the microsecond.
  TimePoint lo = now - days(366 * years + 2);
  TimePoint hi = now - days(365 * years) + microseconds(1);
  while (hi - lo > microseconds(1)) {
    const TimePoint mid = lo + (hi - lo) / 2;
    if (AddJapanYears(mid, years) <= now) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Verdict Evaluate(const RecordFacts& f, TimePoint now) {
  switch (f.kind) {
    case RecordKind::kCondition:
    case RecordKind::kAllergy:
    case RecordKind::kInfection: {
      if (f.lts) {
        // "Longer with LTS": kept for as long as the registering facility keeps the flag
        // (re-sending the item without it starts its 5 years from that registration).
        return Verdict{false, Rule::kItemFiveYears, "kept: LTS", std::nullopt};
      }
      return ByAge(Rule::kItemFiveYears, f.registered, now);
    }
    case RecordKind::kLabResult:
      return AgeAndRank(Rule::kLabOneYear, f.effective.value_or(f.registered), f.rank, now);
    case RecordKind::kDocumentPrescription:
      return AgeAndRank(Rule::kDocumentPrescription, f.effective.value_or(f.registered), f.rank,
                        now);
    case RecordKind::kReferralLetter:
      // Retrieval decides once it happened, even when it came late (day 179: 7 more days).
      if (f.retrieved) return ByAge(Rule::kReferralRetrieved, *f.retrieved, now);
      return ByAge(Rule::kReferralUnretrieved, f.registered, now);
    case RecordKind::kCheckupReport:
      return ByAge(Rule::kCheckupFiveYears, f.registered, now);
    case RecordKind::kPrescriptionRecord: {
      if (!f.first_day) {
        return Verdict{false, Rule::kPrescriptionRecord, "kept: no first day known", std::nullopt};
      }
      const Date last = *f.first_day + days(f.days_supply > 0 ? f.days_supply : 0);
      return ByAge(Rule::kPrescriptionRecord, TimePoint(last), now);
    }
    case RecordKind::kPrescriptionBundle: {
      Verdict v = ByAge(Rule::kPrescriptionBundle, f.registered, now);
      if (v.expired && f.items_left) {
        v.expired = false;
        v.why = "kept: some of its items are left";
      }
      return v;
    }
  }
  return Verdict{false, Rule::kItemFiveYears, "kept: unknown kind", std::nullopt};
}

}  // namespace renkei::retention
