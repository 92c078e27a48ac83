// Small helpers for serving resources: version ETags and server-set meta.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// Server-kept state as a complex extension of meta (url, with string parts "name" ->
// valueString), so that it travels with the stored resource and is replaced whole.
using StringParts = std::vector<std::pair<std::string, std::string>>;
// The parts of the meta extension url, in order; empty when there is none.
StringParts MetaExtensionParts(const json::object& resource, std::string_view url);
// Replaces the meta extension url with parts (empty values left out); other extensions kept.
void SetMetaExtensionParts(json::object& resource, std::string_view url, const StringParts& parts);
// base + "/fhir/" + type + "/" + id.
std::string ResourceUrl(std::string_view base_url, std::string_view type, std::string_view id);

}  // namespace renkei::fhir
