// HTTP/1.1 wire details shared by the sessions: request-target decoding (Boost.URL) and the
// response head, written by hand into one reusable string instead of a Beast message.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/request.h"
#include "core/status.h"

namespace renkei::http {

// Splits an origin-form target ("/fhir/Patient/a%20b?name=x") into the percent-decoded path
// and the decoded query parameters in order ('+' is a space). kInvalid when the target is not
// origin-form, is badly encoded, decodes a segment to something holding '/' or NUL, or has a
// "." or ".." segment.
Status ParseTarget(std::string_view target, std::string& path,
                   std::vector<std::pair<std::string, std::string>>& query);

// True for a Host header value that may be used in absolute links: host[:port] made of
// letters, digits, '.', '-', ':', '[' and ']', at most 255 characters.
bool IsValidHost(std::string_view host);

// Whether a response with this status may carry a body (not 1xx, 204, 304).
bool StatusAllowsBody(int status);

// Appends the status line and header block (ending "\r\n\r\n") for `response`:
// Date, Content-Type, Content-Length, the response's own headers (dropping framing headers
// and any with invalid characters), HSTS when `tls`, and "Connection: close" when `close`
// (or "Connection: keep-alive" when `announce_keep_alive`, for HTTP/1.0 clients).
void AppendResponseHead(const Response& response, bool close, bool tls, std::string& out,
                        bool announce_keep_alive = false);

}  // namespace renkei::http
