// The answers of the OAuth 2.0 endpoints (token, patient login): JSON with no-store caching
// (RFC 6749 §5.1) and the error object of RFC 6749 §5.2.
#pragma once

#include <string_view>

#include "core/json.h"
#include "core/request.h"

namespace renkei::auth {

// body as application/json with Cache-Control: no-store and Pragma: no-cache.
Response OAuthJson(int status, const json::object& body);
// {"error": error, "error_description": description}.
Response OAuthError(int status, std::string_view error, std::string_view description);

}  // namespace renkei::auth
