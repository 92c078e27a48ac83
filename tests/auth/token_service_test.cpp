// The token endpoint through its route handlers, on real databases of both engines.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "auth/form.h"
#include "auth/jws.h"
#include "auth/test_keys.h"
#include "auth/tokens.h"
#include "core/json.h"
#include "support/test_db.h"

namespace renkei::auth {
namespace {

using renkei::testing::Engine;
using std::chrono::seconds;
using testkeys::MakeKey;
using testkeys::RecordFor;

const TimePoint kStart = FromUnixSeconds(1'800'000'000);
constexpr std::string_view kBase = "https://renkei.test";
constexpr std::string_view kTokenUrl = "https://renkei.test/auth/token";
constexpr std::string_view kHospital = "1310000001";
constexpr std::string_view kPharmacy = "1340000001";

Principal Resolved(std::string_view id, std::string_view facility, FacilityType type,
                   Qualification q) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = id;
  p.practitioner_id = id;
  p.facility_code = facility;
  p.facility_type = type;
  p.prefecture = "13";
  p.emergency_hospital = type == FacilityType::kHospital;
  p.qualification = q;
  return p;
}

class TokenServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    doctor_key_ = MakeKey("ES384");
    pharmacist_key_ = std::move(KeyFromJwk(PrivateJwk(testkeys::SharedRsaKey(), "k")).value());
    Register(RecordFor(doctor_key_, "practitioner", "doc-1", "doc-key"));
    Register(RecordFor(pharmacist_key_, "practitioner", "pha-1", "pha-key"));
    directory_[{"doc-1", std::string(kHospital)}] =
        Resolved("doc-1", kHospital, FacilityType::kHospital, Qualification::kPhysician);
    directory_[{"pha-1", std::string(kPharmacy)}] =
        Resolved("pha-1", kPharmacy, FacilityType::kPharmacy, Qualification::kPharmacist);
    service_ = MakeService(TokenOptions{});
  }

  std::unique_ptr<TokenService> MakeService(TokenOptions options) {
    auto s = TokenService::Create(*store_, *audit_, clock_, Resolver(), std::move(options));
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return std::move(s).value();
  }

  // The registry stand-in: a map of (practitioner, facility) to who they are there.
  PrincipalResolver Resolver() {
    return [this](std::string_view id, std::string_view facility) -> Result<Principal> {
      auto it = directory_.find({std::string(id), std::string(facility)});
      if (it == directory_.end())
        return Error(ErrorCode::kForbidden, "the practitioner does not act at that facility");
      return it->second;
    };
  }

  void Register(const store::KeyRecord& record) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.PutKey(record); });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  std::string Assertion(const KeyPair& key, std::string_view alg, std::string_view kid,
                        std::string_view practitioner, std::string_view facility,
                        std::string_view aud = kTokenUrl, seconds lifetime = seconds(300)) {
    auto a =
        SignClientAssertion(key, alg, kid, practitioner, facility, aud, clock_.Now(), lifetime);
    EXPECT_TRUE(a.ok()) << a.error().ToString();
    return a.ok() ? *a : "";
  }
  std::string DoctorAssertion() {
    return Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital);
  }

  static Request TokenRequest(FormFields fields) {
    Request r;
    r.method = Method::kPost;
    r.path = std::string(kTokenPath);
    r.base_url = std::string(kBase);
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    r.body = EncodeForm(fields);
    return r;
  }
  static Request TokenRequest(std::string_view assertion,
                              std::string_view scope = "system/*.read") {
    FormFields f = {{"grant_type", "client_credentials"},
                    {"client_assertion_type", std::string(kClientAssertionType)},
                    {"client_assertion", std::string(assertion)}};
    if (!scope.empty()) f.emplace_back("scope", std::string(scope));
    return TokenRequest(std::move(f));
  }

  // Calls the POST /auth/token handler of Routes() like the router does.
  Response Post(Request request) {
    for (auto& route : service_->Routes())
      if (route.method == Method::kPost && route.pattern == kTokenPath)
        return route.handler(request);
    ADD_FAILURE() << "no token route";
    return {};
  }

  static json::object Body(const Response& r) {
    auto o = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(o.ok()) << r.body;
    return o.ok() ? std::move(o).value() : json::object{};
  }

  void ExpectOAuthError(const Response& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(json::GetString(Body(r), "error"), error) << r.body;
    EXPECT_TRUE(json::GetString(Body(r), "error_description").has_value());
    EXPECT_EQ(r.body.find("access_token"), std::string::npos);
  }

  std::vector<store::AuditRow> AuditRows() {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead,
        [](store::Transaction& tx) { return tx.ScanAudit(1, 1000); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  KeyPair doctor_key_, pharmacist_key_;
  std::map<std::pair<std::string, std::string>, Principal> directory_;
  std::unique_ptr<TokenService> service_;
};

TEST_P(TokenServiceTest, ValidEs384AssertionGivesAWorkingToken) {
  Response r = Post(TokenRequest(DoctorAssertion()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type.rfind("application/json", 0), 0u);
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                      std::pair<std::string, std::string>("Cache-Control", "no-store")),
            r.headers.end());
  json::object body = Body(r);
  EXPECT_EQ(json::GetString(body, "token_type"), "bearer");
  EXPECT_EQ(json::GetInt(body, "expires_in"), 300);
  EXPECT_EQ(json::GetString(body, "scope"), "system/*.*");
  auto token = json::GetString(body, "access_token");
  ASSERT_TRUE(token.has_value());

  auto p = service_->VerifyAccessToken(*token);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->kind, PrincipalKind::kPractitioner);
  EXPECT_EQ(p->subject, "doc-1");
  EXPECT_EQ(p->practitioner_id, "doc-1");
  EXPECT_EQ(p->facility_code, kHospital);
  EXPECT_EQ(p->facility_type, FacilityType::kHospital);
  EXPECT_EQ(p->qualification, Qualification::kPhysician);
  EXPECT_TRUE(p->emergency_hospital);
  EXPECT_EQ(p->prefecture, "13");
  EXPECT_FALSE(p->token_id.empty());
  EXPECT_TRUE(service_->VerifyAccessToken("Bearer " + std::string(*token)).ok());
  EXPECT_TRUE(service_->VerifyAccessToken("bearer " + std::string(*token)).ok());

  // The issue is on record, with the token id but never the token.
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "token");
  EXPECT_EQ(rows[0].purpose, "HOPERAT");
  EXPECT_EQ(rows[0].outcome, "success");
  EXPECT_EQ(rows[0].practitioner_id, "doc-1");
  EXPECT_EQ(rows[0].facility_code, kHospital);
  EXPECT_EQ(rows[0].qualification, "physician");
  EXPECT_NE(rows[0].detail.find(p->token_id), std::string::npos);
  EXPECT_EQ(rows[0].detail.find(*token), std::string::npos);
}

TEST_P(TokenServiceTest, ValidRs384AssertionGivesAToken) {
  Response r =
      Post(TokenRequest(Assertion(pharmacist_key_, "RS384", "pha-key", "pha-1", kPharmacy)));
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = service_->VerifyAccessToken(*json::GetString(Body(r), "access_token"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->qualification, Qualification::kPharmacist);
  EXPECT_EQ(p->facility_type, FacilityType::kPharmacy);
}

TEST_P(TokenServiceTest, AssertionSignedWithAnotherPractitionersKeyIsRefused) {
  // The pharmacist's key, under the doctor's kid, and under its own kid.
  ExpectOAuthError(
      Post(TokenRequest(Assertion(MakeKey("ES384"), "ES384", "doc-key", "doc-1", kHospital))), 401,
      "invalid_client");
  ExpectOAuthError(
      Post(TokenRequest(Assertion(pharmacist_key_, "RS384", "pha-key", "doc-1", kHospital))), 401,
      "invalid_client");
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.action, "token");
    EXPECT_EQ(row.outcome, "denied");
    EXPECT_EQ(row.purpose, "HOPERAT");
    EXPECT_NE(row.detail.find("invalid_client"), std::string::npos);
  }
}

TEST_P(TokenServiceTest, ExpiredAssertionIsRefused) {
  ExpectOAuthError(Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital,
                                               kTokenUrl, seconds(-60)))),
                   401, "invalid_client");
  // Made valid, then used after its exp.
  std::string a = DoctorAssertion();
  clock_.Advance(seconds(301));
  ExpectOAuthError(Post(TokenRequest(a)), 401, "invalid_client");
}

TEST_P(TokenServiceTest, AssertionLivingLongerThanFiveMinutesIsRefused) {
  ExpectOAuthError(Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital,
                                               kTokenUrl, seconds(600)))),
                   401, "invalid_client");
  // Within the five minutes plus the tolerated skew it is accepted.
  EXPECT_EQ(Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital,
                                        kTokenUrl, seconds(320))))
                .status,
            200);
}

TEST_P(TokenServiceTest, ReplayedAssertionIsRefused) {
  std::string a = DoctorAssertion();
  EXPECT_EQ(Post(TokenRequest(a)).status, 200);
  ExpectOAuthError(Post(TokenRequest(a)), 401, "invalid_client");
  clock_.Advance(seconds(100));
  ExpectOAuthError(Post(TokenRequest(a)), 401, "invalid_client");
  // A fresh assertion (new jti) works.
  EXPECT_EQ(Post(TokenRequest(DoctorAssertion())).status, 200);
}

TEST_P(TokenServiceTest, UnknownPractitionerIsRefused) {
  ExpectOAuthError(Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key",
                                               "no-such-practitioner", kHospital))),
                   401, "invalid_client");
}

TEST_P(TokenServiceTest, PractitionerNotActingAtTheFacilityIsRefused) {
  // The doctor's own valid key, but a facility the registry does not link them to.
  ExpectOAuthError(
      Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kPharmacy))), 400,
      "invalid_grant");
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "denied");
  EXPECT_EQ(rows[0].facility_code, kPharmacy);
}

TEST_P(TokenServiceTest, WrongAudienceIsRefused) {
  for (std::string_view aud :
       {"https://other.test/auth/token", "https://renkei.test/auth/token2", "/auth/token"}) {
    ExpectOAuthError(
        Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital, aud))),
        401, "invalid_client");
  }
}

TEST_P(TokenServiceTest, ConfiguredPublicUrlIsAnAcceptedAudience) {
  TokenOptions options;
  options.public_base_url = "https://renkei.example.jp";
  service_ = MakeService(options);
  EXPECT_EQ(Post(TokenRequest(Assertion(doctor_key_, "ES384", "doc-key", "doc-1", kHospital,
                                        "https://renkei.example.jp/auth/token")))
                .status,
            200);
  EXPECT_EQ(Post(TokenRequest(DoctorAssertion())).status, 200);
}

TEST_P(TokenServiceTest, RevokedKeyIsRefused) {
  store::KeyRecord record = RecordFor(doctor_key_, "practitioner", "doc-1", "doc-key");
  record.revoked = true;
  Register(record);
  ExpectOAuthError(Post(TokenRequest(DoctorAssertion())), 401, "invalid_client");
}

TEST_P(TokenServiceTest, Es256AssertionIsRefused) {
  KeyPair p256 = MakeKey("ES256");
  Register(RecordFor(p256, "practitioner", "doc-1", "doc-p256"));
  json::object claims{{"iss", "doc-1"},   {"sub", "doc-1"},
                      {"aud", kTokenUrl}, {"exp", ToUnixSeconds(kStart) + 300},
                      {"jti", "j-es256"}, {"facility", kHospital}};
  ExpectOAuthError(Post(TokenRequest(SignCompact(p256, "ES256", "doc-p256", claims).value())), 401,
                   "invalid_client");
}

TEST_P(TokenServiceTest, ClaimsAreChecked) {
  json::object good{{"iss", "doc-1"},   {"sub", "doc-1"},
                    {"aud", kTokenUrl}, {"exp", ToUnixSeconds(kStart) + 300},
                    {"jti", "j-1"},     {"facility", kHospital}};
  auto sign = [&](json::object claims) {
    return TokenRequest(SignCompact(doctor_key_, "ES384", "doc-key", claims).value());
  };
  struct Case {
    const char* name;
    std::function<void(json::object&)> change;
    int status;
    const char* error;
  };
  const Case cases[] = {
      {"sub differs", [](json::object& c) { c["sub"] = "doc-2"; }, 401, "invalid_client"},
      {"no sub", [](json::object& c) { c.erase("sub"); }, 401, "invalid_client"},
      {"no exp", [](json::object& c) { c.erase("exp"); }, 401, "invalid_client"},
      {"exp not a number", [](json::object& c) { c["exp"] = "soon"; }, 401, "invalid_client"},
      {"no jti", [](json::object& c) { c.erase("jti"); }, 401, "invalid_client"},
      {"jti too long", [](json::object& c) { c["jti"] = std::string(257, 'j'); }, 401,
       "invalid_client"},
      {"iat in the future", [](json::object& c) { c["iat"] = ToUnixSeconds(kStart) + 120; }, 401,
       "invalid_client"},
      {"no aud", [](json::object& c) { c.erase("aud"); }, 401, "invalid_client"},
      {"no facility", [](json::object& c) { c.erase("facility"); }, 400, "invalid_request"},
      {"9-digit facility", [](json::object& c) { c["facility"] = "131000000"; }, 400,
       "invalid_request"},
      {"11-digit facility", [](json::object& c) { c["facility"] = "13100000011"; }, 400,
       "invalid_request"},
      // An 8-digit insurer number is well-formed; the registry then says the doctor is not there.
      {"insurer number", [](json::object& c) { c["facility"] = "06130012"; }, 400, "invalid_grant"},
      {"facility with letters", [](json::object& c) { c["facility"] = "13100000AB"; }, 400,
       "invalid_request"},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json::object claims = good;
    claims["jti"] = "j-case-" + std::to_string(n++);
    c.change(claims);
    ExpectOAuthError(Post(sign(claims)), c.status, c.error);
  }
  // aud as an array naming this endpoint is fine.
  json::object array_aud = good;
  array_aud["aud"] = json::array{"https://elsewhere.test", kTokenUrl};
  EXPECT_EQ(Post(sign(array_aud)).status, 200);
}

TEST_P(TokenServiceTest, MalformedTokenRequestsAreRefused) {
  std::string a = DoctorAssertion();
  std::string type(kClientAssertionType);
  Request wrong_type = TokenRequest(a);
  wrong_type.headers["content-type"] = "application/json";
  ExpectOAuthError(Post(wrong_type), 400, "invalid_request");
  ExpectOAuthError(
      Post(TokenRequest(FormFields{{"client_assertion_type", type}, {"client_assertion", a}})), 400,
      "invalid_request");
  ExpectOAuthError(
      Post(TokenRequest(FormFields{
          {"grant_type", "password"}, {"client_assertion_type", type}, {"client_assertion", a}})),
      400, "unsupported_grant_type");
  ExpectOAuthError(Post(TokenRequest(FormFields{{"grant_type", "client_credentials"},
                                                {"client_assertion_type", "urn:other"},
                                                {"client_assertion", a}})),
                   400, "invalid_request");
  ExpectOAuthError(Post(TokenRequest(FormFields{{"grant_type", "client_credentials"},
                                                {"client_assertion_type", type}})),
                   400, "invalid_request");
  ExpectOAuthError(Post(TokenRequest(FormFields{{"grant_type", "client_credentials"},
                                                {"grant_type", "client_credentials"},
                                                {"client_assertion_type", type},
                                                {"client_assertion", a}})),
                   400, "invalid_request");
  ExpectOAuthError(Post(TokenRequest(a, "patient/*.read")), 400, "invalid_scope");
  ExpectOAuthError(Post(TokenRequest(a, "system/*.rread")), 400, "invalid_scope");
  ExpectOAuthError(Post(TokenRequest("not.a.jws")), 401, "invalid_client");
  Request bad_escape = TokenRequest(a);
  bad_escape.body += "&x=%zz";
  ExpectOAuthError(Post(bad_escape), 400, "invalid_request");
  // The assertion was never spent by the refusals above.
  EXPECT_EQ(Post(TokenRequest(a, "system/Patient.rs system/*.write")).status, 200);
}

TEST_P(TokenServiceTest, TokenRequestLargerThanTheLimitIsRefused) {
  Request big = TokenRequest(DoctorAssertion());
  big.body += "&pad=" + std::string(16 * 1024, 'a');
  ExpectOAuthError(Post(big), 400, "invalid_request");
  for (const auto& route : service_->Routes())
    if (route.pattern == kTokenPath) {
      EXPECT_EQ(route.max_body_bytes, 16u * 1024);
    }
}

TEST_P(TokenServiceTest, RoutesArePublicAndNotFhirInteractions) {
  RouteTable routes = service_->Routes();
  ASSERT_EQ(routes.size(), 2u);
  for (const auto& r : routes) {
    EXPECT_EQ(r.auth, AuthRequirement::kPublic);
    EXPECT_EQ(r.interaction, Interaction::kNone);
    EXPECT_FALSE(r.returns_patient_data);
    EXPECT_FALSE(r.summary.empty());
  }
  Request get;
  get.method = Method::kGet;
  get.path = std::string(kSmartConfigurationPath);
  get.base_url = std::string(kBase);
  auto it = std::find_if(routes.begin(), routes.end(),
                         [](const Route& r) { return r.pattern == kSmartConfigurationPath; });
  ASSERT_NE(it, routes.end());
  Response r = it->handler(get);
  ASSERT_EQ(r.status, 200);
  json::object conf = Body(r);
  EXPECT_EQ(json::GetString(conf, "token_endpoint"), kTokenUrl);
  EXPECT_EQ(json::Serialize(*json::Find(conf, "token_endpoint_auth_methods_supported")),
            R"(["private_key_jwt"])");
  EXPECT_EQ(json::Serialize(*json::Find(conf, "token_endpoint_auth_signing_alg_values_supported")),
            R"(["ES384","RS384"])");
  EXPECT_EQ(json::Serialize(*json::Find(conf, "grant_types_supported")),
            R"(["client_credentials"])");
}

TEST_P(TokenServiceTest, AccessTokenExpires) {
  Principal p = Resolved("doc-1", kHospital, FacilityType::kHospital, Qualification::kPhysician);
  auto token = service_->IssueFor(p);
  ASSERT_TRUE(token.ok());
  clock_.Advance(seconds(299));
  EXPECT_TRUE(service_->VerifyAccessToken(*token).ok());
  clock_.Advance(seconds(1));
  auto r = service_->VerifyAccessToken(*token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
}

TEST_P(TokenServiceTest, TamperedOrForeignAccessTokensAreRefused) {
  std::string token = *service_->IssueFor(
      Resolved("doc-1", kHospital, FacilityType::kClinic, Qualification::kClerk));
  std::string tampered =
      token.substr(0, token.size() - 4) + (token.ends_with("AAAA") ? "BBBB" : "AAAA");
  EXPECT_EQ(service_->VerifyAccessToken(tampered).error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_->VerifyAccessToken("").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_->VerifyAccessToken("Bearer ").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_->VerifyAccessToken("not-a-token").error().code(), ErrorCode::kUnauthenticated);

  // Another deployment (another database, so another secret) does not accept it.
  auto other_store = renkei::testing::MakeTestStore(GetParam());
  audit::AuditLog other_audit(*other_store, clock_);
  auto other = TokenService::Create(*other_store, other_audit, clock_, Resolver());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->VerifyAccessToken(token).error().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(service_->VerifyAccessToken(token).ok());
  EXPECT_EQ(service_->IssueFor(Principal{}).error().code(), ErrorCode::kInvalid);
}

TEST_P(TokenServiceTest, NodesSharingADatabaseShareTheSecret) {
  auto second = MakeService(TokenOptions{});
  std::string token = *service_->IssueFor(
      Resolved("doc-1", kHospital, FacilityType::kHospital, Qualification::kPhysician));
  EXPECT_TRUE(second->VerifyAccessToken(token).ok());
  auto stored = store::RunInTransactionWithResult<std::optional<std::string>>(
      *store_, store::TxMode::kRead,
      [](store::Transaction& tx) { return tx.GetSetting(kTokenSecretSetting); });
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->size(), 2 * kTokenSecretBytes);  // hex
}

TEST_P(TokenServiceTest, ConcurrentFirstStartsAgreeOnOneSecret) {
  auto fresh = renkei::testing::MakeTestStore(GetParam());
  constexpr int kNodes = 4;
  std::vector<std::string> secrets(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto s = LoadOrCreateTokenSecret(*fresh, kStart);
      if (s.ok()) {
        secrets[i] = *s;
      } else {
        ADD_FAILURE() << s.error().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : secrets) {
    EXPECT_EQ(s.size(), kTokenSecretBytes);
    EXPECT_EQ(s, secrets[0]);
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, TokenServiceTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::auth
