// Hashing, MACs, random bytes and base64url over OpenSSL. Key handling and JWS live in auth/.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace renkei::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of data under key (raw bytes returned as a 32-byte string).
std::string HmacSha256(std::string_view key, std::string_view data);
// Constant-time comparison for secrets and MACs.
bool ConstantTimeEqual(std::string_view a, std::string_view b);
// Cryptographically secure random bytes.
std::string RandomBytes(size_t n);

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);
// RFC 4648 §5 base64url without padding (JWS), and standard base64 with padding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace renkei::crypto
