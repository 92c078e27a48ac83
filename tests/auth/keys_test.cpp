#include "auth/keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

#include "auth/jws.h"
#include "auth/test_keys.h"
#include "core/crypto.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

using testkeys::MakeKey;
using testkeys::SharedRsaKey;

json::object ParseJwk(const std::string& text) {
  auto o = json::ParseObject(text, Limits{});
  EXPECT_TRUE(o.ok());
  return std::move(o).value();
}

std::string WithMember(const std::string& jwk, std::string_view name, std::string_view value) {
  json::object o = ParseJwk(jwk);
  o[name] = value;
  return json::Serialize(o);
}

std::string WithoutMember(const std::string& jwk, std::string_view name) {
  json::object o = ParseJwk(jwk);
  o.erase(name);
  return json::Serialize(o);
}

class KeyRoundTrip : public ::testing::TestWithParam<std::string> {
 protected:
  KeyPair Key() { return GetParam() == "RS384" ? MakeCopy(SharedRsaKey()) : MakeKey(GetParam()); }
  static KeyPair MakeCopy(const KeyPair& key) {
    return std::move(KeyFromJwk(PrivateJwk(key, "k")).value());
  }
};

TEST_P(KeyRoundTrip, PrivateJwkImportsToTheSameKey) {
  KeyPair key = Key();
  ASSERT_TRUE(key.has_private());
  ASSERT_TRUE(key.Alg().has_value());
  EXPECT_EQ(ToString(*key.Alg()), GetParam());
  std::string priv = PrivateJwk(key, "kid-1");
  json::object o = ParseJwk(priv);
  EXPECT_EQ(json::GetString(o, "kid"), "kid-1");
  EXPECT_EQ(json::GetString(o, "alg"), GetParam());
  EXPECT_TRUE(json::GetString(o, "d").has_value());

  auto imported = KeyFromJwk(priv);
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_TRUE(imported->has_private());
  EXPECT_EQ(PrivateJwk(*imported, "kid-1"), priv);
  EXPECT_EQ(PublicJwk(*imported, "kid-1"), PublicJwk(key, "kid-1"));
}

TEST_P(KeyRoundTrip, PublicJwkHasNoPrivateMembersAndVerifies) {
  KeyPair key = Key();
  std::string pub = PublicJwk(key, "kid-2");
  json::object o = ParseJwk(pub);
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi"})
    EXPECT_EQ(json::Find(o, member), nullptr) << member;
  EXPECT_EQ(json::GetString(o, "alg"), GetParam());

  auto imported = KeyFromJwk(pub);
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_FALSE(imported->has_private());
  EXPECT_EQ(PrivateJwk(*imported, "kid-2"), "");
  EXPECT_EQ(PublicJwk(*imported, "kid-2"), pub);

  // A key signed with the original verifies under the imported public half.
  json::object payload{{"x", 1}};
  auto jws = SignCompact(key, GetParam(), "kid-2", payload);
  ASSERT_TRUE(jws.ok());
  store::KeyRecord record{"practitioner", "p1", "kid-2", GetParam(), pub};
  EXPECT_TRUE(VerifyCompact(*jws, {record}).ok());
  // A public-only key cannot sign.
  EXPECT_EQ(SignCompact(*imported, GetParam(), "kid-2", payload).error().code(),
            ErrorCode::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Algs, KeyRoundTrip, ::testing::Values("ES256", "ES384", "RS384"));

TEST(Keys, GeneratedKeysFitOnlyTheirAlgorithm) {
  KeyPair p256 = MakeKey("ES256");
  KeyPair p384 = MakeKey("ES384");
  EXPECT_TRUE(p256.Fits(KeyAlg::kES256));
  EXPECT_FALSE(p256.Fits(KeyAlg::kES384));
  EXPECT_FALSE(p256.Fits(KeyAlg::kRS384));
  EXPECT_TRUE(p384.Fits(KeyAlg::kES384));
  EXPECT_FALSE(p384.Fits(KeyAlg::kES256));
  EXPECT_TRUE(SharedRsaKey().Fits(KeyAlg::kRS384));
  EXPECT_FALSE(SharedRsaKey().Fits(KeyAlg::kES384));
  KeyPair rsa = MakeKey("RS384");
  EXPECT_EQ(EVP_PKEY_get_bits(rsa.get()), 3072);
  EXPECT_TRUE(rsa.Fits(KeyAlg::kRS384));
  EXPECT_FALSE(rsa.Fits(KeyAlg::kES256));
  EXPECT_FALSE(KeyPair().Fits(KeyAlg::kES384));
}

TEST(Keys, UnsupportedAlgorithmsAreNotGenerated) {
  for (const char* alg : {"none", "HS256", "ES512", "RS256", "PS384", ""})
    EXPECT_EQ(GenerateKey(alg).error().code(), ErrorCode::kInvalid) << alg;
}

TEST(Keys, MovedFromKeyIsEmpty) {
  KeyPair a = MakeKey("ES256");
  KeyPair b = std::move(a);
  EXPECT_TRUE(b.has_private());
  EXPECT_EQ(a.get(), nullptr);  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_FALSE(a.has_private());
}

TEST(Keys, MalformedJwksAreRefused) {
  std::string ec = PrivateJwk(MakeKey("ES384"), "k");
  std::string ec_pub = PublicJwk(MakeKey("ES384"), "k");
  std::string x(*json::GetString(ParseJwk(ec_pub), "x"));
  const std::string cases[] = {
      "",
      "not json",
      "[]",
      R"({"kty":"oct","k":"AAAA"})",
      R"({"crv":"P-256"})",
      WithMember(ec_pub, "crv", "P-521"),
      WithMember(ec_pub, "crv", "secp384r1"),
      WithoutMember(ec_pub, "y"),
      WithMember(ec_pub, "x", "AAAA"),   // short coordinate
      WithMember(ec_pub, "x", x + "="),  // padded base64url
      WithMember(ec, "d", "AAAA"),       // short private scalar
      WithMember(ec, "x", "not base64!"),
  };
  for (const auto& jwk : cases) {
    auto r = KeyFromJwk(jwk);
    ASSERT_FALSE(r.ok()) << jwk;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid) << jwk;
  }
}

TEST(Keys, PointOffTheCurveIsRefused) {
  json::object o = ParseJwk(PublicJwk(MakeKey("ES384"), "k"));
  // Flip the last byte of y: the point leaves the curve.
  std::string y = *crypto::Base64UrlDecode(*json::GetString(o, "y"));
  y.back() = static_cast<char>(y.back() ^ 1);
  o["y"] = crypto::Base64UrlEncode(y);
  EXPECT_EQ(KeyFromJwk(json::Serialize(o)).error().code(), ErrorCode::kInvalid);
}

TEST(Keys, PrivateHalfMustMatchPublicHalf) {
  json::object a = ParseJwk(PrivateJwk(MakeKey("ES256"), "k"));
  json::object b = ParseJwk(PrivateJwk(MakeKey("ES256"), "k"));
  a["d"] = b["d"];
  EXPECT_EQ(KeyFromJwk(json::Serialize(a)).error().code(), ErrorCode::kInvalid);

  json::object r = ParseJwk(PrivateJwk(SharedRsaKey(), "k"));
  json::object other = ParseJwk(PrivateJwk(testkeys::OtherRsaKey(), "k"));
  r["d"] = other["d"];
  EXPECT_EQ(KeyFromJwk(json::Serialize(r)).error().code(), ErrorCode::kInvalid);
}

TEST(Keys, RsaPrivateJwkNeedsItsFactors) {
  std::string priv = PrivateJwk(SharedRsaKey(), "k");
  for (const char* member : {"p", "q", "dp", "dq", "qi"})
    EXPECT_EQ(KeyFromJwk(WithoutMember(priv, member)).error().code(), ErrorCode::kInvalid)
        << member;
}

TEST(Keys, RsaKeysBelow2048BitsAreRefused) {
  KeyPair weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(weak.get(), nullptr);
  EXPECT_FALSE(weak.Fits(KeyAlg::kRS384));
  EXPECT_FALSE(weak.Alg().has_value());
  auto r = KeyFromJwk(PublicJwk(weak, "weak"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
}

TEST(Keys, JwkLargerThanTheLimitIsRefused) {
  std::string pub = PublicJwk(MakeKey("ES256"), "k");
  std::string padded = WithMember(pub, "x5u", std::string(17 * 1024, 'a'));
  EXPECT_EQ(KeyFromJwk(padded).error().code(), ErrorCode::kInvalid);
  // Just under the limit still imports (extra members are ignored).
  EXPECT_TRUE(KeyFromJwk(WithMember(pub, "note", std::string(15 * 1024, 'a'))).ok());
}

}  // namespace
}  // namespace renkei::auth
