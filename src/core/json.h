// JSON helpers over Boost.JSON: parsing under the input limits, and small typed getters
// that turn absent/mistyped members into std::nullopt instead of exceptions.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/status.h"

namespace renkei::json {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Parses text; errors are kInvalid (malformed), or kTooLarge when the nesting depth or a
// string exceeds the limits.
Result<value> Parse(std::string_view text, const Limits& limits);
Result<object> ParseObject(std::string_view text, const Limits& limits);

// Compact serialization.
std::string Serialize(const value& v);

// Getters: nullopt when the member is absent or of another type.
const value* Find(const object& o, std::string_view key);
std::optional<std::string_view> GetString(const object& o, std::string_view key);
std::optional<int64_t> GetInt(const object& o, std::string_view key);
std::optional<bool> GetBool(const object& o, std::string_view key);
const object* GetObject(const object& o, std::string_view key);
const array* GetArray(const object& o, std::string_view key);

}  // namespace renkei::json
