// $verify-eligibility by certificate numbers and by card, on both engines.
#include <gtest/gtest.h>

#include "auth/keys.h"
#include "eligibility_fixture.h"

namespace renkei::eligibility::testing {
namespace {

// Members of kInsurer; the active one is stored with full-width digits in its number.
const std::string kActive = MemberId(kInsurer, "あいう", "１８７", "05");
const std::string kLapsed = MemberId(kInsurer, "", "200", "");
const std::string kFuture = MemberId(kInsurer, "ＡＢ", "300", "01");
const std::string kCancelled = MemberId(kInsurer, "x", "400", "");
const std::string kHalfWidth = MemberId(kInsurer, "k", "555", "02");

class VerifyTest : public EligibilityFixture {
 protected:
  void SetUp() override {
    EligibilityFixture::SetUp();
    MustImport({
        PatientLine(kActive, "山田"),
        PatientLine(kLapsed, "佐藤"),
        PatientLine(kFuture, "鈴木"),
        PatientLine(kCancelled, "高橋"),
        PatientLine(kHalfWidth, "田中"),
        CoverageLine(kActive, "2025-04-01", "2027-03-31"),
        CoverageLine(kLapsed, "2024-04-01", "2026-03-31"),
        CoverageLine(kFuture, "2026-05-01", ""),
        CoverageLine(kCancelled, "2024-04-01", "", "cancelled"),
        CoverageLine(kHalfWidth, "2024-04-01", ""),
    });
  }

  VerifyRequest ByNumbers(std::string insurer, std::string symbol, std::string number,
                          std::string branch) {
    VerifyRequest r;
    r.numbers =
        InsuredNumber{std::move(insurer), std::move(symbol), std::move(number), std::move(branch)};
    return r;
  }

  Verification MustVerify(const VerifyRequest& r,
                          const Principal& who = Staff(FacilityType::kClinic,
                                                       Qualification::kClerk)) {
    auto v = service_->Verify(who, r);
    EXPECT_TRUE(v.ok()) << v.error().ToString();
    return v.ok() ? *v : Verification{};
  }

  Response Post(const std::string& body,
                const Principal& who = Staff(FacilityType::kClinic, Qualification::kClerk)) {
    Request req;
    req.method = Method::kPost;
    req.path = "/fhir/Coverage/$verify-eligibility";
    req.body = body;
    req.principal = who;
    req.headers["content-type"] = "application/fhir+json";
    RouteTable routes = service_->Routes();
    return routes.at(0).handler(req);
  }

  // A card key registered for the patient; returns the private key.
  auth::KeyPair IssueCard(const std::string& patient_id) {
    auto key = auth::GenerateKey("ES256");
    EXPECT_TRUE(key.ok());
    store::KeyRecord rec;
    rec.owner_kind = std::string(auth::kPatientKeyOwner);
    rec.owner_id = patient_id;
    rec.kid = "card-1";
    rec.alg = "ES256";
    rec.public_jwk = auth::PublicJwk(*key, "card-1");
    rec.created = clock_.Now();
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.PutKey(rec); });
    EXPECT_TRUE(s.ok());
    return std::move(key).value();
  }

  std::string Card(const auth::KeyPair& key, const std::string& patient_id,
                   std::string_view facility = kClinicCode) {
    auto jws = auth::SignCardAssertion(key, "card-1", patient_id, facility, "TREAT", {"clinical"},
                                       clock_.Now());
    EXPECT_TRUE(jws.ok());
    return jws.ok() ? *jws : std::string();
  }
};

TEST_P(VerifyTest, EligibleByNumbersWithCoverageAndPatient) {
  Verification v = MustVerify(ByNumbers("06139999", "あいう", "187", "05"));
  EXPECT_EQ(v.reason, Eligibility::kEligible);
  EXPECT_EQ(v.date, "2026-04-10");
  ASSERT_TRUE(v.coverage.has_value());
  EXPECT_EQ(v.coverage->at("resourceType").as_string(), "Coverage");
  ASSERT_TRUE(v.patient.has_value());
  EXPECT_EQ(v.patient->at("name").as_array()[0].at("family").as_string(), "山田");
  EXPECT_EQ(v.patient->at("id").as_string(), PatientIdOf(kActive));
}

TEST_P(VerifyTest, FullAndHalfWidthDigitsMatchEitherWay) {
  // Stored full-width, asked half-width (above); stored half-width, asked full-width.
  EXPECT_EQ(MustVerify(ByNumbers("０６１３９９９９", "ｋ", "５５５", "０２")).reason,
            Eligibility::kEligible);
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "あいう", "１８７", "05")).reason,
            Eligibility::kEligible);
  // Katakana and full-width letters in the symbol fold too.
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "アイウ", "187", "05")).reason,
            Eligibility::kEligible);
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "AB", "300", "01")).reason, Eligibility::kNotYetValid);
}

TEST_P(VerifyTest, LapsedNotYetValidCancelledAndUnknown) {
  Verification lapsed = MustVerify(ByNumbers("06139999", "", "200", ""));
  EXPECT_EQ(lapsed.reason, Eligibility::kLapsed);
  EXPECT_TRUE(lapsed.coverage.has_value());
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "ＡＢ", "300", "01")).reason,
            Eligibility::kNotYetValid);
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "x", "400", "")).reason, Eligibility::kLapsed);
  Verification unknown = MustVerify(ByNumbers("06139999", "", "999", ""));
  EXPECT_EQ(unknown.reason, Eligibility::kUnknown);
  EXPECT_FALSE(unknown.coverage.has_value());
  EXPECT_FALSE(unknown.patient.has_value());
  // The branch is part of the number: another branch is another person.
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "あいう", "187", "06")).reason, Eligibility::kUnknown);
}

TEST_P(VerifyTest, ServiceDateDecidesAndTodayIsJapanTime) {
  VerifyRequest r = ByNumbers("06139999", "", "200", "");
  r.date = "2026-03-31";
  EXPECT_EQ(MustVerify(r).reason, Eligibility::kEligible);
  // 2026-03-31 23:30 UTC is already 2026-04-01 in Japan: the coverage ended the day before.
  clock_.Set(TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 3 / 31)) +
             std::chrono::hours(15) + std::chrono::minutes(30));
  Verification v = MustVerify(ByNumbers("06139999", "", "200", ""));
  EXPECT_EQ(v.date, "2026-04-01");
  EXPECT_EQ(v.reason, Eligibility::kLapsed);
  clock_.Set(TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 3 / 31)) +
             std::chrono::hours(14));
  EXPECT_EQ(MustVerify(ByNumbers("06139999", "", "200", "")).reason, Eligibility::kEligible);
}

TEST_P(VerifyTest, BirthDateMustMatchThePerson) {
  VerifyRequest r = ByNumbers("06139999", "あいう", "187", "05");
  r.birth_date = "1980-01-02";
  EXPECT_EQ(MustVerify(r).reason, Eligibility::kEligible);
  r.birth_date = "1990-05-05";
  Verification v = MustVerify(r);
  EXPECT_EQ(v.reason, Eligibility::kUnknown);
  EXPECT_FALSE(v.patient.has_value());
  EXPECT_FALSE(v.coverage.has_value());
}

TEST_P(VerifyTest, ClerksPharmaciesAndDentistsMayVerifyOthersMayNot) {
  VerifyRequest r = ByNumbers("06139999", "あいう", "187", "05");
  EXPECT_TRUE(service_->Verify(Staff(FacilityType::kClinic, Qualification::kClerk), r).ok());
  EXPECT_TRUE(
      service_->Verify(Staff(FacilityType::kPharmacy, Qualification::kPharmacist, "1340000001"), r)
          .ok());
  EXPECT_TRUE(
      service_->Verify(Staff(FacilityType::kDentalClinic, Qualification::kDentist), r).ok());
  EXPECT_TRUE(service_->Verify(Staff(FacilityType::kHospital, Qualification::kNurse), r).ok());
  for (const Principal& who :
       {Staff(FacilityType::kFireDepartment, Qualification::kParamedic), Insurer(),
        Staff(FacilityType::kResearch, Qualification::kPhysician), Ministry()}) {
    auto v = service_->Verify(who, r);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code(), ErrorCode::kForbidden);
  }
  EXPECT_EQ(LastAudit().outcome, "denied");
}

TEST_P(VerifyTest, EveryAttemptIsAudited) {
  ASSERT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"},{"name":"symbol","valueString":"あいう"},
      {"name":"number","valueString":"187"},{"name":"branch","valueString":"05"}]})")
                .status,
            200);
  store::AuditRow row = LastAudit();
  EXPECT_EQ(row.action, "verify");
  EXPECT_EQ(row.purpose, "COVERAGE");
  EXPECT_EQ(row.category, "Coverage");
  EXPECT_EQ(row.outcome, "success");
  EXPECT_EQ(row.qualification, "clerk");
  EXPECT_EQ(row.facility_code, kClinicCode);
  EXPECT_EQ(row.patient_id, PatientIdOf(kActive));
  EXPECT_NE(row.detail.find("eligible"), std::string::npos);
  EXPECT_EQ(row.detail.find("187"), std::string::npos) << "numbers must not reach the log";

  ASSERT_EQ(Post("{").status, 400);
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(LastAudit().action, "verify");
}

TEST_P(VerifyTest, RouteAnswersParameters) {
  Response r = Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"},{"name":"symbol","valueString":""},
      {"name":"number","valueString":"200"},{"name":"branch","valueString":""},
      {"name":"date","valueDate":"2026-04-10"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = json::ParseObject(r.body, Limits{});
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->at("resourceType").as_string(), "Parameters");
  std::map<std::string, json::object> params;
  for (const auto& p : doc->at("parameter").as_array()) {
    params[std::string(p.at("name").as_string())] = p.as_object();
  }
  EXPECT_FALSE(params["eligible"].at("valueBoolean").as_bool());
  EXPECT_EQ(params["reason"].at("valueCode").as_string(), "lapsed");
  EXPECT_EQ(params["coverage"].at("resource").at("resourceType").as_string(), "Coverage");
  EXPECT_EQ(params["patient"].at("resource").at("resourceType").as_string(), "Patient");

  RouteTable routes = service_->Routes();
  EXPECT_EQ(routes[0].pattern, "/fhir/Coverage/$verify-eligibility");
  EXPECT_EQ(routes[0].interaction, Interaction::kOperation);
  EXPECT_EQ(routes[0].resource_type, "Coverage");
  EXPECT_EQ(routes[0].operation, "$verify-eligibility");
}

TEST_P(VerifyTest, MalformedRequestsAre400WithPaths) {
  Response r = Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"12"},{"name":"number","valueString":"1 2"},
      {"name":"branch","valueString":"5"},{"name":"date","valueDate":"2026-02-30"}]})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Parameters.parameter[0].valueString"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Parameters.parameter[1].valueString"), std::string::npos);
  EXPECT_NE(r.body.find("Parameters.parameter[2].valueString"), std::string::npos);
  EXPECT_NE(r.body.find("Parameters.parameter[3].valueDate"), std::string::npos);

  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[]})").status, 400);
  EXPECT_EQ(Post(R"({"resourceType":"Patient"})").status, 400);
  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"card","valueString":"a.b.c"},{"name":"insurer","valueString":"06139999"},
      {"name":"number","valueString":"1"}]})")
                .status,
            400);
  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"}]})")
                .status,
            400);
  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"colour","valueString":"red"}]})")
                .status,
            400);
  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"},{"name":"insurer","valueString":"06139999"},
      {"name":"number","valueString":"1"}]})")
                .status,
            400);
  // The symbol exceeds its 64-byte limit.
  EXPECT_EQ(Post(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"},{"name":"number","valueString":"1"},
      {"name":"symbol","valueString":")" +
                 std::string(65, 'a') + R"("}]})")
                .status,
            400);
}

TEST_P(VerifyTest, ByCardValidThenReplayed) {
  const std::string patient = PatientIdOf(kActive);
  auth::KeyPair key = IssueCard(patient);
  VerifyRequest r;
  r.card = Card(key, patient);
  Verification v = MustVerify(r);
  EXPECT_EQ(v.reason, Eligibility::kEligible);
  ASSERT_TRUE(v.patient.has_value());
  EXPECT_EQ(v.patient->at("id").as_string(), patient);
  EXPECT_EQ(LastAudit().patient_id, patient);

  auto replay = service_->Verify(Staff(FacilityType::kClinic, Qualification::kClerk), r);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(LastAudit().outcome, "denied");
}

TEST_P(VerifyTest, StaleForeignAndForgedCardsAre401) {
  const std::string patient = PatientIdOf(kActive);
  auth::KeyPair key = IssueCard(patient);
  const Principal clerk = Staff(FacilityType::kClinic, Qualification::kClerk);

  VerifyRequest stale;
  stale.card = Card(key, patient);
  clock_.Advance(std::chrono::minutes(10));
  auto v = service_->Verify(clerk, stale);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kUnauthenticated);

  VerifyRequest foreign;
  foreign.card = Card(key, patient, "1340000001");
  v = service_->Verify(clerk, foreign);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kUnauthenticated);

  auto other_key = auth::GenerateKey("ES256");
  ASSERT_TRUE(other_key.ok());
  VerifyRequest forged;
  forged.card = Card(*other_key, patient);
  v = service_->Verify(clerk, forged);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kUnauthenticated);

  // Through the route: 401 with an OperationOutcome.
  Response r = Post(R"({"resourceType":"Parameters","parameter":[{"name":"card","valueString":")" +
                    Card(key, patient, "1340000001") + R"("}]})");
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_P(VerifyTest, ByCardChoosesTheCoverageValidOnTheDate) {
  // The lapsed member gets a new coverage under another number from 2026-04-01.
  const std::string renewed = MemberId(kInsurer, "", "201", "");
  const std::string patient = PatientIdOf(kLapsed);
  MustImport({fmt::format(
      R"({{"resourceType":"Coverage","identifier":[{{"system":"{}","value":"{}"}}],)"
      R"("status":"active","beneficiary":{{"reference":"Patient/{}"}},)"
      R"("payor":[{{"identifier":{{"system":"urn:oid:1.2.392.100495.20.3.61","value":"{}"}}}}],)"
      R"("period":{{"start":"2026-04-01"}}}})",
      kMemberIdSystem, renewed, patient, kInsurer)});
  auth::KeyPair key = IssueCard(patient);
  VerifyRequest r;
  r.card = Card(key, patient);
  Verification v = MustVerify(r);
  EXPECT_EQ(v.reason, Eligibility::kEligible);
  ASSERT_TRUE(v.coverage.has_value());
  EXPECT_EQ(v.coverage->at("identifier").as_array()[0].at("value").as_string(), renewed);

  // On a date before the renewal, the old coverage decides.
  r.card = Card(key, patient);
  r.date = "2026-03-15";
  v = MustVerify(r);
  EXPECT_EQ(v.reason, Eligibility::kEligible);
  EXPECT_EQ(v.coverage->at("identifier").as_array()[0].at("value").as_string(), kLapsed);
}

INSTANTIATE_TEST_SUITE_P(Engines, VerifyTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         EngineParamName);

}  // namespace
}  // namespace renkei::eligibility::testing
