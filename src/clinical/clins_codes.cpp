#include "clinical/clins_codes.h"

#include <fmt/format.h>

#include <vector>

namespace renkei::clinical {

namespace {

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

bool IsAsciiSpace(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(sep, start);
    if (at == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

}  // namespace

void RuleIssue(fhir::IssueCollector& c, std::string path, std::string_view rule_id,
               std::string_view text) {
  c.Rule(std::move(path), fmt::format("[{}] {}", rule_id, text));
}

bool IsDigits(std::string_view text, size_t n) {
  if (text.size() != n) return false;
  for (char ch : text)
    if (ch < '0' || ch > '9') return false;
  return true;
}

bool IsUpperAlnum(std::string_view text, size_t n) {
  if (text.size() != n) return false;
  for (char ch : text)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z'))) return false;
  return true;
}

bool IsYjCode(std::string_view code) {
  if (!IsUpperAlnum(code, 12)) return false;
  auto value = [](char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch <= 'I') return ch - 'A' + 1;
    if (ch <= 'R') return ch - 'J' + 1;
    return ch - 'S' + 2;
  };
  constexpr int kWeights[11] = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += value(code[i]) * kWeights[i];
  int check = (11 - sum % 11) % 11;
  return code[11] - '0' == check % 10;
}

bool IsClinsFacilityCode(std::string_view code) {
  return IsDigits(code, 10) && code[0] <= '4' && code[2] >= '1' && code[2] <= '3';
}

bool HasFullWidthSpace(std::string_view text) {
  return text.find(kIdeographicSpace) != std::string_view::npos;
}

bool IsInsuredPersonId(std::string_view value) {
  // Four colon-separated parts; the symbol and number may be empty but hold no white space
  // (ASCII or U+3000); the branch is empty or two digits (JP-FHIR.md "Identifiers").
  auto parts = Split(value, ':');
  if (parts.size() != 4) return false;
  if (!IsDigits(parts[0], 8)) return false;
  for (size_t i = 1; i <= 2; ++i) {
    for (char ch : parts[i])
      if (IsAsciiSpace(ch)) return false;
    if (HasFullWidthSpace(parts[i])) return false;
  }
  return parts[3].empty() || IsDigits(parts[3], 2);
}

bool ParseBundleIdentifier(std::string_view value, std::string& facility, int& year,
                           std::string& local_id) {
  auto parts = Split(value, '^');
  if (parts.size() != 3) return false;
  if (!IsClinsFacilityCode(parts[0])) return false;
  // 20[2-3][0-9]: years 2020-2039.
  if (!IsDigits(parts[1], 4) || parts[1][0] != '2' || parts[1][1] != '0' || parts[1][2] < '2' ||
      parts[1][2] > '3')
    return false;
  if (parts[2].empty() || parts[2].size() > 36) return false;
  for (char ch : parts[2]) {
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '-';
    if (!ok) return false;
  }
  facility = std::string(parts[0]);
  year = std::stoi(std::string(parts[1]));
  local_id = std::string(parts[2]);
  return true;
}

}  // namespace renkei::clinical
