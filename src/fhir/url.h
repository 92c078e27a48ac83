// Query-string helpers for FHIR links and for query strings carried inside data
// (If-None-Exist headers, Bundle.entry.request.url).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace renkei::fhir {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 percent-encoding of a query component (unreserved characters kept).
std::string PercentEncode(std::string_view text);
// Decodes %XX and '+' (as space); nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);
// "a=1&b=2" (without '?') into decoded pairs; nullopt on a malformed escape.
std::optional<QueryParams> ParseQueryString(std::string_view query);
// Encodes pairs back into "a=1&b=2".
std::string BuildQueryString(const QueryParams& params);

}  // namespace renkei::fhir
