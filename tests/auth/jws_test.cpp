#include "auth/jws.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "auth/test_keys.h"
#include "core/crypto.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

using testkeys::MakeKey;
using testkeys::RecordFor;
using testkeys::SharedRsaKey;

const json::object kPayload{{"iss", "doc-1"}, {"n", 42}};

std::string B64(std::string_view s) {
  return crypto::Base64UrlEncode(s);
}

std::vector<std::string> Parts(const std::string& jws) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = jws.find('.', start);
    out.push_back(jws.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& p) {
  return p[0] + "." + p[1] + "." + p[2];
}

void ExpectRefused(const Result<VerifiedJws>& r, std::string_view why) {
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated) << why << ": " << r.error().ToString();
}

// Refused for the stated reason (a substring of the error message).
void ExpectRefusedWith(const Result<VerifiedJws>& r, std::string_view reason) {
  ASSERT_FALSE(r.ok()) << reason;
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated) << r.error().ToString();
  EXPECT_NE(r.error().message().find(reason), std::string::npos) << r.error().ToString();
}

// A compact JWS with an arbitrary header, signed by key with the digest md (and, for EC
// keys, the JOSE raw signature of field_bytes halves): what an attacker holding a key can
// produce, which SignCompact refuses to.
std::string SignRaw(const KeyPair& key, std::string_view header, const EVP_MD* md,
                    size_t field_bytes) {
  std::string input = B64(header) + "." + B64(json::Serialize(kPayload));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (field_bytes > 0) sig = EcdsaDerToRaw(sig, field_bytes).value();
  return input + "." + B64(sig);
}

class JwsAlg : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "RS384") {
      key_ = std::move(KeyFromJwk(PrivateJwk(SharedRsaKey(), "k")).value());
    } else {
      key_ = MakeKey(GetParam());
    }
    record_ = RecordFor(key_, "practitioner", "doc-1", "key-1");
  }
  KeyPair key_;
  store::KeyRecord record_;
};

TEST_P(JwsAlg, SignedJwsVerifies) {
  auto jws = SignCompact(key_, GetParam(), "key-1", kPayload);
  ASSERT_TRUE(jws.ok()) << jws.error().ToString();
  auto other = RecordFor(MakeKey("ES384"), "practitioner", "doc-1", "key-0");
  auto v = VerifyCompact(*jws, {other, record_});
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(json::GetString(v->header, "alg"), GetParam());
  EXPECT_EQ(json::GetString(v->header, "kid"), "key-1");
  EXPECT_EQ(json::GetString(v->header, "typ"), "JWT");
  EXPECT_EQ(v->payload, kPayload);
}

TEST_P(JwsAlg, EcdsaSignaturesHaveTheRawJoseLength) {
  auto jws = SignCompact(key_, GetParam(), "key-1", kPayload);
  ASSERT_TRUE(jws.ok());
  size_t sig_bytes = crypto::Base64UrlDecode(Parts(*jws)[2])->size();
  size_t want = GetParam() == "ES256" ? 64u : GetParam() == "ES384" ? 96u : 256u;  // RSA 2048
  EXPECT_EQ(sig_bytes, want);
}

TEST_P(JwsAlg, TamperedPayloadIsRefused) {
  auto parts = Parts(SignCompact(key_, GetParam(), "key-1", kPayload).value());
  parts[1] = B64(R"({"iss":"doc-1","n":43})");
  ExpectRefused(VerifyCompact(Join(parts), {record_}), "tampered payload");
}

TEST_P(JwsAlg, TamperedSignatureIsRefused) {
  auto parts = Parts(SignCompact(key_, GetParam(), "key-1", kPayload).value());
  std::string sig = *crypto::Base64UrlDecode(parts[2]);
  sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  parts[2] = B64(sig);
  ExpectRefused(VerifyCompact(Join(parts), {record_}), "tampered signature");
  parts[2] = B64(sig.substr(0, sig.size() - 1));
  ExpectRefused(VerifyCompact(Join(parts), {record_}), "short signature");
}

TEST_P(JwsAlg, RevokedKeyIsRefused) {
  auto jws = SignCompact(key_, GetParam(), "key-1", kPayload).value();
  record_.revoked = true;
  ExpectRefused(VerifyCompact(jws, {record_}), "revoked");
}

TEST_P(JwsAlg, UnknownKidIsRefused) {
  auto jws = SignCompact(key_, GetParam(), "key-2", kPayload).value();
  ExpectRefused(VerifyCompact(jws, {record_}), "unknown kid");
  ExpectRefused(VerifyCompact(jws, {}), "no keys");
}

TEST_P(JwsAlg, SignatureByAnotherKeyWithTheSameKidIsRefused) {
  KeyPair other = GetParam() == "RS384"
                      ? std::move(KeyFromJwk(PrivateJwk(testkeys::OtherRsaKey(), "k")).value())
                      : MakeKey(GetParam());
  auto jws = SignCompact(other, GetParam(), "key-1", kPayload).value();
  ExpectRefused(VerifyCompact(jws, {record_}), "wrong key");
}

INSTANTIATE_TEST_SUITE_P(Algs, JwsAlg, ::testing::Values("ES256", "ES384", "RS384"));

TEST(Jws, AlgNoneIsRefused) {
  KeyPair key = MakeKey("ES384");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  std::string body = B64(json::Serialize(kPayload));
  for (const char* header : {R"({"alg":"none","kid":"key-1"})", R"({"alg":"None","kid":"key-1"})",
                             R"({"kid":"key-1"})"}) {
    ExpectRefused(VerifyCompact(B64(header) + "." + body + ".", {record}), header);
    ExpectRefused(VerifyCompact(B64(header) + "." + body + "." + B64("x"), {record}), header);
  }
}

TEST(Jws, HmacWithThePublicKeyAsSecretIsRefused) {
  // The classic confusion: HS384 keyed with the registered public key text.
  KeyPair key = MakeKey("ES384");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  std::string input =
      B64(R"({"alg":"HS384","kid":"key-1"})") + "." + B64(json::Serialize(kPayload));
  std::string jws = input + "." + B64(crypto::HmacSha256(record.public_jwk, input));
  ExpectRefused(VerifyCompact(jws, {record}), "HS384");
}

TEST(Jws, RsaKeyUnderAnEcdsaHeaderIsRefused) {
  // RSA key registered as RS384; the JWS header claims ES384: the header alg must match the
  // registered alg.
  auto rs_record = RecordFor(SharedRsaKey(), "practitioner", "doc-1", "key-1");
  std::string jws = SignRaw(SharedRsaKey(), R"({"alg":"ES384","kid":"key-1"})", EVP_sha384(), 0);
  ExpectRefusedWith(VerifyCompact(jws, {rs_record}), "does not match the registered key");
  // A record whose alg lies about its key (RSA key registered as ES384).
  rs_record.alg = "ES384";
  ExpectRefusedWith(VerifyCompact(jws, {rs_record}), "does not fit its algorithm");
  // Signing refuses mismatches too.
  KeyPair ec = MakeKey("ES384");
  EXPECT_EQ(SignCompact(SharedRsaKey(), "ES384", "k", kPayload).error().code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(SignCompact(ec, "RS384", "k", kPayload).error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(SignCompact(ec, "ES256", "k", kPayload).error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(SignCompact(ec, "none", "k", kPayload).error().code(), ErrorCode::kInvalid);
}

TEST(Jws, P256KeyUnderAnEs384HeaderIsRefused) {
  KeyPair p256 = MakeKey("ES256");
  auto record = RecordFor(p256, "practitioner", "doc-1", "key-1");
  // Sanity: the raw signer makes JWSs the verifier accepts when everything matches.
  ASSERT_TRUE(
      VerifyCompact(SignRaw(p256, R"({"alg":"ES256","kid":"key-1"})", EVP_sha256(), 32), {record})
          .ok());
  std::string jws = SignRaw(p256, R"({"alg":"ES384","kid":"key-1"})", EVP_sha384(), 32);
  ExpectRefusedWith(VerifyCompact(jws, {record}), "does not match the registered key");
  record.alg = "ES384";
  ExpectRefusedWith(VerifyCompact(jws, {record}), "does not fit its algorithm");
}

TEST(Jws, CritHeaderIsRefused) {
  KeyPair key = MakeKey("ES256");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  std::string jws =
      SignRaw(key, R"({"alg":"ES256","kid":"key-1","crit":["exp"],"exp":1})", EVP_sha256(), 32);
  ExpectRefusedWith(VerifyCompact(jws, {record}), "critical");
}

TEST(Jws, RefusalsNameTheirReason) {
  KeyPair key = MakeKey("ES256");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  std::string jws = SignCompact(key, "ES256", "key-1", kPayload).value();
  ExpectRefusedWith(VerifyCompact(SignCompact(key, "ES256", "key-2", kPayload).value(), {record}),
                    "unknown signing key");
  record.revoked = true;
  ExpectRefusedWith(VerifyCompact(jws, {record}), "revoked");
  record.revoked = false;
  ExpectRefusedWith(VerifyCompact(SignRaw(key, R"({"alg":"ES256"})", EVP_sha256(), 32), {record}),
                    "no kid");
  ExpectRefusedWith(
      VerifyCompact(SignRaw(key, R"({"alg":"none","kid":"key-1"})", EVP_sha256(), 32), {record}),
      "unsupported JWS algorithm");
}

TEST(Jws, MalformedInputIsRefused) {
  KeyPair key = MakeKey("ES256");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  std::string good = SignCompact(key, "ES256", "key-1", kPayload).value();
  auto p = Parts(good);
  const std::string cases[] = {
      "",
      "abc",
      "a.b",
      p[0] + "." + p[1],
      p[0] + "." + p[1] + "." + p[2] + ".x",
      p[0] + ".." + p[2],
      "." + p[1] + "." + p[2],
      p[0] + "=." + p[1] + "." + p[2],
      p[0] + "." + p[1] + "." + p[2] + "=",
      p[0] + " ." + p[1] + "." + p[2],
      B64("not json") + "." + p[1] + "." + p[2],
      B64("[1]") + "." + p[1] + "." + p[2],
      p[0] + "." + B64("[1]") + "." + p[2],
  };
  for (const auto& jws : cases) ExpectRefused(VerifyCompact(jws, {record}), jws);
  EXPECT_TRUE(VerifyCompact(good, {record}).ok());
}

TEST(Jws, JwsLargerThanTheLimitIsRefused) {
  KeyPair key = MakeKey("ES256");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  json::object big{{"pad", std::string(kMaxJwsBytes, 'a')}};
  auto jws = SignCompact(key, "ES256", "key-1", big).value();
  ASSERT_GT(jws.size(), kMaxJwsBytes);
  ExpectRefused(VerifyCompact(jws, {record}), "too large");
  EXPECT_FALSE(PeekPayload(jws).ok());
  json::object fits{{"pad", std::string(kMaxJwsBytes / 2, 'a')}};
  EXPECT_TRUE(VerifyCompact(SignCompact(key, "ES256", "key-1", fits).value(), {record}).ok());
}

TEST(Jws, PayloadNestedDeeperThanTheLimitIsRefused) {
  KeyPair key = MakeKey("ES256");
  auto record = RecordFor(key, "practitioner", "doc-1", "key-1");
  auto nested = [](int depth) {
    json::value v = 1;
    for (int i = 0; i < depth; ++i) v = json::object{{"a", v}};  // depth nested objects
    return v.as_object();
  };
  EXPECT_TRUE(VerifyCompact(SignCompact(key, "ES256", "key-1", nested(8)).value(), {record}).ok());
  ExpectRefused(VerifyCompact(SignCompact(key, "ES256", "key-1", nested(9)).value(), {record}),
                "depth 9");
}

TEST(Jws, PeekReadsWithoutVerifying) {
  KeyPair key = MakeKey("ES384");
  auto parts = Parts(SignCompact(key, "ES384", "key-9", kPayload, "card+jwt").value());
  parts[2] = B64("garbage");
  std::string jws = Join(parts);
  auto header = PeekHeader(jws);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(json::GetString(*header, "kid"), "key-9");
  EXPECT_EQ(json::GetString(*header, "typ"), "card+jwt");
  auto payload = PeekPayload(jws);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, kPayload);
  EXPECT_EQ(PeekHeader("x.y").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(PeekPayload(B64("{}") + "." + B64("1") + ".c").error().code(),
            ErrorCode::kUnauthenticated);
}

TEST(EcdsaEncoding, DerAndRawRoundTrip) {
  // r = 1, s = 0x80 (a DER INTEGER needing a leading zero byte).
  std::string raw(64, '\0');
  raw[31] = 1;
  raw[63] = static_cast<char>(0x80);
  auto der = EcdsaRawToDer(raw, 32);
  ASSERT_TRUE(der.has_value());
  const std::string expected_der("\x30\x07\x02\x01\x01\x02\x02\x00\x80", 9);
  EXPECT_EQ(*der, expected_der);
  auto back = EcdsaDerToRaw(*der, 32);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, raw);
}

TEST(EcdsaEncoding, FullWidthValuesRoundTrip) {
  std::string raw(96, '\xff');
  raw[0] = '\x7f';
  auto der = EcdsaRawToDer(raw, 48);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(EcdsaDerToRaw(*der, 48), raw);
  // The same values do not fit a P-256 signature.
  EXPECT_FALSE(EcdsaDerToRaw(*der, 32).has_value());
}

TEST(EcdsaEncoding, MalformedInputIsRefused) {
  EXPECT_FALSE(EcdsaRawToDer(std::string(63, 'a'), 32).has_value());
  EXPECT_FALSE(EcdsaRawToDer("", 0).has_value());
  EXPECT_FALSE(EcdsaDerToRaw("", 32).has_value());
  EXPECT_FALSE(EcdsaDerToRaw("\x30\x07\x02\x01", 32).has_value());
  // Trailing bytes after a valid DER signature.
  std::string der("\x30\x06\x02\x01\x01\x02\x01\x02", 8);
  EXPECT_TRUE(EcdsaDerToRaw(der, 32).has_value());
  EXPECT_FALSE(EcdsaDerToRaw(der + "x", 32).has_value());
}

}  // namespace
}  // namespace renkei::auth
