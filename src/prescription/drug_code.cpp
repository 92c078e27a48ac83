#include "prescription/drug_code.h"

#include <array>

namespace renkei::prescription {
namespace {

// Value of one code character for the check digit (JP-FHIR.md "YJ code"); -1 if not
// [0-9A-Z]. Letters run in three blocks: A–I and J–R each count 1–9, S–Z count 2–9.
int CharValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'I') return c - 'A' + 1;
  if (c >= 'J' && c <= 'R') return c - 'J' + 1;
  if (c >= 'S' && c <= 'Z') return c - 'S' + 2;
  return -1;
}

bool IsCodeChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::optional<char> YjCheckDigit(std::string_view first11) {
  static constexpr std::array<int, 11> kWeights = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  if (first11.size() != kWeights.size()) return std::nullopt;
  int sum = 0;
  for (size_t i = 0; i < kWeights.size(); ++i) {
    const int v = CharValue(first11[i]);
    if (v < 0) return std::nullopt;
    sum += v * kWeights[i];
  }
  const int check = (11 - sum % 11) % 11;
  return static_cast<char>('0' + (check == 10 ? 0 : check));
}

bool HasValidYjCheckDigit(std::string_view code) {
  if (code.size() != 12) return false;
  const auto expected = YjCheckDigit(code.substr(0, 11));
  return expected.has_value() && code[11] == *expected;
}

bool IsDummyDrugCode(std::string_view code) {
  return code == "666660000" || code == "2000000X0000" || code == "777770000";
}

bool IsGeneralNameCodeShape(std::string_view code) {
  if (code.size() != 12 || !code.ends_with("ZZZ")) return false;
  for (size_t i = 0; i < 9; ++i) {
    if (!IsCodeChar(code[i])) return false;
  }
  return true;
}

}  // namespace renkei::prescription
