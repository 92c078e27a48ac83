#include "auth/oauth_response.h"

namespace renkei::auth {

Response OAuthJson(int status, const json::object& body) {
  Response r = Response::Json(status, json::Serialize(body), "application/json; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

Response OAuthError(int status, std::string_view error, std::string_view description) {
  json::object body;
  body["error"] = error;
  body["error_description"] = description;
  return OAuthJson(status, body);
}

}  // namespace renkei::auth
