// Access tokens: stateless JWTs (RFC 9068 shape, typ "at+jwt") MACed with HS256 under a
// server secret that every API node shares through the store settings, so that verifying a
// token needs no database round trip.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/principal.h"
#include "core/status.h"
#include "store/store.h"

struct evp_md_ctx_st;

namespace renkei::auth {

// The settings key of the token MAC secret (32 random bytes, hex-encoded).
inline constexpr std::string_view kTokenSecretSetting = "token_hmac_key";
inline constexpr size_t kTokenSecretBytes = 32;
// Upper bound on an access token renkei will parse.
inline constexpr size_t kMaxAccessTokenBytes = 8 * 1024;

// Reads the token secret from the store settings, creating it on first start. Creation is
// race-free across nodes: exactly one random secret wins and every node reads that one.
Result<std::string> LoadOrCreateTokenSecret(store::Store& store, TimePoint now);

// Issues and verifies access tokens under one secret and issuer. Thread-safe.
class AccessTokenCodec {
 public:
  // secret: at least kTokenSecretBytes raw bytes (kInvalid otherwise).
  static Result<AccessTokenCodec> Create(std::string_view secret, std::string issuer);
  ~AccessTokenCodec();
  AccessTokenCodec(AccessTokenCodec&&) noexcept;
  AccessTokenCodec& operator=(AccessTokenCodec&&) noexcept;
  AccessTokenCodec(const AccessTokenCodec&) = delete;
  AccessTokenCodec& operator=(const AccessTokenCodec&) = delete;

  // A token for principal valid from now for lifetime, with a fresh random jti (returned in
  // token_id when not null). principal.token_id is ignored.
  std::string Issue(const Principal& principal, TimePoint now, std::chrono::seconds lifetime,
                    std::string* token_id = nullptr) const;
  // The principal a token names (token_id = its jti). kUnauthenticated when the token is
  // malformed, not ours (header, MAC, issuer) or expired at now.
  Result<Principal> Verify(std::string_view token, TimePoint now) const;

 private:
  struct MdDeleter {
    void operator()(evp_md_ctx_st* p) const;
  };
  using MdCtx = std::unique_ptr<evp_md_ctx_st, MdDeleter>;
  AccessTokenCodec(MdCtx inner, MdCtx outer, std::string issuer);
  // HMAC-SHA256 of data (RFC 2104) into out; false on an OpenSSL failure.
  bool Mac(std::string_view data, unsigned char (&out)[32]) const;

  // SHA-256 states after absorbing key^ipad and key^opad (RFC 2104), copied per use, so each
  // MAC costs only the data's compressions; never written after construction.
  MdCtx inner_;
  MdCtx outer_;
  std::string issuer_;
  std::string header_b64_;  // the one header renkei issues; any other is refused
};

}  // namespace renkei::auth
