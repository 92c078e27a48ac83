// Whether a Coverage covers a service date (Coverage.status and Coverage.period, FHIR R4
// http://hl7.org/fhir/R4/coverage.html), in Japan time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace renkei::eligibility {

enum class Eligibility { kEligible, kLapsed, kNotYetValid, kUnknown };

// "eligible", "lapsed", "not-yet-valid", "unknown" (the reason codes of $verify-eligibility).
std::string_view ToString(Eligibility e);

// Today's date in Japan (JST, UTC+9, no daylight saving) as YYYY-MM-DD: the day a reception
// desk means by "today".
std::string JapanDate(TimePoint now);

// The coverage's state on date (YYYY-MM-DD): cancelled or ended before the date is lapsed,
// starting after it is not yet valid; entered-in-error and draft coverages are unknown.
// Period bounds with a time are taken at their date in Japan.
Eligibility Evaluate(const json::object& coverage, std::string_view date);

// The index of the coverage that decides the answer among several for one person: one valid on
// the date, else one not yet valid (a successor exists), else a lapsed one (the latest
// ending), else -1 (all unknown).
int ChooseCoverage(const std::vector<const json::object*>& coverages, std::string_view date);

}  // namespace renkei::eligibility
