// The patient portal login by card challenge, through its route handlers, on real databases of
// both engines.
#include "auth/patient_login.h"

#include <gtest/gtest.h>

#include "auth/card.h"
#include "auth/form.h"
#include "auth/jws.h"
#include "auth/test_keys.h"
#include "core/crypto.h"
#include "core/json.h"
#include "support/test_db.h"

namespace renkei::auth {
namespace {

using renkei::testing::Engine;
using std::chrono::seconds;
using testkeys::MakeKey;
using testkeys::RecordFor;

const TimePoint kStart = FromUnixSeconds(1'800'000'000);

class PatientLoginTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    auto tokens = TokenService::Create(
        *store_, *audit_, clock_, [](std::string_view, std::string_view) -> Result<Principal> {
          return Error(ErrorCode::kForbidden, "no practitioners here");
        });
    ASSERT_TRUE(tokens.ok()) << tokens.error().ToString();
    tokens_ = std::move(tokens).value();
    auto login = PatientLoginService::Create(*store_, *audit_, clock_, *tokens_);
    ASSERT_TRUE(login.ok()) << login.error().ToString();
    login_ = std::move(login).value();
    routes_ = login_->Routes();
    card_ = MakeKey("ES256");
    other_card_ = MakeKey("ES384");
    Register(RecordFor(card_, "patient", "pat-1", "card-1"));
    Register(RecordFor(other_card_, "patient", "pat-2", "card-2"));
  }

  void Register(const store::KeyRecord& record) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.PutKey(record); });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  Response Call(std::string_view pattern, std::string body,
                std::string content_type = "application/x-www-form-urlencoded") {
    for (Route& r : routes_) {
      if (r.pattern != pattern) continue;
      Request req;
      req.method = r.method;
      req.path = std::string(pattern);
      req.headers["content-type"] = std::move(content_type);
      req.body = std::move(body);
      req.base_url = "http://127.0.0.1:8080";
      return r.handler(req);
    }
    ADD_FAILURE() << "no route " << pattern;
    return {};
  }

  static json::object BodyOf(const Response& r) {
    auto body = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(body.ok()) << r.body;
    return body.ok() ? *body : json::object{};
  }

  std::string Challenge(std::string_view patient = "pat-1") {
    Response r = Call(kPatientChallengePath, EncodeForm({{"patient", std::string(patient)}}));
    EXPECT_EQ(r.status, 200) << r.body;
    json::object body = BodyOf(r);
    EXPECT_EQ(json::GetInt(body, "expires_in"), 120);
    return std::string(json::GetString(body, "challenge").value_or(""));
  }

  std::string SignLogin(std::string_view challenge, const KeyPair& key, std::string_view kid,
                        std::string_view patient = "pat-1") {
    auto jws = SignPatientLogin(key, kid, patient, challenge, clock_.Now());
    EXPECT_TRUE(jws.ok()) << jws.error().ToString();
    return jws.ok() ? *jws : "";
  }

  Response Login(std::string_view challenge, std::string_view assertion) {
    return Call(kPatientTokenPath, EncodeForm({{"challenge", std::string(challenge)},
                                               {"card_assertion", std::string(assertion)}}));
  }

  static void ExpectRefused(const Response& r, int status, std::string_view error,
                            std::string_view reason = "") {
    EXPECT_EQ(r.status, status) << r.body;
    json::object body = BodyOf(r);
    EXPECT_EQ(json::GetString(body, "error"), error) << r.body;
    EXPECT_NE(std::string(json::GetString(body, "error_description").value_or("")).find(reason),
              std::string::npos)
        << r.body;
    EXPECT_EQ(json::Find(body, "access_token"), nullptr);
  }

  std::vector<store::AuditRow> LoginAudit() {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ScanAudit(1, 1000); });
    EXPECT_TRUE(rows.ok());
    std::vector<store::AuditRow> out;
    for (auto& row : *rows)
      if (row.action == "login") out.push_back(row);
    return out;
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<PatientLoginService> login_;
  RouteTable routes_;
  KeyPair card_, other_card_;
};

TEST_P(PatientLoginTest, SignedChallengeGivesAPatientToken) {
  std::string challenge = Challenge();
  clock_.Advance(seconds(5));
  Response r = Login(challenge, SignLogin(challenge, card_, "card-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = BodyOf(r);
  EXPECT_EQ(json::GetString(body, "token_type"), "Bearer");
  EXPECT_EQ(json::GetString(body, "patient"), "pat-1");
  EXPECT_EQ(json::GetInt(body, "expires_in"), tokens_->options().access_token_lifetime.count());
  auto who = tokens_->VerifyAccessToken(json::GetString(body, "access_token").value_or(""));
  ASSERT_TRUE(who.ok()) << who.error().ToString();
  EXPECT_EQ(who->kind, PrincipalKind::kPatient);
  EXPECT_EQ(who->subject, "pat-1");
  EXPECT_TRUE(who->practitioner_id.empty());

  auto audit = LoginAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].patient_id, "pat-1");
  EXPECT_EQ(audit[0].qualification, "patient");
  EXPECT_EQ(audit[0].purpose, "PATRQT");
  EXPECT_EQ(audit[0].outcome, "success");
}

TEST_P(PatientLoginTest, ChallengeTakesJsonAndRefusesBadInput) {
  Response json_body = Call(kPatientChallengePath, R"({"patient":"pat-2"})", "application/json");
  EXPECT_EQ(json_body.status, 200) << json_body.body;
  std::string challenge(json::GetString(BodyOf(json_body), "challenge").value_or(""));
  EXPECT_EQ(Login(challenge, SignLogin(challenge, other_card_, "card-2", "pat-2")).status, 200);

  ExpectRefused(Call(kPatientChallengePath, EncodeForm({{"patient", "bad id!"}})), 400,
                "invalid_request");
  ExpectRefused(Call(kPatientChallengePath, ""), 400, "invalid_request", "patient is missing");
  ExpectRefused(Call(kPatientChallengePath, "patient=a&patient=b"), 400, "invalid_request",
                "repeats");
  ExpectRefused(Call(kPatientChallengePath, "patient=pat-1", "text/plain"), 400, "invalid_request");
  ExpectRefused(Call(kPatientChallengePath, "[1]", "application/json"), 400, "invalid_request");
}

TEST_P(PatientLoginTest, UnknownPatientGetsAChallengeAndFailsLikeAWrongKey) {
  // The challenge endpoint does not reveal who is registered.
  std::string challenge = Challenge("pat-404");
  EXPECT_FALSE(challenge.empty());
  Response unknown = Login(challenge, SignLogin(challenge, card_, "card-1", "pat-404"));
  std::string other_challenge = Challenge();
  Response wrong_key = Login(other_challenge, SignLogin(other_challenge, other_card_, "card-1"));
  ExpectRefused(unknown, 401, "invalid_client");
  ExpectRefused(wrong_key, 401, "invalid_client");
  EXPECT_EQ(json::GetString(BodyOf(unknown), "error_description"),
            json::GetString(BodyOf(wrong_key), "error_description"));
}

TEST_P(PatientLoginTest, AnotherPatientsCardIsRefused) {
  // pat-2's card under its own kid, for pat-1's challenge, naming pat-1 or pat-2.
  std::string challenge = Challenge();
  ExpectRefused(Login(challenge, SignLogin(challenge, other_card_, "card-2")), 401,
                "invalid_client");
  ExpectRefused(Login(challenge, SignLogin(challenge, other_card_, "card-2", "pat-2")), 401,
                "invalid_client");
  // pat-1's own card signing a login that names pat-2 for pat-1's challenge.
  ExpectRefused(Login(challenge, SignLogin(challenge, card_, "card-1", "pat-2")), 401,
                "invalid_client", "another patient");
  // A challenge for pat-2 answered with pat-1's card.
  std::string for_two = Challenge("pat-2");
  ExpectRefused(Login(for_two, SignLogin(for_two, card_, "card-1", "pat-2")), 401,
                "invalid_client");
  // The challenge parameter and the signed challenge must be the same.
  std::string mine = Challenge();
  ExpectRefused(Login(mine, SignLogin(challenge, card_, "card-1")), 401, "invalid_client",
                "another challenge");
}

TEST_P(PatientLoginTest, ExpiredChallengeIsRefused) {
  std::string challenge = Challenge();
  clock_.Advance(seconds(119));
  std::string late = SignLogin(challenge, card_, "card-1");
  clock_.Advance(seconds(1));
  ExpectRefused(Login(challenge, late), 400, "invalid_grant", "expired");
  // One second earlier it would have been accepted.
  std::string fresh = Challenge();
  clock_.Advance(seconds(119));
  EXPECT_EQ(Login(fresh, SignLogin(fresh, card_, "card-1")).status, 200);
}

TEST_P(PatientLoginTest, ForgedOrModifiedChallengeIsRefused) {
  std::string challenge = Challenge();
  // Another patient's id swapped into a genuine challenge.
  std::string swapped = challenge;
  std::string pat1 = crypto::Base64UrlEncode("pat-1"), pat2 = crypto::Base64UrlEncode("pat-2");
  swapped.replace(swapped.find(pat1), pat1.size(), pat2);
  ExpectRefused(Login(swapped, SignLogin(swapped, other_card_, "card-2", "pat-2")), 400,
                "invalid_grant", "not issued");
  // A later expiry.
  size_t first = challenge.find('.', 3) + 1;
  size_t second = challenge.find('.', first);
  std::string extended = challenge;
  extended.replace(first, second - first, std::to_string(ToUnixSeconds(kStart) + 100000));
  ExpectRefused(Login(extended, SignLogin(extended, card_, "card-1")), 400, "invalid_grant",
                "not issued");
  // A challenge made up with a MAC under another key, and one flipped MAC character.
  std::string tail = challenge.substr(0, challenge.rfind('.') + 1);
  std::string made_up =
      tail + crypto::Base64UrlEncode(crypto::HmacSha256(std::string(32, 'k'), tail));
  ExpectRefused(Login(made_up, SignLogin(made_up, card_, "card-1")), 400, "invalid_grant");
  std::string flipped = challenge;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  ExpectRefused(Login(flipped, SignLogin(flipped, card_, "card-1")), 400, "invalid_grant");
  ExpectRefused(Login("garbage", SignLogin("garbage", card_, "card-1")), 400, "invalid_grant");
  ExpectRefused(Login(std::string(kMaxChallengeBytes + 1, 'a'), SignLogin("x", card_, "card-1")),
                400, "invalid_grant");
  // The genuine challenge still works.
  EXPECT_EQ(Login(challenge, SignLogin(challenge, card_, "card-1")).status, 200);
}

TEST_P(PatientLoginTest, ChallengeIsSpentOnce) {
  std::string challenge = Challenge();
  std::string assertion = SignLogin(challenge, card_, "card-1");
  EXPECT_EQ(Login(challenge, assertion).status, 200);
  ExpectRefused(Login(challenge, assertion), 400, "invalid_grant", "already used");
  // A fresh signature over the spent challenge too.
  clock_.Advance(seconds(1));
  ExpectRefused(Login(challenge, SignLogin(challenge, card_, "card-1")), 400, "invalid_grant",
                "already used");
  // A failed attempt does not spend it.
  std::string next = Challenge();
  ExpectRefused(Login(next, SignLogin(next, other_card_, "card-1")), 401, "invalid_client");
  EXPECT_EQ(Login(next, SignLogin(next, card_, "card-1")).status, 200);
}

TEST_P(PatientLoginTest, ConsentAndLoginAssertionsAreNotInterchangeable) {
  std::string challenge = Challenge();
  // A consent from the card reader, however fresh, is not a login.
  auto consent =
      SignCardAssertion(card_, "card-1", "pat-1", "1310000011", "TREAT", {"all"}, clock_.Now());
  ASSERT_TRUE(consent.ok());
  ExpectRefused(Login(challenge, *consent), 401, "invalid_client", "not a login");
  // A consent-shaped claim set carrying the challenge, typ card+jwt: still not a login.
  json::object claims{{"sub", "pat-1"},
                      {"challenge", challenge},
                      {"iat", ToUnixSeconds(clock_.Now())},
                      {"facility", "1310000011"},
                      {"purpose", "TREAT"},
                      {"categories", json::array{"all"}},
                      {"nonce", "n-1"}};
  ExpectRefused(Login(challenge, SignCompact(card_, "ES256", "card-1", claims, "card+jwt").value()),
                401, "invalid_client", "not a login");
  // And a login (even one carrying consent claims) is not a consent at the card reader.
  CardVerifier verifier(*store_, clock_);
  auto as_consent = verifier.Verify(
      SignCompact(card_, "ES256", "card-1", claims, kCardLoginTyp).value(), "1310000011");
  ASSERT_FALSE(as_consent.ok());
  EXPECT_EQ(as_consent.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(verifier.Verify(SignLogin(challenge, card_, "card-1"), "1310000011").ok());
  // The challenge was not spent by the refusals.
  EXPECT_EQ(Login(challenge, SignLogin(challenge, card_, "card-1")).status, 200);
}

TEST_P(PatientLoginTest, RevokedCardIsRefused) {
  store::KeyRecord record = RecordFor(card_, "patient", "pat-1", "card-1");
  record.revoked = true;
  Register(record);
  std::string challenge = Challenge();
  ExpectRefused(Login(challenge, SignLogin(challenge, card_, "card-1")), 401, "invalid_client");
  // A reissued card works.
  KeyPair reissued = MakeKey("ES256");
  Register(RecordFor(reissued, "patient", "pat-1", "card-1b"));
  EXPECT_EQ(Login(challenge, SignLogin(challenge, reissued, "card-1b")).status, 200);
}

TEST_P(PatientLoginTest, StaleOrFutureAssertionIsRefused) {
  std::string challenge = Challenge();
  auto future = SignPatientLogin(card_, "card-1", "pat-1", challenge, kStart + seconds(61));
  ExpectRefused(Login(challenge, future.value()), 401, "invalid_client", "stale");
  auto before = SignPatientLogin(card_, "card-1", "pat-1", challenge, kStart - seconds(61));
  ExpectRefused(Login(challenge, before.value()), 401, "invalid_client", "stale");
  json::object no_iat{{"sub", "pat-1"}, {"challenge", challenge}};
  ExpectRefused(
      Login(challenge, SignCompact(card_, "ES256", "card-1", no_iat, kCardLoginTyp).value()), 401,
      "invalid_client", "iat");
}

TEST_P(PatientLoginTest, MalformedRequestsAreRefused) {
  std::string challenge = Challenge();
  std::string assertion = SignLogin(challenge, card_, "card-1");
  ExpectRefused(Call(kPatientTokenPath, EncodeForm({{"challenge", challenge}})), 400,
                "invalid_request", "card_assertion is missing");
  ExpectRefused(Call(kPatientTokenPath, EncodeForm({{"card_assertion", assertion}})), 400,
                "invalid_request", "challenge is missing");
  ExpectRefused(Call(kPatientTokenPath, EncodeForm({{"challenge", challenge},
                                                    {"challenge", challenge},
                                                    {"card_assertion", assertion}})),
                400, "invalid_request", "repeats");
  ExpectRefused(
      Call(kPatientTokenPath, EncodeForm({{"challenge", challenge}, {"card_assertion", assertion}}),
           "application/json"),
      400, "invalid_request");
  ExpectRefused(Login(challenge, "not.a.jws"), 401, "invalid_client");
  // Nothing above spent the challenge.
  EXPECT_EQ(Login(challenge, assertion).status, 200);
}

TEST_P(PatientLoginTest, BodyLimitsAreEnforced) {
  for (const Route& r : routes_) {
    EXPECT_EQ(r.max_body_bytes, r.pattern == kPatientTokenPath ? kMaxPatientTokenRequestBytes
                                                               : kMaxChallengeRequestBytes);
    EXPECT_EQ(r.auth, AuthRequirement::kPublic);
  }
  std::string challenge = Challenge();
  std::string body = EncodeForm({{"challenge", challenge},
                                 {"card_assertion", SignLogin(challenge, card_, "card-1")},
                                 {"pad", ""}});
  body.append(kMaxPatientTokenRequestBytes + 1 - body.size(), 'x');
  ExpectRefused(Call(kPatientTokenPath, body), 413, "invalid_request", "too large");
  std::string challenge_body = "patient=pat-1&pad=";
  challenge_body.append(kMaxChallengeRequestBytes + 1 - challenge_body.size(), 'x');
  ExpectRefused(Call(kPatientChallengePath, challenge_body), 413, "invalid_request", "too large");
  // Exactly at the limit the challenge request is read.
  challenge_body.pop_back();
  EXPECT_EQ(Call(kPatientChallengePath, challenge_body).status, 200);
}

TEST_P(PatientLoginTest, EveryAttemptIsAudited) {
  std::string challenge = Challenge();
  ExpectRefused(Login(challenge, SignLogin(challenge, other_card_, "card-2")), 401,
                "invalid_client");
  ExpectRefused(Login("garbage", "x.y.z"), 400, "invalid_grant");
  EXPECT_EQ(Login(challenge, SignLogin(challenge, card_, "card-1")).status, 200);
  auto audit = LoginAudit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].outcome, "denied");
  EXPECT_EQ(audit[0].patient_id, "pat-1");  // the patient the verified challenge names
  EXPECT_NE(audit[0].detail.find("invalid_client"), std::string::npos);
  EXPECT_EQ(audit[1].outcome, "denied");
  EXPECT_EQ(audit[1].patient_id, "");  // a forged challenge names no one we trust
  EXPECT_EQ(audit[2].outcome, "success");
  for (const auto& row : audit) {
    EXPECT_EQ(row.purpose, "PATRQT");
    EXPECT_EQ(row.detail.find(challenge), std::string::npos);
  }
}

TEST_P(PatientLoginTest, ChallengesOfOneNodeAreAcceptedByAnother) {
  // A second service over the same store (another API node) shares the derived key.
  auto other = PatientLoginService::Create(*store_, *audit_, clock_, *tokens_);
  ASSERT_TRUE(other.ok());
  auto challenge = (*other)->IssueChallenge("pat-1");
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(Login(*challenge, SignLogin(*challenge, card_, "card-1")).status, 200);
  EXPECT_FALSE((*other)->IssueChallenge("").ok());
}

TEST(SignPatientLoginTest, ClaimsAndTyp) {
  KeyPair key = MakeKey("ES384");
  auto jws = SignPatientLogin(key, "card-9", "pat-9", "chal", kStart);
  ASSERT_TRUE(jws.ok());
  auto header = PeekHeader(*jws);
  auto payload = PeekPayload(*jws);
  EXPECT_EQ(json::GetString(*header, "typ"), kCardLoginTyp);
  EXPECT_EQ(json::GetString(*header, "kid"), "card-9");
  EXPECT_EQ(json::GetString(*header, "alg"), "ES384");
  EXPECT_EQ(json::GetString(*payload, "sub"), "pat-9");
  EXPECT_EQ(json::GetString(*payload, "challenge"), "chal");
  EXPECT_EQ(json::GetInt(*payload, "iat"), ToUnixSeconds(kStart));
  EXPECT_FALSE(SignPatientLogin(KeyPair(), "k", "pat-9", "chal", kStart).ok());
}

INSTANTIATE_TEST_SUITE_P(Engines, PatientLoginTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::auth
