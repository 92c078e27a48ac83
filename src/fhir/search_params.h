// FHIR search syntax (http://hl7.org/fhir/R4/search.html) parsed strictly against the
// parameters a resource type defines. Unknown parameters and unsupported modifiers are
// errors naming the parameter (the behaviour of "Prefer: handling=strict", our default).
//
// Choices (documented in the CapabilityStatement summary too):
// - _count above Limits::max_page_size is clamped to it (the spec lets a server return fewer
//   than asked); _count=0 returns the total only; negative or non-numeric _count is 400.
// - _sort accepts "-_lastUpdated" (newest first), "_lastUpdated", "_id", and "date" / "-date"
//   where the type defines a date parameter named "date"; other orders are 400 naming the
//   allowed ones. Resources without a date come last in both directions.
// - Parameters with an empty value are ignored, as the spec says.
// - Dates compare in UTC; "eq" at a precision matches the whole period (a day, a month...).
// - Comma-separated token values must share one system (one store criterion).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/status.h"
#include "fhir/url.h"

namespace renkei::fhir {

enum class SearchParamKind { kToken, kString, kReference, kDate };

// One search parameter of a resource type; the index of that type must hold terms under
// the same name (IndexTerm.param) in the form described for each kind.
struct SearchParamDef {
  std::string name;  // "identifier", "name", "birthdate"
  SearchParamKind kind = SearchParamKind::kToken;
  // kReference: the type prepended to a bare id ("beneficiary=123" -> "Patient/123").
  std::string target_type;
  // kToken: codes are indexed as text::SearchKey(code) (identifiers with kana and
  // full-width digits), so query values are folded the same way.
  bool fold_token_value = false;
  std::string documentation;  // one line for the CapabilityStatement
};

// Parameters every type has; the engine indexes them itself: "_id" (token, the id) and
// "_lastUpdated" (date, FormatInstant of the version's time).
const std::vector<SearchParamDef>& CommonSearchParams();

// Comparison of one criterion; mirrors store::MatchOp.
enum class SearchOp { kEq, kPrefix, kLt, kLe, kGt, kGe };

// All values OR'd; all criteria of a search AND'd.
struct SearchCriterion {
  std::string param;
  SearchOp op = SearchOp::kEq;
  bool has_system = false;  // token: system constrained ("" = the code has no system)
  std::string system;
  std::vector<std::string> values;  // empty: any value (token "system|")
};

struct SearchRequest {
  std::vector<SearchCriterion> criteria;
  size_t count = 50;          // page size after clamping
  bool total_only = false;    // _count=0 or _summary=count
  std::string cursor;         // _cursor: opaque position from a previous page
  bool include_total = true;  // _total=none turns totals off
  bool newest_first = false;  // _sort=-_lastUpdated
  // Any other _sort than -_lastUpdated and _id: "date" or "_lastUpdated" ("" otherwise), for
  // store::SearchQuery::sort_param; sort_descending for "-date".
  std::string sort_param;
  bool sort_descending = false;
  // The parameters as understood (without _cursor and _count), for self and next links.
  QueryParams echo;
};

// Parses query (decoded pairs, repeated names AND'd) for a type with the given parameters
// (CommonSearchParams() are added). Errors are kInvalid naming the parameter. lenient
// ("Prefer: handling=lenient") skips unknown parameters instead (and leaves them out of the
// self link, as the spec asks); bad values of known parameters are errors either way.
Result<SearchRequest> ParseSearch(const QueryParams& query,
                                  const std::vector<SearchParamDef>& params, const Limits& limits,
                                  bool lenient = false);
// True when a Prefer header asks for lenient handling of unknown search parameters.
bool PrefersLenient(std::string_view prefer_header);

// The query string of a page link: echo + _count (+ _cursor when not empty).
std::string PageQuery(const SearchRequest& search, std::string_view cursor);

}  // namespace renkei::fhir
