#include "core/ids.h"

#include <cstdint>

#include "core/crypto.h"

namespace renkei {

std::string NewIdAt(std::chrono::system_clock::time_point at) {
  std::string b = crypto::RandomBytes(16);
  const auto millis = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((millis >> (8 * (5 - i))) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);  // version 7
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // variant 10
  std::string hex = crypto::HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string NewId() {
  return NewIdAt(std::chrono::system_clock::now());
}

bool IsValidFhirId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace renkei
