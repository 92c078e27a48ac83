#include "core/json.h"

#include <fmt/format.h>

namespace renkei::json {
namespace {

// Returns false when some string (key or value) is longer than the limit.
bool StringsWithinLimit(const value& v, size_t max_bytes) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return v.get_string().size() <= max_bytes;
    case boost::json::kind::array:
      for (const auto& e : v.get_array())
        if (!StringsWithinLimit(e, max_bytes)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (kv.key().size() > max_bytes) return false;
        if (!StringsWithinLimit(kv.value(), max_bytes)) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

Result<value> Parse(std::string_view text, const Limits& limits) {
  boost::json::parse_options options;
  options.max_depth = limits.max_json_depth;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    if (ec == boost::json::error::too_deep) {
      return Error(ErrorCode::kTooLarge,
                   fmt::format("JSON nesting deeper than the limit of {}", limits.max_json_depth));
    }
    return Error(ErrorCode::kInvalid, fmt::format("malformed JSON: {}", ec.message()));
  }
  value v = parser.release();
  if (!StringsWithinLimit(v, limits.max_string_bytes)) {
    return Error(
        ErrorCode::kTooLarge,
        fmt::format("a JSON string is longer than the limit of {} bytes", limits.max_string_bytes));
  }
  return v;
}

Result<object> ParseObject(std::string_view text, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(value v, Parse(text, limits));
  if (!v.is_object()) return Error(ErrorCode::kInvalid, "the body must be a JSON object");
  return std::move(v.get_object());
}

std::string Serialize(const value& v) {
  return boost::json::serialize(v);
}

const value* Find(const object& o, std::string_view key) {
  return o.if_contains(key);
}

std::optional<std::string_view> GetString(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

std::optional<int64_t> GetInt(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

std::optional<bool> GetBool(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

const object* GetObject(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return (v != nullptr && v->is_object()) ? &v->get_object() : nullptr;
}

const array* GetArray(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return (v != nullptr && v->is_array()) ? &v->get_array() : nullptr;
}

}  // namespace renkei::json
