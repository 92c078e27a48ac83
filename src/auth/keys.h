// Asymmetric keys for JWS (RFC 7515/7518): OpenSSL 3 EVP_PKEY in RAII, key generation and
// JWK (RFC 7517) import/export for EC P-256/P-384 and RSA. Private key material never leaves
// this module except through PrivateJwk, which only dev tooling and tests call.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_pkey_st;

namespace renkei::auth {

// The JWS algorithms renkei signs and verifies with asymmetric keys.
enum class KeyAlg { kES256, kES384, kRS384 };

// "ES256"/"ES384"/"RS384" to KeyAlg; false for anything else ("none", "HS256", ...).
bool ParseKeyAlg(std::string_view text, KeyAlg& out);
std::string_view ToString(KeyAlg alg);

// An EC or RSA key; holds a private key (sign and verify) or a public key only (verify).
// Movable, not copyable.
class KeyPair {
 public:
  KeyPair();
  explicit KeyPair(evp_pkey_st* pkey);  // takes ownership
  ~KeyPair();
  KeyPair(KeyPair&&) noexcept;
  KeyPair& operator=(KeyPair&&) noexcept;
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;

  // The OpenSSL key (null for a default-constructed KeyPair); owned by this object.
  evp_pkey_st* get() const { return pkey_.get(); }
  bool has_private() const { return has_private_; }
  // True when the key type (and curve) is the one alg requires: P-256 for ES256, P-384 for
  // ES384, RSA of at least 2048 bits for RS384.
  bool Fits(KeyAlg alg) const;
  // The algorithm this key signs with: ES256/ES384 by curve, RS384 for RSA; nullopt for an
  // empty key or an unsupported type.
  std::optional<KeyAlg> Alg() const;

 private:
  struct Deleter {
    void operator()(evp_pkey_st* p) const;
  };
  std::unique_ptr<evp_pkey_st, Deleter> pkey_;
  bool has_private_ = false;
};

// A new private key for alg: "ES384" (P-384), "ES256" (P-256) or "RS384" (RSA 3072).
// kInvalid for other algorithms.
Result<KeyPair> GenerateKey(std::string_view alg);

// The key as a JWK JSON object text with "kid" and "alg" (the algorithm the key fits; RSA
// keys are labelled RS384). PrivateJwk includes the private members ("d", RSA factors) and
// requires a private key (returns "" otherwise); PublicJwk includes public members only.
std::string PrivateJwk(const KeyPair& key, std::string_view kid);
std::string PublicJwk(const KeyPair& key, std::string_view kid);

// Imports a private or public JWK (kty "EC" with crv "P-256"/"P-384", or kty "RSA" of at
// least 2048 bits). The key is checked (point on the curve, private matching public);
// malformed or weak keys are kInvalid.
Result<KeyPair> KeyFromJwk(std::string_view jwk_json);

}  // namespace renkei::auth
