// Compact JWS (RFC 7515) signed with ES256/ES384/RS384 (RFC 7518 §3.3-3.4). ECDSA signatures
// travel in the JOSE raw form r||s; OpenSSL speaks DER, so this module converts both ways.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keys.h"
#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::auth {

// Upper bound on a compact JWS that renkei will look at (assertions are a few hundred bytes).
inline constexpr size_t kMaxJwsBytes = 32 * 1024;

// Signs payload as a compact JWS with header {"alg","kid","typ"}. kInvalid when alg is not
// ES256/ES384/RS384, the key does not fit alg or holds no private key.
Result<std::string> SignCompact(const KeyPair& key, std::string_view alg, std::string_view kid,
                                const json::object& payload, std::string_view typ = "JWT");

struct VerifiedJws {
  json::object header;
  json::object payload;
};

// Verifies jws against the key record whose kid equals the header's kid. Refuses (always
// kUnauthenticated) malformed input, alg "none" or any alg but ES256/ES384/RS384, a "crit"
// header, an unknown kid, a revoked key, a header alg differing from the record's alg, a
// registered key that does not fit its alg, and a wrong signature.
Result<VerifiedJws> VerifyCompact(std::string_view jws, const std::vector<store::KeyRecord>& keys);

// The decoded header / payload WITHOUT verification, to find kid and iss before the key
// lookup. kUnauthenticated when malformed. Never trust what these return.
Result<json::object> PeekHeader(std::string_view jws);
Result<json::object> PeekPayload(std::string_view jws);

// ECDSA signature encodings: DER (X9.62 Ecdsa-Sig-Value, OpenSSL) <-> raw r||s with each
// half left-padded to field_bytes (32 for P-256, 48 for P-384; RFC 7518 §3.4). nullopt when
// the input is malformed or a value does not fit field_bytes.
std::optional<std::string> EcdsaDerToRaw(std::string_view der, size_t field_bytes);
std::optional<std::string> EcdsaRawToDer(std::string_view raw, size_t field_bytes);

}  // namespace renkei::auth
