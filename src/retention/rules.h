// The retention rules (DOMAIN.md §2 tables, issue 5 "Retention", issue 4 "History and
// retention") as a pure table: given what is known of one stored record and `now`, whether it
// has expired and by which rule. No I/O; the sweeper (sweeper.h) gathers the facts.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace renkei::retention {

// A calendar day in Japan (UTC+9), as the prescription records count days.
using Date = std::chrono::sys_days;

// One rule of the table. Each has a stable id recorded in audit entries.
enum class Rule : uint8_t {
  kItemFiveYears,         // Condition, AllergyIntolerance, infection Observation: 5 years
  kLabOneYear,            // lab Observation: 1 year, the last 3 per item kept
  kDocumentPrescription,  // prescription taken from documents: 100 days, the last 3 kept
  kReferralRetrieved,     // referral letter: 7 days after its retrieval
  kReferralUnretrieved,   // referral letter never retrieved: 180 days after submission
  kCheckupFiveYears,      // checkup report: 5 years after submission
  kPrescriptionRecord,    // issue 4 MedicationRequest/MedicationDispense: 100 days after use
  kPrescriptionBundle,    // issue 4 prescription Bundle: no item left and 100 days old
};
inline constexpr int kRuleCount = 8;

struct RuleInfo {
  std::string_view id;      // stable, e.g. "item-5y"; the audit detail's "rule"
  std::string_view text;    // one line for people (docs/RETENTION.md has the same table)
  std::string_view source;  // where the rule comes from
};
const RuleInfo& InfoOf(Rule rule);

// What a record is, for the table.
enum class RecordKind : uint8_t {
  kCondition,
  kAllergy,
  kInfection,             // Observation coded with a JP-CLINS infection code system
  kLabResult,             // any other registered Observation
  kDocumentPrescription,  // store type DocumentMedicationRequest
  kReferralLetter,        // DocumentBundle, Composition type 57133-1
  kCheckupReport,         // DocumentBundle, Composition type 53576-5
  kPrescriptionRecord,    // store types MedicationRequest / MedicationDispense (issue 4)
  kPrescriptionBundle,    // store type Bundle (issue 4 prescription)
};

// How many of the newest results are kept whatever their age (lab results per item,
// document prescriptions per patient).
inline constexpr int kKeepNewest = 3;

// The facts one rule needs; fields a kind does not use are ignored.
struct RecordFacts {
  RecordKind kind = RecordKind::kCondition;
  // When the record was stored: registration (items), submission (documents), last update
  // (prescription Bundle).
  TimePoint registered{};
  bool lts = false;  // JP_ehrshrs_indication LTS flag (items)
  // Lab effective instant / document prescription authoredOn; `registered` when absent.
  std::optional<TimePoint> effective;
  // 1 = newest among the same lab item of the patient (lab) or among the patient's document
  // prescriptions; 0 = unknown, and an unknown rank keeps the record.
  int rank = 0;
  std::optional<TimePoint> retrieved;  // referral letters: when the addressee retrieved it
  std::optional<Date> first_day;       // prescription records: first day taken (Japan)
  int days_supply = 0;                 // prescription records: 0 when unknown
  bool items_left = false;             // prescription Bundle: an item row still exists
};

struct Verdict {
  bool expired = false;
  Rule rule = Rule::kItemFiveYears;  // the rule that decided, whether it deletes or keeps
  std::string_view why;              // "expired", "kept: LTS", "kept: among the last 3" ...
  // When age alone makes the record expire; nullopt when nothing of age would (LTS, no item
  // facts).
  std::optional<TimePoint> age_expiry;
};

// Applies the rule of facts.kind at now.
Verdict Evaluate(const RecordFacts& facts, TimePoint now);

// t plus `years` calendar years counted in Japan time (UTC+9): the same local date and time of
// day `years` later. A 29 February that does not exist in the target year becomes the start of
// 1 March, so the result never falls before a full calendar period and the function stays
// non-decreasing in t.
TimePoint AddJapanYears(TimePoint t, int years);

// The date in Japan of an instant.
Date JapanDay(TimePoint t);

// For the age rules anchored on one instant: the first instant at which a record with this
// anchor is expired by age. The anchors: registration (kItemFiveYears), effective or
// registration (kLabOneYear), authoredOn or submission (kDocumentPrescription), retrieval
// (kReferralRetrieved), submission (kReferralUnretrieved, kCheckupFiveYears), last update
// (kPrescriptionBundle), and for kPrescriptionRecord the last day of use (first day taken +
// days' supply) given as that Japan date's UTC midnight, the way prescription index terms
// write dates.
TimePoint ExpiresAt(Rule rule, TimePoint anchor);

// The latest anchor that is expired by age at now: anchor <= LatestExpiredAnchor(rule, now)
// exactly when ExpiresAt(rule, anchor) <= now. The sweeper's searches use it as their bound.
TimePoint LatestExpiredAnchor(Rule rule, TimePoint now);

}  // namespace renkei::retention
