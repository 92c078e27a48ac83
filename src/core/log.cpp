#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

#include "core/clock.h"

namespace renkei::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("renkei");
    l->set_pattern("%v");  // the line is already a complete JSON object
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::warn);
    return l;
  }();
  return logger;
}

void AppendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void Init(Level min_level) {
  SetLevel(min_level);
  Logger();
}

void SetLevel(Level min_level) {
  g_min_level.store(static_cast<int>(min_level));
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_min_level.load();
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = "{\"ts\":\"" + FormatInstant(SystemClock().Now()) + "\",\"level\":\"" +
                     LevelName(level) + "\",\"event\":\"";
  AppendEscaped(line, event);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    AppendEscaped(line, f.key);
    line += "\":";
    if (f.quoted) {
      line += '"';
      AppendEscaped(line, f.value);
      line += '"';
    } else {
      line += f.value;
    }
  }
  line += '}';
  Logger()->info(line);
}

}  // namespace renkei::log
