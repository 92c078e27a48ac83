// Parsing of an insurer's NDJSON coverage load (one Patient or Coverage resource per line)
// before anything is written: every line is checked, and every problem is reported with its
// line number at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/limits.h"
#include "core/status.h"
#include "eligibility/insured_number.h"
#include "fhir/jp_systems.h"

namespace renkei::eligibility {

// The body limit of $import (Route::max_body_bytes): 100,000 coverages with their patients
// are about 150 MB of NDJSON.
inline constexpr size_t kMaxImportBytes = size_t{512} * 1024 * 1024;
// The insurer-number identifier system (保険者番号) of Coverage.payor (JP Core).
inline constexpr std::string_view kInsurerNumberSystem = fhir::kInsurerNumberSystem;

struct ImportLine {
  size_t line = 0;   // 1-based line number in the body
  std::string type;  // "Patient" or "Coverage"
  json::object resource;
  std::string member_key;  // search key of the insured-person identifier
  // Coverage only: the beneficiary as given, by id ("Patient/<id>") or by identifier key.
  std::string beneficiary_id;
  std::string beneficiary_key;
};

// The insurer number a principal's facility code stands for (8 digits; 6-digit national
// health insurance numbers are left-padded with zeros as JP-CLINS does).
std::string InsurerNumberOf(std::string_view facility_code);

// Parses body for insurer. kInvalid lists malformed lines ("line[N]..." paths); kForbidden
// lists lines about another insurer's members; kInvalid for an empty load.
Result<std::vector<ImportLine>> ParseImport(std::string_view body, std::string_view insurer,
                                            const Limits& limits);

}  // namespace renkei::eligibility
