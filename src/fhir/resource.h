// Small helpers for serving resources: version ETags and server-set meta.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"

namespace renkei::fhir {

// W/"3" for version 3 (FHIR http.html#versioning).
std::string FormatETag(int64_t version);
// Accepts W/"3", "3" and 3; nullopt otherwise.
std::optional<int64_t> ParseETag(std::string_view etag);
// RFC 7231 IMF-fixdate for Last-Modified: "Sat, 21 Nov 2026 05:26:54 GMT".
std::string HttpDate(TimePoint t);
// Sets id, meta.versionId and meta.lastUpdated (server-owned, FHIR resource.html#Meta);
// other meta elements (profile, tag, security) are kept.
void StampMeta(json::object& resource, std::string_view id, int64_t version, TimePoint updated);
// base + "/fhir/" + type + "/" + id.
std::string ResourceUrl(std::string_view base_url, std::string_view type, std::string_view id);

}  // namespace renkei::fhir
