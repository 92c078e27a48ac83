// Structured JSON logs (one object per line on stderr). Callers pass named fields; by rule
// no field may hold a patient identifier, a name, a token, a key or a card assertion
// (DEVELOPERS non-negotiable 8). Log ids of requests and facilities, counts, statuses.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace renkei::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void Init(Level min_level);
void SetLevel(Level min_level);
bool Enabled(Level level);

struct Field {
  std::string_view key;
  std::string value;
  bool quoted = true;  // false for numbers and booleans
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, double v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
};

// Writes {"ts":..., "level":..., "event":event, fields...}.
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}
inline void Debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, event, fields);
}

}  // namespace renkei::log
