#include "auth/access_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'800'000'000);

Principal Doctor() {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = "doc-1";
  p.facility_code = "1310000001";
  p.facility_type = FacilityType::kHospital;
  p.prefecture = "13";
  p.emergency_hospital = true;
  p.practitioner_id = "doc-1";
  p.qualification = Qualification::kPhysician;
  return p;
}

AccessTokenCodec Codec(std::string secret = std::string(32, 's'), std::string issuer = "renkei") {
  auto c = AccessTokenCodec::Create(secret, std::move(issuer));
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

void ExpectRefused(const Result<Principal>& r, std::string_view why) {
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated) << why;
}

TEST(AccessToken, RoundTripsEveryPrincipalField) {
  AccessTokenCodec codec = Codec();
  std::string jti;
  std::string token = codec.Issue(Doctor(), kNow, seconds(300), &jti);
  EXPECT_FALSE(jti.empty());
  auto p = codec.Verify(token, kNow + seconds(299));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  Principal want = Doctor();
  EXPECT_EQ(p->kind, want.kind);
  EXPECT_EQ(p->subject, want.subject);
  EXPECT_EQ(p->facility_code, want.facility_code);
  EXPECT_EQ(p->facility_type, want.facility_type);
  EXPECT_EQ(p->prefecture, want.prefecture);
  EXPECT_EQ(p->emergency_hospital, want.emergency_hospital);
  EXPECT_EQ(p->practitioner_id, want.practitioner_id);
  EXPECT_EQ(p->qualification, want.qualification);
  EXPECT_EQ(p->token_id, jti);

  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = "pat-1";
  patient.facility_type = FacilityType::kPharmacy;
  auto q = codec.Verify(codec.Issue(patient, kNow, seconds(60)), kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->kind, PrincipalKind::kPatient);
  EXPECT_EQ(q->subject, "pat-1");
  EXPECT_EQ(q->facility_type, FacilityType::kPharmacy);
  EXPECT_FALSE(q->emergency_hospital);
  EXPECT_EQ(q->qualification, Qualification::kNone);
}

TEST(AccessToken, TokenIdsDiffer) {
  AccessTokenCodec codec = Codec();
  std::string a, b;
  EXPECT_NE(codec.Issue(Doctor(), kNow, seconds(300), &a),
            codec.Issue(Doctor(), kNow, seconds(300), &b));
  EXPECT_NE(a, b);
}

TEST(AccessToken, ExpiredTokenIsRefused) {
  AccessTokenCodec codec = Codec();
  std::string token = codec.Issue(Doctor(), kNow, seconds(300));
  ExpectRefused(codec.Verify(token, kNow + seconds(300)), "at exp");
  ExpectRefused(codec.Verify(token, kNow + seconds(3600)), "long after");
}

TEST(AccessToken, TamperedTokenIsRefused) {
  AccessTokenCodec codec = Codec();
  std::string token = codec.Issue(Doctor(), kNow, seconds(300));
  size_t first = token.find('.'), last = token.rfind('.');
  // Re-encode the payload with one claim changed, keeping the MAC.
  auto payload = json::ParseObject(
      *crypto::Base64UrlDecode(token.substr(first + 1, last - first - 1)), Limits{});
  ASSERT_TRUE(payload.ok());
  (*payload)["qualification"] = "physician";
  (*payload)["facility"] = "1310000002";
  std::string forged = token.substr(0, first + 1) +
                       crypto::Base64UrlEncode(json::Serialize(*payload)) + token.substr(last);
  ExpectRefused(codec.Verify(forged, kNow), "payload changed");
  std::string flipped = token;
  flipped[last + 5] = flipped[last + 5] == 'A' ? 'B' : 'A';
  ExpectRefused(codec.Verify(flipped, kNow), "MAC changed");
  ExpectRefused(codec.Verify(token.substr(0, token.size() - 1), kNow), "MAC truncated");
  ExpectRefused(codec.Verify(token + "A", kNow), "MAC extended");
  ExpectRefused(codec.Verify("not-a-token", kNow), "garbage");
  ExpectRefused(codec.Verify("", kNow), "empty");
  ExpectRefused(codec.Verify(token.substr(0, last), kNow), "no MAC");
}

TEST(AccessToken, TokenUnderAnotherSecretOrIssuerIsRefused) {
  std::string token = Codec().Issue(Doctor(), kNow, seconds(300));
  ExpectRefused(Codec(std::string(32, 't')).Verify(token, kNow), "other secret");
  ExpectRefused(Codec(std::string(32, 's'), "other").Verify(token, kNow), "other issuer");
  EXPECT_TRUE(Codec().Verify(token, kNow).ok());
}

TEST(AccessToken, OtherHeadersAreRefused) {
  AccessTokenCodec codec = Codec();
  std::string token = codec.Issue(Doctor(), kNow, seconds(300));
  std::string rest = token.substr(token.find('.'));
  for (const char* header : {R"({"alg":"none","typ":"at+jwt"})", R"({"alg":"HS256"})",
                             R"({"alg":"RS256","typ":"at+jwt"})"}) {
    ExpectRefused(codec.Verify(crypto::Base64UrlEncode(header) + rest, kNow), header);
  }
  // alg none with no MAC at all.
  std::string payload = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  ExpectRefused(
      codec.Verify(crypto::Base64UrlEncode(R"({"alg":"none"})") + "." + payload + ".", kNow),
      "alg none");
}

TEST(AccessToken, TokenLargerThanTheLimitIsRefused) {
  AccessTokenCodec codec = Codec();
  Principal p = Doctor();
  p.subject = std::string(kMaxAccessTokenBytes, 'x');
  ExpectRefused(codec.Verify(codec.Issue(p, kNow, seconds(300)), kNow), "too large");
  p.subject = std::string(kMaxAccessTokenBytes / 2, 'x');
  EXPECT_TRUE(codec.Verify(codec.Issue(p, kNow, seconds(300)), kNow).ok());
}

TEST(AccessToken, ShortSecretIsRefused) {
  EXPECT_EQ(AccessTokenCodec::Create(std::string(31, 's'), "renkei").error().code(),
            ErrorCode::kInvalid);
}

TEST(AccessToken, MacIsHmacSha256) {
  // The token is a standard HS256 JWT: its MAC equals HMAC-SHA256 over header.payload, for
  // secrets shorter than, as long as and longer than the SHA-256 block (RFC 2104 §2).
  for (size_t length : {32, 63, 64, 65, 100}) {
    std::string secret = crypto::RandomBytes(length);
    AccessTokenCodec codec = Codec(secret);
    std::string token = codec.Issue(Doctor(), kNow, seconds(300));
    size_t last = token.rfind('.');
    EXPECT_EQ(*crypto::Base64UrlDecode(token.substr(last + 1)),
              crypto::HmacSha256(secret, token.substr(0, last)))
        << length;
    EXPECT_TRUE(codec.Verify(token, kNow).ok()) << length;
  }
}

TEST(AccessToken, VerifiesFromManyThreads) {
  AccessTokenCodec codec = Codec();
  std::string token = codec.Issue(Doctor(), kNow, seconds(300));
  std::string forged = token;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (codec.Verify(token, kNow).ok()) ++accepted;
        if (!codec.Verify(forged, kNow).ok()) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 2000);
  EXPECT_EQ(refused.load(), 2000);
}

}  // namespace
}  // namespace renkei::auth
