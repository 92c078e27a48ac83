// The duplicate-medication (重複投薬) and contraindicated-combination (併用禁忌) check:
// a pure function of the patient's medication history, the candidate items, the request's
// flags and a drug master. No I/O, no clock: the caller passes the check date.
// Rules: issue 4 "The check", JP-FHIR.md "How the national check of prescriptions works".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "prescription/drug_master.h"

namespace renkei::prescription {

using Date = std::chrono::sys_days;

// History older than this many days before the check date does not count (the national
// service keeps and checks the last 100 days).
constexpr int kHistoryWindowDays = 100;
// Days a drug counts as "being taken" when its days' supply cannot be computed.
constexpr int kUncomputableSupplyDays = 14;

// How the taking period of an item is known: a days' supply, or as-needed (頓用) or
// external use, which count kUncomputableSupplyDays. Drugs of the external and dental
// route classes always count kUncomputableSupplyDays, whatever the usage says.
enum class Usage : uint8_t { kDaysSupply, kAsNeeded, kExternal };

enum class RecordKind : uint8_t { kPrescription, kDispensing };
std::string_view ToString(RecordKind kind);

// One prescription or dispensing item already registered for the patient.
struct HistoryItem {
  std::string code;      // YJ or general-name code
  std::string facility;  // 10-digit facility code that registered it
  RecordKind kind = RecordKind::kPrescription;
  std::string record_id;        // id of the prescription or dispensing it belongs to
  std::string prescription_id;  // dispensings: the prescription dispensed (empty: paper)
  Date start{};                 // first day taken
  Usage usage = Usage::kDaysSupply;
  int days_supply = 0;  // with kDaysSupply; < 1 counts as uncomputable (14 days)
};

// One item to be prescribed or dispensed.
struct CandidateItem {
  std::string code;
  Date start{};
  Usage usage = Usage::kDaysSupply;
  int days_supply = 0;  // with kDaysSupply: 1..kMaxDaysSupply
};

// Longest accepted days' supply of a candidate.
constexpr int kMaxDaysSupply = 365;
// Most candidate items / history items one check accepts.
constexpr size_t kMaxCandidates = 100;
constexpr size_t kMaxHistory = 2000;

struct CheckRequest {
  std::vector<HistoryItem> history;
  std::vector<CandidateItem> candidates;
  std::string requesting_facility;
  bool include_own_facility = false;
  // Consent or another legal basis of the access policy: only then are details shown.
  bool details_allowed = false;
  // When dispensing: the prescription being dispensed is left out of the history.
  std::string exclude_prescription_id;
  Date check_date{};
};

enum class AlertKind : uint8_t { kDuplicate, kContraindication };
std::string_view ToString(AlertKind kind);

// What an alert points at; present only when details are allowed.
struct AlertDetail {
  bool other_is_candidate = false;   // candidate × candidate contraindication
  size_t other_candidate_index = 0;  // when other_is_candidate
  std::string other_code;
  std::string other_name;      // product name from the master
  std::string other_facility;  // empty for a candidate
  RecordKind other_kind = RecordKind::kPrescription;
  std::string other_record_id;
  Date other_start{};
  Date other_end{};  // last day taken (inclusive)
  // Duplicates: the shared ingredients. Contraindications: the candidate's and the other
  // drug's ingredient of the rule, in that order.
  std::vector<std::string> ingredients;
  std::string stated_in;    // contraindications: the rule's source
  std::string rule_status;  // contraindications: excerpt-confirmed | to-verify
};

struct Alert {
  AlertKind kind = AlertKind::kDuplicate;
  std::optional<AlertDetail> detail;
};

// Alerts of one candidate item. Without details there is at most one alert per kind and
// no detail, so neither the other drug, its facility nor the number of matches shows.
struct ItemResult {
  size_t candidate_index = 0;
  std::string code;
  std::vector<Alert> alerts;
};

struct CheckResult {
  std::string master_version;
  bool details_shown = false;
  std::vector<ItemResult> items;  // one per candidate, in request order
  // History items left out because their code is not in this master (e.g. delisted).
  size_t unresolved_history = 0;
};

// Runs the check (rules and exact boundaries: src/prescription/README.md). Taking periods
// are closed day ranges [start, LastDayTaken]; periods sharing a day overlap, periods that
// only touch (one ends on D, the other starts on D+1) do not. Errors: kInvalid/kBusinessRule for a
// candidate whose code is refused (message and issue expression name "candidates[i]"), kInvalid for
// a bad days' supply, kTooLarge past kMaxCandidates/kMaxHistory.
Result<CheckResult> RunCheck(const DrugMaster& master, const CheckRequest& request);

// Last day (inclusive) an item counts as being taken, from its start, usage and route.
Date LastDayTaken(Date start, Usage usage, int days_supply, RouteClass route);

}  // namespace renkei::prescription
