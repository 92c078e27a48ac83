#include "auth/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "auth/ossl.h"
#include "core/crypto.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

// A JWK is small; anything near this size is not a key.
constexpr size_t kMaxJwkBytes = 16 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr size_t kGeneratedRsaBits = 3072;

struct CurveInfo {
  std::string_view jwk_name;      // RFC 7518 §6.2.1.1
  std::string_view openssl_name;  // OpenSSL group name
  size_t field_bytes;
  KeyAlg alg;
};
constexpr std::array<CurveInfo, 2> kCurves = {{
    {"P-256", "prime256v1", 32, KeyAlg::kES256},
    {"P-384", "secp384r1", 48, KeyAlg::kES384},
}};

const CurveInfo* CurveByJwkName(std::string_view name) {
  for (const auto& c : kCurves)
    if (c.jwk_name == name) return &c;
  return nullptr;
}

const CurveInfo* CurveOf(EVP_PKEY* pkey) {
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return nullptr;
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1) return nullptr;
  std::string_view n(name, len);
  for (const auto& c : kCurves)
    if (c.openssl_name == n) return &c;
  return nullptr;
}

bool IsRsa(EVP_PKEY* pkey) {
  return pkey != nullptr && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
}

// A BIGNUM parameter of the key, or null when the key lacks it.
BignumPtr GetBn(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return BignumPtr(bn);
}

// Big-endian bytes of bn, left-padded to width when width > 0 (JWK EC members are
// fixed-length, RFC 7518 §6.2.1.2; RSA members are minimal, §6.3).
std::string BnBytes(const BIGNUM* bn, size_t width = 0) {
  size_t n = width > 0 ? width : static_cast<size_t>(BN_num_bytes(bn));
  std::string out(n, '\0');
  if (n == 0) return out;
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string BnB64(const BIGNUM* bn, size_t width = 0) {
  return crypto::Base64UrlEncode(BnBytes(bn, width));
}

bool HasPrivate(EVP_PKEY* pkey) {
  if (IsRsa(pkey)) return GetBn(pkey, OSSL_PKEY_PARAM_RSA_D) != nullptr;
  return GetBn(pkey, OSSL_PKEY_PARAM_PRIV_KEY) != nullptr;
}

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalid, std::move(message));
}

// Decodes a base64url JWK member; nullopt when absent, not a string or not base64url.
std::optional<std::string> Member(const json::object& jwk, std::string_view name) {
  auto text = json::GetString(jwk, name);
  if (!text) return std::nullopt;
  if (text->find('=') != std::string_view::npos) return std::nullopt;  // unpadded only
  return crypto::Base64UrlDecode(*text);
}

BignumPtr ToBn(std::string_view bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

Result<KeyPair> FromParams(const char* type, OSSL_PARAM_BLD* bld, bool with_private) {
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld),
                                                                 &OSSL_PARAM_free);
  if (!params) return Error(ErrorCode::kInternal, "cannot build key parameters");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
    return Error(ErrorCode::kInternal, "cannot create a key context");
  EVP_PKEY* raw = nullptr;
  int selection = with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1 || raw == nullptr)
    return Invalid("the JWK does not describe a valid key");
  KeyPair key(raw);
  // Reject points off the curve and private halves that do not match the public half: a
  // key that passes here signs and verifies consistently.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check) return Error(ErrorCode::kInternal, "cannot create a key context");
  if (EVP_PKEY_public_check(check.get()) != 1) return Invalid("the JWK public key is invalid");
  if (with_private && EVP_PKEY_pairwise_check(check.get()) != 1)
    return Invalid("the JWK private key does not match its public key");
  return key;
}

Result<KeyPair> EcFromJwk(const json::object& jwk) {
  auto crv = json::GetString(jwk, "crv");
  const CurveInfo* curve = crv ? CurveByJwkName(*crv) : nullptr;
  if (curve == nullptr) return Invalid("unsupported EC curve (P-256 and P-384 are supported)");
  auto x = Member(jwk, "x");
  auto y = Member(jwk, "y");
  if (!x || !y || x->size() != curve->field_bytes || y->size() != curve->field_bytes)
    return Invalid("EC JWK needs x and y of the curve's full length");
  std::optional<std::string> d;
  if (json::Find(jwk, "d") != nullptr) {
    d = Member(jwk, "d");
    if (!d || d->size() != curve->field_bytes) return Invalid("EC JWK d has the wrong length");
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  BldPtr bld(OSSL_PARAM_BLD_new());
  BignumPtr priv = d ? ToBn(*d) : nullptr;
  std::string group(curve->openssl_name);
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1))
    return Error(ErrorCode::kInternal, "cannot build EC key parameters");
  return FromParams("EC", bld.get(), d.has_value());
}

Result<KeyPair> RsaFromJwk(const json::object& jwk) {
  auto n = Member(jwk, "n");
  auto e = Member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return Invalid("RSA JWK needs n and e");
  BignumPtr n_bn = ToBn(*n), e_bn = ToBn(*e);
  if (!n_bn || !e_bn) return Error(ErrorCode::kInternal, "out of memory");
  if (BN_num_bits(n_bn.get()) < kMinRsaBits) return Invalid("RSA keys need at least 2048 bits");
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1)
    return Error(ErrorCode::kInternal, "cannot build RSA key parameters");
  bool with_private = json::Find(jwk, "d") != nullptr;
  // Kept alive until the parameters are built: the builder references them.
  std::vector<BignumPtr> keep;
  if (with_private) {
    // RFC 7518 §6.3.2: d, and the CRT members p, q, dp, dq, qi, which renkei requires so
    // that the private key can be checked against the public one.
    static constexpr std::array<std::pair<const char*, const char*>, 6> kPrivate = {{
        {"d", OSSL_PKEY_PARAM_RSA_D},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    }};
    for (const auto& [member, param] : kPrivate) {
      auto bytes = Member(jwk, member);
      if (!bytes || bytes->empty()) return Invalid("RSA private JWK needs d, p, q, dp, dq and qi");
      keep.push_back(ToBn(*bytes));
      if (!keep.back() || OSSL_PARAM_BLD_push_BN(bld.get(), param, keep.back().get()) != 1)
        return Error(ErrorCode::kInternal, "cannot build RSA key parameters");
    }
  }
  return FromParams("RSA", bld.get(), with_private);
}

json::object JwkObject(const KeyPair& key, std::string_view kid, bool with_private) {
  json::object jwk;
  EVP_PKEY* pkey = key.get();
  if (const CurveInfo* curve = CurveOf(pkey)) {
    jwk["kty"] = "EC";
    jwk["crv"] = curve->jwk_name;
    BignumPtr x = GetBn(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
    BignumPtr y = GetBn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (x && y) {
      jwk["x"] = BnB64(x.get(), curve->field_bytes);
      jwk["y"] = BnB64(y.get(), curve->field_bytes);
    }
    if (with_private) {
      if (BignumPtr d = GetBn(pkey, OSSL_PKEY_PARAM_PRIV_KEY))
        jwk["d"] = BnB64(d.get(), curve->field_bytes);
    }
    jwk["alg"] = ToString(curve->alg);
  } else if (IsRsa(pkey)) {
    jwk["kty"] = "RSA";
    static constexpr std::array<std::pair<const char*, const char*>, 2> kPublic = {{
        {"n", OSSL_PKEY_PARAM_RSA_N},
        {"e", OSSL_PKEY_PARAM_RSA_E},
    }};
    static constexpr std::array<std::pair<const char*, const char*>, 6> kPrivate = {{
        {"d", OSSL_PKEY_PARAM_RSA_D},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    }};
    for (const auto& [member, param] : kPublic)
      if (BignumPtr bn = GetBn(pkey, param)) jwk[member] = BnB64(bn.get());
    if (with_private)
      for (const auto& [member, param] : kPrivate)
        if (BignumPtr bn = GetBn(pkey, param)) jwk[member] = BnB64(bn.get());
    jwk["alg"] = ToString(KeyAlg::kRS384);
  }
  jwk["kid"] = kid;
  jwk["use"] = "sig";
  return jwk;
}

}  // namespace

bool ParseKeyAlg(std::string_view text, KeyAlg& out) {
  if (text == "ES256")
    out = KeyAlg::kES256;
  else if (text == "ES384")
    out = KeyAlg::kES384;
  else if (text == "RS384")
    out = KeyAlg::kRS384;
  else
    return false;
  return true;
}

std::string_view ToString(KeyAlg alg) {
  switch (alg) {
    case KeyAlg::kES256:
      return "ES256";
    case KeyAlg::kES384:
      return "ES384";
    case KeyAlg::kRS384:
      return "RS384";
  }
  return "";
}

void KeyPair::Deleter::operator()(evp_pkey_st* p) const {
  EVP_PKEY_free(p);
}

KeyPair::KeyPair() = default;
KeyPair::KeyPair(evp_pkey_st* pkey) : pkey_(pkey), has_private_(HasPrivate(pkey)) {}
KeyPair::~KeyPair() = default;
KeyPair::KeyPair(KeyPair&& other) noexcept
    : pkey_(std::move(other.pkey_)), has_private_(std::exchange(other.has_private_, false)) {}
KeyPair& KeyPair::operator=(KeyPair&& other) noexcept {
  pkey_ = std::move(other.pkey_);
  has_private_ = std::exchange(other.has_private_, false);
  return *this;
}

bool KeyPair::Fits(KeyAlg alg) const {
  EVP_PKEY* pkey = pkey_.get();
  if (pkey == nullptr) return false;
  if (alg == KeyAlg::kRS384) return IsRsa(pkey) && EVP_PKEY_get_bits(pkey) >= kMinRsaBits;
  const CurveInfo* curve = CurveOf(pkey);
  return curve != nullptr && curve->alg == alg;
}

std::optional<KeyAlg> KeyPair::Alg() const {
  for (KeyAlg alg : {KeyAlg::kES256, KeyAlg::kES384, KeyAlg::kRS384})
    if (Fits(alg)) return alg;
  return std::nullopt;
}

Result<KeyPair> GenerateKey(std::string_view alg) {
  KeyAlg a;
  if (!ParseKeyAlg(alg, a)) return Invalid("unsupported key algorithm");
  EVP_PKEY* raw = nullptr;
  switch (a) {
    case KeyAlg::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1");
      break;
    case KeyAlg::kES384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1");
      break;
    case KeyAlg::kRS384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kGeneratedRsaBits);
      break;
  }
  if (raw == nullptr) return Error(ErrorCode::kInternal, "key generation failed");
  return KeyPair(raw);
}

std::string PrivateJwk(const KeyPair& key, std::string_view kid) {
  if (!key.has_private()) return "";
  return json::Serialize(JwkObject(key, kid, true));
}

std::string PublicJwk(const KeyPair& key, std::string_view kid) {
  return json::Serialize(JwkObject(key, kid, false));
}

Result<KeyPair> KeyFromJwk(std::string_view jwk_json) {
  if (jwk_json.size() > kMaxJwkBytes) return Invalid("the JWK is too large");
  Limits limits;
  limits.max_json_depth = 4;
  limits.max_string_bytes = kMaxJwkBytes;
  auto parsed = json::ParseObject(jwk_json, limits);
  if (!parsed.ok()) return Invalid("the JWK is not a JSON object");
  const json::object& jwk = *parsed;
  auto kty = json::GetString(jwk, "kty");
  if (!kty) return Invalid("the JWK has no kty");
  if (*kty == "EC") return EcFromJwk(jwk);
  if (*kty == "RSA") return RsaFromJwk(jwk);
  return Invalid("unsupported JWK key type (EC and RSA are supported)");
}

}  // namespace renkei::auth
