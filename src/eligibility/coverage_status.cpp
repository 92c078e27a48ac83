#include "eligibility/coverage_status.h"

namespace renkei::eligibility {
namespace {

constexpr auto kJapanOffset = std::chrono::hours(9);

// A period bound reduced to a comparable date prefix: "YYYY", "YYYY-MM" or "YYYY-MM-DD" are
// kept at their precision; a dateTime becomes its date in Japan. "" when malformed.
std::string BoundDate(std::string_view bound) {
  if (bound.size() == 4 || bound.size() == 7 || bound.size() == 10) {
    return ParseDateTime(bound) ? std::string(bound) : std::string();
  }
  auto t = ParseDateTime(bound);
  if (!t) return {};
  return JapanDate(*t);
}

std::string EndOf(const json::object& coverage) {
  const json::object* period = json::GetObject(coverage, "period");
  if (!period) return {};
  auto end = json::GetString(*period, "end");
  return end ? BoundDate(*end) : std::string();
}

}  // namespace

std::string_view ToString(Eligibility e) {
  switch (e) {
    case Eligibility::kEligible:
      return "eligible";
    case Eligibility::kLapsed:
      return "lapsed";
    case Eligibility::kNotYetValid:
      return "not-yet-valid";
    case Eligibility::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string JapanDate(TimePoint now) {
  return FormatDate(now + kJapanOffset);
}

Eligibility Evaluate(const json::object& coverage, std::string_view date) {
  auto status = json::GetString(coverage, "status");
  if (!status) return Eligibility::kUnknown;
  if (*status == "cancelled") return Eligibility::kLapsed;
  if (*status != "active") return Eligibility::kUnknown;
  if (const json::object* period = json::GetObject(coverage, "period")) {
    // Compare at the bound's own precision: a coverage ending "2026-03" covers all of March.
    if (auto start = json::GetString(*period, "start")) {
      std::string s = BoundDate(*start);
      if (s.empty()) return Eligibility::kUnknown;
      if (date.substr(0, s.size()) < s) return Eligibility::kNotYetValid;
    }
    if (auto end = json::GetString(*period, "end")) {
      std::string e = BoundDate(*end);
      if (e.empty()) return Eligibility::kUnknown;
      if (date.substr(0, e.size()) > e) return Eligibility::kLapsed;
    }
  }
  return Eligibility::kEligible;
}

int ChooseCoverage(const std::vector<const json::object*>& coverages, std::string_view date) {
  int not_yet = -1;
  int lapsed = -1;
  std::string lapsed_end;
  for (size_t i = 0; i < coverages.size(); ++i) {
    switch (Evaluate(*coverages[i], date)) {
      case Eligibility::kEligible:
        return static_cast<int>(i);
      case Eligibility::kNotYetValid:
        if (not_yet < 0) not_yet = static_cast<int>(i);
        break;
      case Eligibility::kLapsed: {
        std::string end = EndOf(*coverages[i]);
        if (lapsed < 0 || end > lapsed_end) {
          lapsed = static_cast<int>(i);
          lapsed_end = std::move(end);
        }
        break;
      }
      case Eligibility::kUnknown:
        break;
    }
  }
  return not_yet >= 0 ? not_yet : lapsed;
}

}  // namespace renkei::eligibility
