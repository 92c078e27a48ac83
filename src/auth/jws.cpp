#include "auth/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <array>
#include <optional>

#include "auth/ossl.h"
#include "core/crypto.h"

namespace renkei::auth {
namespace {

Error Unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

const EVP_MD* DigestFor(KeyAlg alg) {
  return alg == KeyAlg::kES256 ? EVP_sha256() : EVP_sha384();
}

size_t FieldBytes(KeyAlg alg) {
  return alg == KeyAlg::kES256 ? 32 : 48;
}

bool IsEcdsa(KeyAlg alg) {
  return alg != KeyAlg::kRS384;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

struct CompactParts {
  std::string_view header;     // base64url
  std::string_view payload;    // base64url
  std::string_view signature;  // base64url
  std::string_view signing_input() const {
    return std::string_view(header.data(), header.size() + 1 + payload.size());
  }
};

// Splits "h.p.s" (exactly three non-empty base64url segments, RFC 7515 §7.1).
Result<CompactParts> Split(std::string_view jws) {
  if (jws.empty()) return Unauthenticated("empty JWS");
  if (jws.size() > kMaxJwsBytes) return Unauthenticated("the JWS is too large");
  size_t first = jws.find('.');
  if (first == std::string_view::npos) return Unauthenticated("malformed JWS");
  size_t second = jws.find('.', first + 1);
  if (second == std::string_view::npos) return Unauthenticated("malformed JWS");
  CompactParts parts{jws.substr(0, first), jws.substr(first + 1, second - first - 1),
                     jws.substr(second + 1)};
  for (std::string_view part : {parts.header, parts.payload, parts.signature}) {
    if (part.empty()) return Unauthenticated("malformed JWS");
    for (char c : part)
      if (!IsBase64UrlChar(c)) return Unauthenticated("malformed JWS");
  }
  return parts;
}

Result<json::object> DecodeJsonPart(std::string_view b64, std::string_view what) {
  auto bytes = crypto::Base64UrlDecode(b64);
  if (!bytes) return Unauthenticated(std::string("malformed JWS ") + std::string(what));
  Limits limits;
  limits.max_json_depth = 8;
  limits.max_string_bytes = kMaxJwsBytes;
  auto obj = json::ParseObject(*bytes, limits);
  if (!obj.ok()) return Unauthenticated(std::string("malformed JWS ") + std::string(what));
  return std::move(obj).value();
}

// Signature bytes in JOSE form for data under key.
Result<std::string> RawSign(const KeyPair& key, KeyAlg alg, std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(alg), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    return Error(ErrorCode::kInternal, "signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return Error(ErrorCode::kInternal, "signing failed");
  sig.resize(len);
  if (!IsEcdsa(alg)) return sig;
  auto raw = EcdsaDerToRaw(sig, FieldBytes(alg));
  if (!raw) return Error(ErrorCode::kInternal, "signing produced an unexpected signature");
  return std::move(*raw);
}

bool RawVerify(const KeyPair& key, KeyAlg alg, std::string_view data, std::string_view sig) {
  std::string der;
  if (IsEcdsa(alg)) {
    // JOSE requires exactly 2 * field bytes (RFC 7518 §3.4); other lengths are forgeries
    // or another curve's signature.
    if (sig.size() != 2 * FieldBytes(alg)) return false;
    auto converted = EcdsaRawToDer(sig, FieldBytes(alg));
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(alg), nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

}  // namespace

std::optional<std::string> EcdsaDerToRaw(std::string_view der, size_t field_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  if (BN_is_negative(r) || BN_is_negative(s) ||
      static_cast<size_t>(BN_num_bytes(r)) > field_bytes ||
      static_cast<size_t>(BN_num_bytes(s)) > field_bytes)
    return std::nullopt;
  std::string out(2 * field_bytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, dst, static_cast<int>(field_bytes)) < 0 ||
      BN_bn2binpad(s, dst + field_bytes, static_cast<int>(field_bytes)) < 0)
    return std::nullopt;
  return out;
}

std::optional<std::string> EcdsaRawToDer(std::string_view raw, size_t field_bytes) {
  if (field_bytes == 0 || raw.size() != 2 * field_bytes) return std::nullopt;
  const auto* src = reinterpret_cast<const unsigned char*>(raw.data());
  BignumPtr r(BN_bin2bn(src, static_cast<int>(field_bytes), nullptr));
  BignumPtr s(BN_bin2bn(src + field_bytes, static_cast<int>(field_bytes), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0 || der == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::string> SignCompact(const KeyPair& key, std::string_view alg, std::string_view kid,
                                const json::object& payload, std::string_view typ) {
  KeyAlg a;
  if (!ParseKeyAlg(alg, a)) return Error(ErrorCode::kInvalid, "unsupported JWS algorithm");
  if (!key.has_private()) return Error(ErrorCode::kInvalid, "signing needs a private key");
  if (!key.Fits(a)) return Error(ErrorCode::kInvalid, "the key does not fit the algorithm");
  json::object header;
  header["alg"] = alg;
  header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  std::string input = crypto::Base64UrlEncode(json::Serialize(header));
  input += '.';
  input += crypto::Base64UrlEncode(json::Serialize(payload));
  RK_ASSIGN_OR_RETURN(std::string sig, RawSign(key, a, input));
  input += '.';
  input += crypto::Base64UrlEncode(sig);
  return input;
}

Result<VerifiedJws> VerifyCompact(std::string_view jws, const std::vector<store::KeyRecord>& keys) {
  RK_ASSIGN_OR_RETURN(CompactParts parts, Split(jws));
  RK_ASSIGN_OR_RETURN(json::object header, DecodeJsonPart(parts.header, "header"));
  auto alg_text = json::GetString(header, "alg");
  if (!alg_text) return Unauthenticated("the JWS header has no alg");
  KeyAlg alg;
  // Only the asymmetric algorithms: "none" and HMAC algorithms would let anyone who knows
  // a public key forge (RFC 8725 §2.1, §3.1).
  if (!ParseKeyAlg(*alg_text, alg)) return Unauthenticated("unsupported JWS algorithm");
  if (json::Find(header, "crit") != nullptr)
    return Unauthenticated("JWS critical header extensions are not supported");
  auto kid = json::GetString(header, "kid");
  if (!kid || kid->empty()) return Unauthenticated("the JWS header has no kid");

  const store::KeyRecord* record = nullptr;
  for (const auto& k : keys) {
    if (k.kid == *kid) {
      record = &k;
      break;
    }
  }
  if (record == nullptr) return Unauthenticated("unknown signing key");
  if (record->revoked) return Unauthenticated("the signing key is revoked");
  // The registered alg binds the key: a header naming another alg is refused even when the
  // key could be used with it (RFC 8725 §3.1).
  if (record->alg != *alg_text)
    return Unauthenticated("the JWS alg does not match the registered key");
  auto key = KeyFromJwk(record->public_jwk);
  if (!key.ok() || !key->Fits(alg))
    return Unauthenticated("the registered key does not fit its algorithm");

  auto sig = crypto::Base64UrlDecode(parts.signature);
  if (!sig || !RawVerify(*key, alg, parts.signing_input(), *sig))
    return Unauthenticated("invalid JWS signature");
  RK_ASSIGN_OR_RETURN(json::object payload, DecodeJsonPart(parts.payload, "payload"));
  return VerifiedJws{std::move(header), std::move(payload)};
}

Result<json::object> PeekHeader(std::string_view jws) {
  RK_ASSIGN_OR_RETURN(CompactParts parts, Split(jws));
  return DecodeJsonPart(parts.header, "header");
}

Result<json::object> PeekPayload(std::string_view jws) {
  RK_ASSIGN_OR_RETURN(CompactParts parts, Split(jws));
  return DecodeJsonPart(parts.payload, "payload");
}

}  // namespace renkei::auth
