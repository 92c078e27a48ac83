// The emergency / disaster search for a patient without a card, on real SQLite and PostgreSQL:
// patients registered through the registry engine, declarations and restrictions through the
// access facts service, the route handler called as the router would.
#include "access/patient_match.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "access/facts_service.h"
#include "audit/audit_log.h"
#include "core/json.h"
#include "fhir/url.h"
#include "registry/identifiers.h"
#include "registry/registry_kinds.h"
#include "registry/resource_service.h"
#include "support/test_db.h"

namespace renkei::access {
namespace {

using renkei::testing::Engine;
using std::chrono::hours;

const TimePoint kStart = *ParseDateTime("2026-03-01T09:00:00Z");
constexpr std::string_view kEmergencyHospital = "1310000011";
constexpr std::string_view kOsakaHospital = "2710000017";
constexpr std::string_view kClinic = "1310000029";
constexpr std::string_view kChibaClinic = "1210000019";
constexpr std::string_view kInsurerA = "01130012";
constexpr std::string_view kInsurerB = "06270015";

using Query = std::vector<std::pair<std::string, std::string>>;

Principal Staff(std::string_view code, FacilityType type, Qualification q,
                std::string_view prefecture = "13", bool emergency = true) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = "prac-" + std::string(code) + "-" + std::string(ToString(q));
  p.practitioner_id = p.subject;
  p.facility_code = std::string(code);
  p.facility_type = type;
  p.prefecture = std::string(prefecture);
  p.emergency_hospital = type == FacilityType::kHospital && emergency;
  p.qualification = q;
  return p;
}

Principal Ministry() {
  Principal p = Staff("0000000001", FacilityType::kMinistry, Qualification::kClerk);
  p.emergency_hospital = false;
  return p;
}

Principal PatientPrincipal(std::string_view id) {
  Principal p;
  p.kind = PrincipalKind::kPatient;
  p.subject = std::string(id);
  return p;
}

json::object Name(std::string_view representation, std::string_view family,
                  std::string_view given) {
  return json::object{
      {"extension", json::array{json::object{{"url", registry::kNameRepresentationExtension},
                                             {"valueCode", representation}}}},
      {"text", std::string(family) + " " + std::string(given)},
      {"family", family},
      {"given", json::array{json::value(given)}}};
}

struct Person {
  std::string id;
  std::string kanji_family, kanji_given, kana_family, kana_given;
  std::string gender, birth;
  std::string state, city, street;
  std::string member;  // insured-person id on the Patient, "" for none
};

json::object PatientOf(const Person& p) {
  json::object r{
      {"resourceType", "Patient"},
      {"id", p.id},
      {"active", true},
      {"name", json::array{Name("IDE", p.kanji_family, p.kanji_given),
                           Name("SYL", p.kana_family, p.kana_given)}},
      {"gender", p.gender},
      {"birthDate", p.birth},
      {"telecom", json::array{json::object{{"system", "phone"}, {"value", "03-1234-5678"}}}},
      {"address", json::array{json::object{{"text", p.state + p.city + p.street},
                                           {"state", p.state},
                                           {"city", p.city},
                                           {"line", json::array{json::value(p.street)}},
                                           {"postalCode", "100-0005"}}}}};
  if (!p.member.empty()) {
    r["identifier"] =
        json::array{json::object{{"system", registry::kMemberIdSystem}, {"value", p.member}}};
  }
  return r;
}

class PatientMatchTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    registry_ = std::make_unique<registry::ResourceService>(*store_, *audit_, clock_, Limits{},
                                                            registry::RegistryKinds());
    facts_ = std::make_unique<FactsService>(*store_, *audit_, clock_);
    service_ = std::make_unique<PatientMatchService>(*store_, *audit_, clock_);
    routes_ = service_->Routes();

    std::vector<Person> people = {
        {"pat-yamada", "山田", "太郎", "ヤマダ", "タロウ", "male", "1980-05-01", "東京都",
         "千代田区", "丸の内1丁目1-1", "01130012:あいう:10000007:00"},
        // Same name and birth date, another city and insurer.
        {"pat-yamada-osaka", "山田", "太郎", "ヤマダ", "タロウ", "male", "1980-05-01", "大阪府",
         "大阪市北区", "梅田2丁目3-4", "06270015::10000014:01"},
        // Same name, another birth date; and same name and date, other sex.
        {"pat-yamada-older", "山田", "太郎", "ヤマダ", "タロウ", "male", "1950-05-01", "東京都",
         "千代田区", "丸の内1丁目1-1", ""},
        {"pat-yamada-f", "山田", "太郎", "ヤマダ", "タロウ", "female", "1980-05-01", "東京都",
         "千代田区", "丸の内1丁目1-1", ""},
        {"pat-tanaka-1", "田中", "一郎", "タナカ", "イチロウ", "male", "1975-03-03", "東京都",
         "港区", "芝公園4丁目2-8", ""},
        {"pat-tanaka-2", "田中", "一郎", "タナカ", "イチロウ", "male", "1975-03-03", "東京都",
         "新宿区", "西新宿2丁目8-1", ""},
        // Insured only through a Coverage (no member id on the Patient).
        {"pat-suzuki", "鈴木", "次郎", "スズキ", "ジロウ", "male", "1968-12-24", "石川県", "輪島市",
         "河井町1-1", ""},
        // A partial birth date (year only) is indexed as 1990-01-01.
        {"pat-partial", "高橋", "誠", "タカハシ", "マコト", "male", "1990", "東京都", "中央区",
         "銀座1-1", ""},
    };
    // Seven 佐藤 花子 born the same day: four in Tokyo, three in Osaka.
    for (int i = 0; i < 7; ++i) {
      bool tokyo = i < 4;
      people.push_back({"pat-sato-" + std::to_string(i), "佐藤", "花子", "サトウ", "ハナコ",
                        "female", "1950-01-01", tokyo ? "東京都" : "大阪府",
                        tokyo ? "千代田区" : "大阪市北区", std::to_string(i + 1) + "-1", ""});
    }
    json::object insurer{
        {"resourceType", "Organization"},
        {"id", "org-06270015"},
        {"identifier", json::array{json::object{{"system", registry::kInsurerNumberSystem},
                                                {"value", kInsurerB}}}},
        {"active", true},
        {"type", json::array{json::object{
                     {"coding", json::array{json::object{{"system", registry::kFacilityTypeSystem},
                                                         {"code", "insurer"}}}}}}},
        {"name", "大阪府市町村国民健康保険"},
        {"extension", json::array{json::object{
                          {"url", registry::kPrefectureExtension},
                          {"valueCoding", json::object{{"system", registry::kPrefectureSystem},
                                                       {"code", "27"}}}}}}};
    json::object coverage{
        {"resourceType", "Coverage"},
        {"id", "cov-suzuki"},
        {"identifier", json::array{json::object{{"system", registry::kMemberIdSystem},
                                                {"value", "06270015::20000001:00"}}}},
        {"status", "active"},
        {"beneficiary", json::object{{"reference", "Patient/pat-suzuki"}}},
        {"payor", json::array{json::object{
                      {"identifier", json::object{{"system", registry::kInsurerNumberSystem},
                                                  {"value", kInsurerB}}}}}}};
    Status s = store::RunInTransaction(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          for (const Person& p : people) {
            RK_TRY(registry_->CreateInTransaction(tx, Ministry(), PatientOf(p)));
          }
          RK_TRY(registry_->CreateInTransaction(tx, Ministry(), insurer));
          RK_TRY(registry_->CreateInTransaction(tx, Ministry(), coverage));
          return Ok();
        });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  Response Call(const std::optional<Principal>& who, Query query,
                std::string_view purpose = "ETREAT", std::string_view reason = "意識不明で搬送",
                std::string_view consent = "cannot-obtain") {
    Request req;
    req.method = Method::kGet;
    req.path = std::string(kFindUrgentPath);
    req.query = std::move(query);
    if (!purpose.empty()) req.headers["x-purpose-of-use"] = std::string(purpose);
    if (!reason.empty()) req.headers["x-access-reason"] = fhir::PercentEncode(reason);
    if (!consent.empty()) req.headers["x-consent"] = std::string(consent);
    req.principal = who;
    req.base_url = "http://127.0.0.1:8080";
    return routes_.at(0).handler(req);
  }

  Response Emergency(Query query, const Principal& who) { return Call(who, std::move(query)); }
  Response Emergency(Query query) { return Emergency(std::move(query), physician_); }
  Response Disaster(Query query, const Principal& who, std::string_view consent = "verbal") {
    return Call(who, std::move(query), "DISASTER", "", consent);
  }

  static json::object BodyOf(const Response& r) {
    auto body = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(body.ok()) << r.body;
    return body.ok() ? *body : json::object{};
  }

  // The ids in a searchset answer (fails the test for anything else).
  static std::set<std::string> Ids(const Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    json::object bundle = BodyOf(r);
    EXPECT_EQ(json::GetString(bundle, "type"), "searchset");
    EXPECT_EQ(json::Find(bundle, "total"), nullptr);
    std::set<std::string> ids;
    if (const json::array* entries = json::GetArray(bundle, "entry")) {
      for (const auto& e : *entries) {
        const json::object* res = json::GetObject(e.get_object(), "resource");
        if (res) ids.insert(std::string(json::GetString(*res, "id").value_or("")));
      }
    }
    return ids;
  }

  static void ExpectStatus(const Response& r, int status, std::string_view text = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(text), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("\"Bundle\""), std::string::npos) << r.body;
  }

  std::vector<store::AuditRow> SearchAudit() {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ScanAudit(1, 10000); });
    EXPECT_TRUE(rows.ok());
    std::vector<store::AuditRow> out;
    for (auto& row : *rows)
      if (row.action == "search") out.push_back(row);
    return out;
  }

  void Declare(std::vector<std::string> prefectures, TimePoint start, TimePoint end) {
    DisasterDeclaration d{std::move(prefectures), start, end};
    auto r = facts_->DeclareDisaster(Ministry(), d);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<registry::ResourceService> registry_;
  std::unique_ptr<FactsService> facts_;
  std::unique_ptr<PatientMatchService> service_;
  RouteTable routes_;
  Principal physician_ =
      Staff(kEmergencyHospital, FacilityType::kHospital, Qualification::kPhysician);
};

const Query kYamadaTokyo = {
    {"name", "山田 太郎"}, {"birthdate", "1980-05-01"}, {"gender", "male"}, {"address", "東京都"}};

TEST_P(PatientMatchTest, EmergencyPhysicianFindsByFourItems) {
  // Kanji with a space, address by prefecture.
  EXPECT_EQ(Ids(Emergency(kYamadaTokyo)), std::set<std::string>{"pat-yamada"});
  // Half-width katakana with a half-width space, the street address as the patient says it.
  EXPECT_EQ(Ids(Emergency({{"name", "ﾔﾏﾀﾞ ﾀﾛｳ"},
                           {"birthdate", "1980-05-01"},
                           {"gender", "male"},
                           {"address", "東京都千代田区丸の内１丁目１－１"}})),
            std::set<std::string>{"pat-yamada"});
  // Full-width katakana with an ideographic space, by insurer number instead of address.
  EXPECT_EQ(Ids(Emergency({{"name", "ヤマダ　タロウ"},
                           {"birthdate", "1980-05-01"},
                           {"gender", "male"},
                           {"insurer", std::string(kInsurerB)}})),
            std::set<std::string>{"pat-yamada-osaka"});
  // Hiragana, both address and insurer (both must hold).
  EXPECT_EQ(Ids(Emergency({{"name", "やまだたろう"},
                           {"birthdate", "1980-05-01"},
                           {"gender", "male"},
                           {"address", "大阪府"},
                           {"insurer", std::string(kInsurerA)}})),
            std::set<std::string>{});
  // Both namesakes when the address names neither city alone.
  EXPECT_EQ(Ids(Emergency({{"name", "山田太郎"},
                           {"birthdate", "1980-05-01"},
                           {"gender", "male"},
                           {"address", "丁目"}})),
            (std::set<std::string>{"pat-yamada", "pat-yamada-osaka"}));
}

TEST_P(PatientMatchTest, CandidatesCarryMinimalFieldsOnly) {
  Response r = Emergency(kYamadaTokyo);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object bundle = BodyOf(r);
  const json::array* entries = json::GetArray(bundle, "entry");
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->size(), 1u);
  const json::object& entry = entries->at(0).get_object();
  EXPECT_EQ(json::GetString(entry, "fullUrl"), "http://127.0.0.1:8080/fhir/Patient/pat-yamada");
  const json::object& patient = *json::GetObject(entry, "resource");
  std::set<std::string> keys;
  for (const auto& kv : patient) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"resourceType", "id", "meta", "name", "gender",
                                         "birthDate", "address"}));
  EXPECT_EQ(json::GetString(patient, "birthDate"), "1980-05-01");
  EXPECT_EQ(json::GetArray(patient, "name")->size(), 2u);
  const json::object& address = json::GetArray(patient, "address")->at(0).get_object();
  EXPECT_EQ(json::GetString(address, "state"), "東京都");
  EXPECT_EQ(json::GetString(address, "city"), "千代田区");
  EXPECT_EQ(address.size(), 2u);
  for (std::string_view secret : {"丸の内", "03-1234-5678", "100-0005", "01130012", "identifier"})
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret;
  EXPECT_NE(r.body.find("SUBSETTED"), std::string::npos);
}

TEST_P(PatientMatchTest, WholeNameAndExactDateAreRequired) {
  // A family name alone matches the index term of the family name, not the whole name.
  EXPECT_TRUE(Ids(Emergency({{"name", "山田"},
                             {"birthdate", "1980-05-01"},
                             {"gender", "male"},
                             {"address", "東京都"}}))
                  .empty());
  // Another birth date or sex finds the other namesakes only.
  EXPECT_EQ(Ids(Emergency({{"name", "山田太郎"},
                           {"birthdate", "1950-05-01"},
                           {"gender", "male"},
                           {"address", "東京都"}})),
            std::set<std::string>{"pat-yamada-older"});
  EXPECT_EQ(Ids(Emergency({{"name", "山田太郎"},
                           {"birthdate", "1980-05-01"},
                           {"gender", "female"},
                           {"address", "東京都"}})),
            std::set<std::string>{"pat-yamada-f"});
  // A year-only birth date is indexed as January 1st but is not that date.
  EXPECT_TRUE(Ids(Emergency({{"name", "高橋誠"},
                             {"birthdate", "1990-01-01"},
                             {"gender", "male"},
                             {"address", "東京都"}}))
                  .empty());
}

TEST_P(PatientMatchTest, InsurerIsFoundOnTheCoverageToo) {
  Query q = {{"name", "スズキ ジロウ"}, {"birthdate", "1968-12-24"}, {"gender", "male"}};
  q.push_back({"insurer", std::string(kInsurerB)});
  EXPECT_EQ(Ids(Emergency(q)), std::set<std::string>{"pat-suzuki"});
  q.back().second = std::string(kInsurerA);
  EXPECT_TRUE(Ids(Emergency(q)).empty());
}

TEST_P(PatientMatchTest, OnlyEmergencyPhysiciansOfEmergencyHospitals) {
  Principal clinic = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  ExpectStatus(Emergency(kYamadaTokyo, clinic), 403, "hospitals receiving emergency");
  Principal plain_hospital = Staff(kOsakaHospital, FacilityType::kHospital,
                                   Qualification::kPhysician, "27", /*emergency=*/false);
  ExpectStatus(Emergency(kYamadaTokyo, plain_hospital), 403, "hospitals receiving emergency");
  Principal nurse = Staff(kEmergencyHospital, FacilityType::kHospital, Qualification::kNurse);
  ExpectStatus(Emergency(kYamadaTokyo, nurse), 403, "only physicians");
  Principal clerk = Staff(kEmergencyHospital, FacilityType::kHospital, Qualification::kClerk);
  ExpectStatus(Emergency(kYamadaTokyo, clerk), 403, "only physicians");
  Principal pharmacist = Staff("1340000013", FacilityType::kPharmacy, Qualification::kPharmacist);
  ExpectStatus(Emergency(kYamadaTokyo, pharmacist), 403);

  // A stated reason and the declaration that consent cannot be obtained are both needed.
  ExpectStatus(Call(physician_, kYamadaTokyo, "ETREAT", "", "cannot-obtain"), 403, "reason");
  ExpectStatus(Call(physician_, kYamadaTokyo, "ETREAT", "意識不明", ""), 403, "reason");
  ExpectStatus(Call(physician_, kYamadaTokyo, "ETREAT", "意識不明", "verbal"), 403, "reason");

  // Any other purpose, and the ambulance crew (they identify by card), are refused.
  ExpectStatus(Call(physician_, kYamadaTokyo, "TREAT"), 403, "emergency");
  ExpectStatus(Call(physician_, kYamadaTokyo, ""), 403, "emergency");
  Principal paramedic =
      Staff("1700000001", FacilityType::kFireDepartment, Qualification::kParamedic);
  ExpectStatus(Call(paramedic, kYamadaTokyo, "ETREAT", "", "verbal"), 403, "by card");
  ExpectStatus(Call(PatientPrincipal("pat-yamada"), kYamadaTokyo, "PATRQT"), 403);
  ExpectStatus(Call(physician_, kYamadaTokyo, "BOGUS"), 400);
  ExpectStatus(Call(std::nullopt, kYamadaTokyo), 401);

  // Every refusal is on record, none names a patient, and none searched anything.
  auto audit = SearchAudit();
  ASSERT_EQ(audit.size(), 12u);
  for (const auto& row : audit) {
    EXPECT_EQ(row.outcome, "denied");
    EXPECT_EQ(row.patient_id, "");
    EXPECT_EQ(row.category, "demographics");
  }
  EXPECT_EQ(audit[0].facility_code, kClinic);
  EXPECT_EQ(audit[0].purpose, "ETREAT");
  EXPECT_NE(audit[0].detail.find("$find-urgent"), std::string::npos);
}

TEST_P(PatientMatchTest, RefusalComesBeforeTheQueryIsLookedAt) {
  // A caller without a basis gets 403 even for a malformed or vague query.
  Principal clinic = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  ExpectStatus(Emergency({{"name", "山田"}}, clinic), 403);
  ExpectStatus(Emergency({{"bogus", "1"}}, clinic), 403);
}

TEST_P(PatientMatchTest, VagueOrMalformedSearchesAreRefused) {
  ExpectStatus(Emergency({{"name", "山田太郎"}}), 400, "birth date");
  // The emergency search needs the 4 items: address or insurer.
  ExpectStatus(Emergency({{"name", "山田太郎"}, {"birthdate", "1980-05-01"}, {"gender", "male"}}),
               400, "4 items");
  ExpectStatus(Emergency({{"birthdate", "1980-05-01"}, {"gender", "male"}, {"address", "東京都"}}),
               400, "name");
  ExpectStatus(Emergency({{"name", "　 "},
                          {"birthdate", "1980-05-01"},
                          {"gender", "male"},
                          {"address", "東京都"}}),
               400, "name");
  for (std::string_view date :
       {"1980", "1980-05", "1980-13-01", "1980-02-30", "80-05-01", "1980-05-01T00:00:00Z"}) {
    ExpectStatus(Emergency({{"name", "山田太郎"},
                            {"birthdate", std::string(date)},
                            {"gender", "male"},
                            {"address", "東京都"}}),
                 400, "YYYY-MM-DD");
  }
  ExpectStatus(Emergency({{"name", "山田太郎"},
                          {"birthdate", "1980-05-01"},
                          {"gender", "man"},
                          {"address", "東京都"}}),
               400, "gender");
  ExpectStatus(Emergency({{"name", "山田太郎"},
                          {"birthdate", "1980-05-01"},
                          {"gender", "male"},
                          {"address", "都"}}),
               400, "at least 2");
  ExpectStatus(Emergency({{"name", "山田太郎"},
                          {"birthdate", "1980-05-01"},
                          {"gender", "male"},
                          {"insurer", "0113001"}}),
               400, "8 digits");
  Query unknown = kYamadaTokyo;
  unknown.push_back({"identifier", "01130012:あいう:10000007:00"});
  ExpectStatus(Emergency(unknown), 400, "unknown parameter");
  Query repeated = kYamadaTokyo;
  repeated.push_back({"name", "山田花子"});
  ExpectStatus(Emergency(repeated), 400, "twice");
  Query bad_utf8 = kYamadaTokyo;
  bad_utf8[0].second = "\xff\xfe";
  ExpectStatus(Emergency(bad_utf8), 400, "UTF-8");
  // Every problem is listed at once.
  Response many = Emergency({{"birthdate", "x"}, {"gender", "y"}});
  ExpectStatus(many, 400);
  EXPECT_GE(json::GetArray(BodyOf(many), "issue")->size(), 4u);
}

TEST_P(PatientMatchTest, ValueSizeLimit) {
  Query long_name = kYamadaTokyo;
  long_name[0].second = std::string(kMaxMatchValueBytes + 1, 'a');
  ExpectStatus(Emergency(long_name), 413);
  long_name[0].second = std::string(kMaxMatchValueBytes, 'a');
  EXPECT_TRUE(Ids(Emergency(long_name)).empty());
}

TEST_P(PatientMatchTest, MoreThanFiveCandidatesAreRefused) {
  Declare({"13", "27"}, kStart - hours(1), kStart + hours(48));
  Principal clinic = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  Query q = {{"name", "佐藤花子"}, {"birthdate", "1950-01-01"}, {"gender", "female"}};
  ExpectStatus(Disaster(q, clinic), 422, "add the address");
  // The address narrows it to four and three.
  q.push_back({"address", "東京都"});
  EXPECT_EQ(Ids(Disaster(q, clinic)).size(), 4u);
  q.back().second = "大阪府";
  EXPECT_EQ(Ids(Disaster(q, clinic)),
            (std::set<std::string>{"pat-sato-4", "pat-sato-5", "pat-sato-6"}));
  // The refusal is audited without naming anyone.
  auto audit = SearchAudit();
  ASSERT_EQ(audit.size(), 1u + 4u + 3u);
  EXPECT_EQ(audit[0].outcome, "denied");
  EXPECT_EQ(audit[0].patient_id, "");
  EXPECT_NE(audit[0].detail.find("too vague"), std::string::npos);
}

TEST_P(PatientMatchTest, MoreNamesakesThanTheScanLimitAreRefused) {
  // kMaxMatchScan + 1 namesakes born the same day; the address cannot narrow an index query.
  Status s = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        for (size_t i = 0; i <= kMaxMatchScan; ++i) {
          Person p{"pat-ito-" + std::to_string(i),
                   "伊藤",
                   "蓮",
                   "イトウ",
                   "レン",
                   "male",
                   "2001-01-01",
                   i == 0 ? "石川県" : "東京都",
                   "輪島市",
                   "1-1",
                   ""};
          RK_TRY(registry_->CreateInTransaction(tx, Ministry(), PatientOf(p)));
        }
        return Ok();
      });
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  Query q = {{"name", "伊藤蓮"}, {"birthdate", "2001-01-01"}, {"gender", "male"}};
  q.push_back({"address", "石川県"});
  ExpectStatus(Emergency(q), 422, "too many");
}

TEST_P(PatientMatchTest, DisasterInsideTheRegionAndPeriod) {
  Declare({"13", "17"}, kStart - hours(1), kStart + hours(24));
  Principal clinic = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  // Disaster searches need no address (it is added when needed); hiragana finds katakana.
  Query q = {{"name", "やまだ たろう"}, {"birthdate", "1980-05-01"}, {"gender", "male"}};
  EXPECT_EQ(Ids(Disaster(q, clinic)), (std::set<std::string>{"pat-yamada", "pat-yamada-osaka"}));
  EXPECT_EQ(Ids(Disaster(q, clinic, "cannot-obtain")).size(), 2u);
  // Verbal consent or the declaration that it could not be obtained is needed.
  ExpectStatus(Disaster(q, clinic, ""), 403, "verbal consent");
  // Pharmacists and clerks of the region: pharmacists see identity, clerks never.
  Principal pharmacist = Staff("1340000013", FacilityType::kPharmacy, Qualification::kPharmacist);
  EXPECT_EQ(Ids(Disaster(q, pharmacist)).size(), 2u);
  Principal clerk = Staff(kClinic, FacilityType::kClinic, Qualification::kClerk);
  ExpectStatus(Disaster(q, clerk), 403, "clerks");
  Principal nurse = Staff(kClinic, FacilityType::kClinic, Qualification::kNurse);
  ExpectStatus(Disaster(q, nurse), 403, "nurses");
  nurse.nurses_may_view = true;
  EXPECT_EQ(Ids(Disaster(q, nurse)).size(), 2u);

  // One prefecture outside the region (Chiba, next to Tokyo).
  Principal chiba = Staff(kChibaClinic, FacilityType::kClinic, Qualification::kPhysician, "12");
  ExpectStatus(Disaster(q, chiba), 403, "outside every declared disaster region");
  // After the period: declarations end by themselves.
  clock_.Advance(hours(24));
  ExpectStatus(Disaster(q, clinic), 403, "disaster");

  auto audit = SearchAudit();
  size_t permitted = 0;
  for (const auto& row : audit) {
    if (row.outcome != "success") continue;
    ++permitted;
    EXPECT_EQ(row.purpose, "DISASTER");
    EXPECT_EQ(row.category, "demographics");
    EXPECT_TRUE(row.patient_id == "pat-yamada" || row.patient_id == "pat-yamada-osaka");
  }
  EXPECT_EQ(permitted, 8u);
  EXPECT_EQ(audit.back().outcome, "denied");
  EXPECT_EQ(audit.back().purpose, "DISASTER");
}

TEST_P(PatientMatchTest, RestrictedPatientsAreLeftOut) {
  Query q = {{"name", "田中一郎"}, {"birthdate", "1975-03-03"}, {"gender", "male"}};
  q.push_back({"address", "東京都"});
  EXPECT_EQ(Ids(Emergency(q)), (std::set<std::string>{"pat-tanaka-1", "pat-tanaka-2"}));
  PatientRestrictions opt_out;
  opt_out.opted_out = true;
  ASSERT_TRUE(facts_->SetRestrictions(PatientPrincipal("pat-tanaka-1"), opt_out).ok());
  EXPECT_EQ(Ids(Emergency(q)), std::set<std::string>{"pat-tanaka-2"});
  PatientRestrictions block;
  block.blocked_facilities = {std::string(kEmergencyHospital)};
  ASSERT_TRUE(facts_->SetRestrictions(PatientPrincipal("pat-tanaka-2"), block).ok());
  // Both left out: an empty answer, as if no one matched.
  Response none = Emergency(q);
  EXPECT_TRUE(Ids(none).empty());
  EXPECT_EQ(json::GetArray(BodyOf(none), "entry"), nullptr);
  // A facility pat-tanaka-2 did not block still finds them.
  Principal other = Staff("1310000037", FacilityType::kHospital, Qualification::kPhysician);
  EXPECT_EQ(Ids(Emergency(q, other)), std::set<std::string>{"pat-tanaka-2"});
}

TEST_P(PatientMatchTest, RestrictedPatientsDoNotCountTowardsVagueness) {
  Declare({"13", "27"}, kStart - hours(1), kStart + hours(48));
  Principal clinic = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  PatientRestrictions opt_out;
  opt_out.opted_out = true;
  ASSERT_TRUE(facts_->SetRestrictions(PatientPrincipal("pat-sato-0"), opt_out).ok());
  ASSERT_TRUE(facts_->SetRestrictions(PatientPrincipal("pat-sato-1"), opt_out).ok());
  Query q = {{"name", "佐藤花子"}, {"birthdate", "1950-01-01"}, {"gender", "female"}};
  EXPECT_EQ(Ids(Disaster(q, clinic)),
            (std::set<std::string>{"pat-sato-2", "pat-sato-3", "pat-sato-4", "pat-sato-5",
                                   "pat-sato-6"}));
}

TEST_P(PatientMatchTest, EveryCandidateIsAuditedWithItsBasis) {
  Response r = Emergency(
      {{"name", "山田太郎"}, {"birthdate", "1980-05-01"}, {"gender", "male"}, {"address", "丁目"}});
  EXPECT_EQ(Ids(r).size(), 2u);
  auto audit = SearchAudit();
  ASSERT_EQ(audit.size(), 2u);
  std::set<std::string> audited;
  for (const auto& row : audit) {
    audited.insert(row.patient_id);
    EXPECT_EQ(row.outcome, "success");
    EXPECT_EQ(row.purpose, "ETREAT");
    EXPECT_EQ(row.category, "demographics");
    EXPECT_EQ(row.facility_code, kEmergencyHospital);
    EXPECT_EQ(row.practitioner_id, physician_.practitioner_id);
    EXPECT_EQ(row.qualification, "physician");
    json::object detail = json::ParseObject(row.detail, Limits{}).value();
    EXPECT_EQ(json::GetString(detail, "reason"), "意識不明で搬送");
    EXPECT_EQ(json::GetString(detail, "consent"), "cannot-obtain");
    EXPECT_EQ(json::GetInt(detail, "candidates"), 2);
    // The search items (a name, a birth date) are not copied into the log.
    EXPECT_EQ(row.detail.find("山田"), std::string::npos);
    EXPECT_EQ(row.detail.find("1980"), std::string::npos);
  }
  EXPECT_EQ(audited, (std::set<std::string>{"pat-yamada", "pat-yamada-osaka"}));
  // A search that finds no one is recorded too, naming no patient.
  EXPECT_TRUE(Ids(Emergency({{"name", "存在しない"},
                             {"birthdate", "2000-01-01"},
                             {"gender", "male"},
                             {"address", "東京都"}}))
                  .empty());
  audit = SearchAudit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[2].patient_id, "");
  EXPECT_EQ(audit[2].outcome, "success");
}

TEST_P(PatientMatchTest, RouteReturnsPatientDataThroughTheDecision) {
  ASSERT_EQ(routes_.size(), 1u);
  const Route& r = routes_[0];
  EXPECT_EQ(r.method, Method::kGet);
  EXPECT_EQ(r.pattern, kFindUrgentPath);
  EXPECT_EQ(r.interaction, Interaction::kOperation);
  EXPECT_EQ(r.resource_type, "Patient");
  EXPECT_EQ(r.operation, "$find-urgent");
  EXPECT_EQ(r.auth, AuthRequirement::kToken);
  EXPECT_TRUE(r.returns_patient_data);
}

INSTANTIATE_TEST_SUITE_P(Engines, PatientMatchTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
