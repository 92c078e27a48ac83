// A minimal synchronous HTTP(S) client for the dev commands (renkei token) and tools.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace renkei::app {

struct HttpResult {
  int status = 0;
  std::string body;
};

// Sends one request to url ("http://host:port/path" or "https://..."). For https the server
// certificate is verified against ca_file when given, else against the system store.
Result<HttpResult> HttpRequest(std::string_view method, std::string_view url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view body, std::string_view ca_file = "");

}  // namespace renkei::app
