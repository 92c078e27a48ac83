#include "http/wire.h"

#include <boost/beast/http/status.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <ctime>
#include <optional>

namespace renkei::http {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// RFC 9110 §5.6.2 token characters.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsValidFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!IsTokenChar(c)) return false;
  return true;
}

// Field values may not carry CR, LF or NUL (response splitting).
bool IsValidFieldValue(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// The IMF-fixdate of the current second, formatted once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char buffer[64];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return std::string_view(buffer, length);
}

void AppendNumber(std::string& out, size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// FHIR clients (and curl) send token searches like `identifier=system|code` and JP-CLINS
// bundle identifiers `facility^year^id` without percent-encoding, although RFC 3986 does not
// allow `|` or `^` in a query. Such characters of the query are encoded before a second parse,
// so the common form works while the path stays strict.
std::optional<std::string> EncodeLaxQuery(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  static constexpr std::string_view kLax = "|^\"{}`<>[]\\";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(target.substr(0, q + 1));
  bool changed = false;
  for (char c : target.substr(q + 1)) {
    if (kLax.find(c) != std::string_view::npos) {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
      changed = true;
    } else {
      out += c;
    }
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace

Status ParseTarget(std::string_view target, std::string& path,
                   std::vector<std::pair<std::string, std::string>>& query) {
  auto parsed = boost::urls::parse_origin_form(target);
  std::optional<std::string> lax;
  if (!parsed && (lax = EncodeLaxQuery(target))) parsed = boost::urls::parse_origin_form(*lax);
  if (!parsed) return MakeError(ErrorCode::kInvalid, "malformed request target");
  boost::urls::url_view url = *parsed;
  path.clear();
  for (boost::urls::pct_string_view segment : url.encoded_segments()) {
    path += '/';
    size_t start = path.size();
    for (char c : *segment) {
      // An encoded '/' would let one path segment pose as two; ids never contain it.
      if (c == '/' || c == '\0') {
        return MakeError(ErrorCode::kInvalid, "encoded '/' or NUL in request path");
      }
      path += c;
    }
    std::string_view decoded(path.data() + start, path.size() - start);
    if (decoded == "." || decoded == "..") {
      return MakeError(ErrorCode::kInvalid, "dot segment in request path");
    }
  }
  if (path.empty()) path = "/";
  query.clear();
  if (url.has_query()) {
    for (auto param : url.params()) {
      query.emplace_back(std::move(param.key), std::move(param.value));
    }
  }
  return Ok();
}

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

bool StatusAllowsBody(int status) {
  return status >= 200 && status != 204 && status != 304;
}

void AppendResponseHead(const Response& response, bool close, bool tls, std::string& out,
                        bool announce_keep_alive) {
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<size_t>(response.status));
  out += ' ';
  std::string_view reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  out += reason.empty() || reason.front() == '<' ? std::string_view("Unknown") : reason;
  out += "\r\nDate: ";
  out += HttpDate();
  out += "\r\n";
  if (StatusAllowsBody(response.status)) {
    if (!response.body.empty() || !response.content_type.empty()) {
      out += "Content-Type: ";
      out += response.content_type.empty() || !IsValidFieldValue(response.content_type)
                 ? std::string_view("application/octet-stream")
                 : std::string_view(response.content_type);
      out += "\r\n";
    }
    out += "Content-Length: ";
    AppendNumber(out, response.body.size());
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    if (!IsValidFieldName(name) || !IsValidFieldValue(value)) continue;
    // Framing is ours: a handler's value could desynchronise the connection.
    if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
        IEquals(name, "connection") || IEquals(name, "date") || IEquals(name, "content-type")) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (tls) out += "Strict-Transport-Security: max-age=31536000\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (announce_keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace renkei::http
