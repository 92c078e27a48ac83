#include "core/clock.h"

#include <fmt/format.h>

#include <cctype>

namespace renkei {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::microseconds(now_us_.load()));
}

std::string FormatInstant(TimePoint t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::milliseconds>(t - days));
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::string FormatDate(TimePoint t) {
  std::chrono::year_month_day ymd(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

namespace {

bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::optional<TimePoint> ParseDateTime(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int64_t micros = 0;
  if (!ReadDigits(s, pos, 4, year)) return std::nullopt;
  if (pos < s.size()) {
    if (!Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month)) return std::nullopt;
    if (pos < s.size()) {
      if (!Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day)) return std::nullopt;
    }
  }
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (!Expect(s, pos, 'T') || !ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') ||
        !ReadDigits(s, pos, 2, minute)) {
      return std::nullopt;
    }
    if (Expect(s, pos, ':') && !ReadDigits(s, pos, 2, second)) return std::nullopt;
    if (Expect(s, pos, '.')) {
      int digits = 0;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (digits < 6) micros = micros * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int i = digits; i < 6; ++i) micros *= 10;
    }
    if (Expect(s, pos, 'Z')) {
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om))
        return std::nullopt;
      offset_minutes = sign * (oh * 60 + om);
    } else {
      return std::nullopt;  // FHIR requires a zone when a time is given
    }
  }
  if (pos != s.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  auto tp = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
            std::chrono::seconds(second) + std::chrono::microseconds(micros) -
            std::chrono::minutes(offset_minutes);
  return std::chrono::time_point_cast<std::chrono::microseconds>(tp);
}

int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixSeconds(int64_t s) {
  return TimePoint(std::chrono::seconds(s));
}

}  // namespace renkei
