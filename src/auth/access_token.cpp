#include "auth/access_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <utility>

#include "auth/ossl.h"
#include "core/crypto.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

constexpr size_t kMacB64Chars = 43;  // base64url of 32 bytes, unpadded
constexpr size_t kShaBlockBytes = 64;

constexpr char kB64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// base64url of the 32-byte MAC into out (no padding); returns the length (43).
size_t EncodeB64Url(const unsigned char (&mac)[32], char* out) {
  size_t n = 0, i = 0;
  for (; i + 2 < 32; i += 3) {
    uint32_t v = uint32_t{mac[i]} << 16 | uint32_t{mac[i + 1]} << 8 | mac[i + 2];
    out[n++] = kB64UrlAlphabet[v >> 18 & 63];
    out[n++] = kB64UrlAlphabet[v >> 12 & 63];
    out[n++] = kB64UrlAlphabet[v >> 6 & 63];
    out[n++] = kB64UrlAlphabet[v & 63];
  }
  uint32_t v = uint32_t{mac[i]} << 16 | uint32_t{mac[i + 1]} << 8;  // 32 = 3 * 10 + 2
  out[n++] = kB64UrlAlphabet[v >> 18 & 63];
  out[n++] = kB64UrlAlphabet[v >> 12 & 63];
  out[n++] = kB64UrlAlphabet[v >> 6 & 63];
  return n;
}

// Table-driven base64url decoding into out (at least text.size() * 3 / 4 bytes): the verifier
// runs on every request, so it avoids the allocations of the general decoder.
bool DecodeB64Url(std::string_view text, char* out, size_t& out_len) {
  static const std::array<int8_t, 256> kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(kB64UrlAlphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<char>(acc >> bits & 0xff);
    }
  }
  if (bits >= 6) return false;
  out_len = n;
  return true;
}
// Insert-only marker that makes secret creation race-free on engines whose settings upsert
// would let two first-starting nodes overwrite each other's secret.
constexpr std::string_view kSetupScope = "auth-setup";

Error Unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

constexpr std::array<std::string_view, 3> kKinds = {"practitioner", "patient", "system"};

std::string_view KindName(PrincipalKind kind) {
  return kKinds[static_cast<size_t>(kind)];
}

bool ParseKind(std::string_view text, PrincipalKind& out) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i] == text) {
      out = static_cast<PrincipalKind>(i);
      return true;
    }
  }
  return false;
}

// Reads a string claim into out; false when absent or not a string.
bool StringClaim(const boost::json::object& o, std::string_view key, std::string& out) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

}  // namespace

Result<std::string> LoadOrCreateTokenSecret(store::Store& store, TimePoint now) {
  // A conflict means another node committed the secret first; the next attempt reads it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto hex = store::RunInTransactionWithResult<std::string>(
        store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<std::string> {
          RK_ASSIGN_OR_RETURN(auto existing, tx.GetSetting(kTokenSecretSetting));
          if (existing) return std::move(*existing);
          std::string candidate = crypto::HexEncode(crypto::RandomBytes(kTokenSecretBytes));
          RK_TRY(tx.PutIdempotent(kSetupScope, kTokenSecretSetting, "created", now));
          RK_TRY(tx.PutSetting(kTokenSecretSetting, candidate));
          return candidate;
        });
    if (!hex.ok()) {
      if (hex.error().code() == ErrorCode::kConflict) continue;
      return std::move(hex).error();
    }
    auto secret = crypto::HexDecode(*hex);
    if (!secret || secret->size() < kTokenSecretBytes)
      return Error(ErrorCode::kInternal, "the stored token secret is malformed");
    return std::move(*secret);
  }
  return Error(ErrorCode::kUnavailable, "could not create the token secret");
}

void AccessTokenCodec::MdDeleter::operator()(evp_md_ctx_st* p) const {
  EVP_MD_CTX_free(p);
}

AccessTokenCodec::AccessTokenCodec(MdCtx inner, MdCtx outer, std::string issuer)
    : inner_(std::move(inner)), outer_(std::move(outer)), issuer_(std::move(issuer)) {
  header_b64_ = crypto::Base64UrlEncode(R"({"alg":"HS256","typ":"at+jwt"})");
}
AccessTokenCodec::~AccessTokenCodec() = default;
AccessTokenCodec::AccessTokenCodec(AccessTokenCodec&&) noexcept = default;
AccessTokenCodec& AccessTokenCodec::operator=(AccessTokenCodec&&) noexcept = default;

Result<AccessTokenCodec> AccessTokenCodec::Create(std::string_view secret, std::string issuer) {
  if (secret.size() < kTokenSecretBytes)
    return Error(ErrorCode::kInvalid, "the token secret must have at least 32 bytes");
  // RFC 2104: keys longer than the block are hashed first.
  std::string key(secret);
  if (key.size() > kShaBlockBytes) {
    auto digest = crypto::Sha256(key);
    key.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  unsigned char ipad[kShaBlockBytes], opad[kShaBlockBytes];
  for (size_t i = 0; i < kShaBlockBytes; ++i) {
    unsigned char k = i < key.size() ? static_cast<unsigned char>(key[i]) : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  OPENSSL_cleanse(key.data(), key.size());
  MdCtx inner(EVP_MD_CTX_new()), outer(EVP_MD_CTX_new());
  bool ok = inner && outer && EVP_DigestInit_ex2(inner.get(), EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(inner.get(), ipad, sizeof(ipad)) == 1 &&
            EVP_DigestInit_ex2(outer.get(), EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(outer.get(), opad, sizeof(opad)) == 1;
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
  if (!ok) return Error(ErrorCode::kInternal, "cannot key HMAC-SHA256");
  return AccessTokenCodec(std::move(inner), std::move(outer), std::move(issuer));
}

bool AccessTokenCodec::Mac(std::string_view data, unsigned char (&out)[32]) const {
  // One scratch context per thread: copying the keyed states into it is cheaper than an
  // HMAC context per call, and the shared prototypes are only read.
  thread_local MdCtx work(EVP_MD_CTX_new());
  unsigned int len = 0;
  return work && EVP_MD_CTX_copy_ex(work.get(), inner_.get()) == 1 &&
         EVP_DigestUpdate(work.get(), data.data(), data.size()) == 1 &&
         EVP_DigestFinal_ex(work.get(), out, &len) == 1 && len == 32 &&
         EVP_MD_CTX_copy_ex(work.get(), outer_.get()) == 1 &&
         EVP_DigestUpdate(work.get(), out, 32) == 1 &&
         EVP_DigestFinal_ex(work.get(), out, &len) == 1 && len == 32;
}

std::string AccessTokenCodec::Issue(const Principal& principal, TimePoint now,
                                    std::chrono::seconds lifetime, std::string* token_id) const {
  std::string jti = crypto::Base64UrlEncode(crypto::RandomBytes(16));
  int64_t iat = ToUnixSeconds(now);
  boost::json::object claims;
  claims["iss"] = issuer_;
  claims["sub"] = principal.subject;
  claims["iat"] = iat;
  claims["exp"] = iat + lifetime.count();
  claims["jti"] = jti;
  claims["kind"] = KindName(principal.kind);
  claims["facility"] = principal.facility_code;
  claims["facility_type"] = ToString(principal.facility_type);
  claims["prefecture"] = principal.prefecture;
  claims["emergency"] = principal.emergency_hospital;
  claims["nurses"] = principal.nurses_may_view;
  claims["practitioner"] = principal.practitioner_id;
  claims["qualification"] = ToString(principal.qualification);
  std::string token = header_b64_;
  token += '.';
  token += crypto::Base64UrlEncode(json::Serialize(claims));
  unsigned char mac[32];
  // Mac fails only when OpenSSL cannot allocate; the token then carries no MAC and is refused.
  std::string mac_b64 =
      Mac(token, mac) ? crypto::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), 32))
                      : "";
  token += '.';
  token += mac_b64;
  if (token_id != nullptr) *token_id = std::move(jti);
  return token;
}

Result<Principal> AccessTokenCodec::Verify(std::string_view token, TimePoint now) const {
  if (token.size() > kMaxAccessTokenBytes) return Unauthenticated("malformed access token");
  // Only the exact header renkei issues is accepted, which rules out alg substitution
  // ("none", RS/HS confusion; RFC 8725 §2.1) before any parsing.
  if (token.size() <= header_b64_.size() + 1 ||
      token.compare(0, header_b64_.size(), header_b64_) != 0 || token[header_b64_.size()] != '.')
    return Unauthenticated("malformed access token");
  size_t last_dot = token.rfind('.');
  if (last_dot == header_b64_.size() || token.size() - last_dot - 1 != kMacB64Chars)
    return Unauthenticated("malformed access token");
  std::string_view signing_input = token.substr(0, last_dot);
  // Compared in the encoded form (canonical base64url of the expected MAC), in constant time.
  unsigned char mac[32];
  char expected[kMacB64Chars + 2];
  if (!Mac(signing_input, mac) || EncodeB64Url(mac, expected) != kMacB64Chars ||
      !crypto::ConstantTimeEqual(std::string_view(expected, kMacB64Chars),
                                 token.substr(last_dot + 1)))
    return Unauthenticated("invalid access token");

  // The payload is ours (the MAC matched): decode and parse it on the stack.
  char payload_text[kMaxAccessTokenBytes];
  size_t payload_len = 0;
  if (!DecodeB64Url(signing_input.substr(header_b64_.size() + 1), payload_text, payload_len))
    return Unauthenticated("malformed access token");
  unsigned char buffer[4096];
  boost::json::monotonic_resource arena(buffer, sizeof(buffer));
  boost::json::parse_options options;
  options.max_depth = 4;
  boost::system::error_code ec;
  boost::json::value parsed =
      boost::json::parse(std::string_view(payload_text, payload_len), ec, &arena, options);
  if (ec || !parsed.is_object()) return Unauthenticated("malformed access token");
  const boost::json::object& claims = parsed.get_object();

  std::string iss, kind;
  const boost::json::value* exp = claims.if_contains("exp");
  if (!StringClaim(claims, "iss", iss) || iss != issuer_)
    return Unauthenticated("access token from another issuer");
  if (exp == nullptr || !exp->is_int64()) return Unauthenticated("malformed access token");
  if (now >= FromUnixSeconds(exp->get_int64())) return Unauthenticated("expired access token");

  Principal p;
  std::string facility_type, qualification;
  const boost::json::value* emergency = claims.if_contains("emergency");
  if (!StringClaim(claims, "sub", p.subject) || !StringClaim(claims, "jti", p.token_id) ||
      !StringClaim(claims, "kind", kind) || !ParseKind(kind, p.kind) ||
      !StringClaim(claims, "facility", p.facility_code) ||
      !StringClaim(claims, "facility_type", facility_type) ||
      !ParseFacilityType(facility_type, p.facility_type) ||
      !StringClaim(claims, "prefecture", p.prefecture) ||
      !StringClaim(claims, "practitioner", p.practitioner_id) ||
      !StringClaim(claims, "qualification", qualification) ||
      !ParseQualification(qualification, p.qualification) || emergency == nullptr ||
      !emergency->is_bool())
    return Unauthenticated("malformed access token");
  p.emergency_hospital = emergency->get_bool();
  // Absent in tokens issued before the setting existed: nurses then do not view.
  const boost::json::value* nurses = claims.if_contains("nurses");
  p.nurses_may_view = nurses != nullptr && nurses->is_bool() && nurses->get_bool();
  return p;
}

}  // namespace renkei::auth
