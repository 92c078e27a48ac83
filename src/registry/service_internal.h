// Helpers shared by the ResourceService source files (not a public interface).
#pragma once

#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/request.h"
#include "core/status.h"
#include "fhir/search_params.h"
#include "registry/resource_kind.h"
#include "store/store.h"

namespace renkei::registry::internal {

// The principal of an authenticated request, or kUnauthenticated.
Result<const Principal*> PrincipalOf(const Request& req);
// The body as a JSON object: UTF-8 checked (400), parsed under limits (400/413), content
// type JSON when given (415).
Result<json::object> ParseBody(const Request& req, const Limits& limits);
// The audit category of kind.
std::string CategoryOf(const ResourceKind& kind);
// hex sha256 of method, path and body: what an idempotency key promises to repeat.
std::string RequestHash(const Request& req);
// The idempotency scope of the principal (keys of different clients never collide).
std::string IdempotencyScope(const Principal& who, std::string_view what);
// The X-Request-Id header when present; kInvalid when longer than 200 bytes.
Result<std::string> IdempotencyKey(const Request& req);
// Response headers of a stored version.
void AddVersionHeaders(Response& r, std::string_view base_url, std::string_view type,
                       std::string_view id, int64_t version, TimePoint updated, bool location);

}  // namespace renkei::registry::internal
