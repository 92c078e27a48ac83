// Registry reads through the one door (read_access.h, access::Decide): card consent opens a
// 24-hour view, emergency access needs its reason, searches are narrowed before they run so
// that totals and paging reveal nothing, and every decision is audited.
#include "access/facts_service.h"
#include "registry_fixture.h"

namespace renkei::registry::testing {
namespace {

class AccessReadTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    MustCreateInsurer("06123456");
    makino_ = MustCreate("Patient", MakinoJson(), Insurer("06123456"));
    yamada_ = MustCreate(
        "Patient", PatientJson("山田", "太郎", "ヤマダ", "タロウ", "06123456::2:", "1980-01-15"),
        Insurer("06123456"));
    int n = 0;
    for (const auto& p : {makino_, yamada_}) {
      MustCreate("Coverage",
                 CoverageJson("Patient/" + p, PayorById("06123456"),
                              fmt::format("06123456:あいう:{}:05", ++n)),
                 Insurer("06123456"));
    }
  }

  Response Get(const std::string& target, const Principal& who,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call(Method::kGet, target, who, "", std::move(headers));
  }

  std::vector<store::AuditRow> ReadsOf(const std::string& patient, std::string_view subject) {
    std::vector<store::AuditRow> out;
    for (auto& row : AuditFor(patient)) {
      if (row.practitioner_id == subject && row.category != "Consent") out.push_back(row);
    }
    return out;
  }

  std::string makino_, yamada_;
};

TEST_P(AccessReadTest, CardConsentOpensTheRecordForTwentyFourHours) {
  const Principal doctor = Staff(Qualification::kPhysician, "dr-1");
  Response refused = Get("/fhir/Patient/" + makino_, doctor);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("no card consent"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("牧野"), std::string::npos);

  Consent(makino_, doctor);
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, doctor).status, 200);
  // Another patient stays closed, and so does this one at another facility.
  EXPECT_EQ(Get("/fhir/Patient/" + yamada_, doctor).status, 403);
  Principal elsewhere = doctor;
  elsewhere.facility_code = "1310000029";
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, elsewhere).status, 403);

  clock_.Advance(std::chrono::hours(23) + std::chrono::minutes(59));
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, doctor).status, 200);
  clock_.Advance(std::chrono::minutes(2));
  Response closed = Get("/fhir/Patient/" + makino_, doctor);
  EXPECT_EQ(closed.status, 403);
  EXPECT_EQ(closed.body.find("牧野"), std::string::npos);

  // Every decision was audited: two reads permitted as TREAT; refused before the consent,
  // at the other facility and after the window closed.
  int permitted = 0, denied = 0;
  for (const auto& row : ReadsOf(makino_, "dr-1")) {
    if (row.outcome == "success") {
      EXPECT_EQ(row.purpose, "TREAT");
      ++permitted;
    } else {
      EXPECT_EQ(row.outcome, "denied");
      ++denied;
    }
  }
  EXPECT_EQ(permitted, 2);
  EXPECT_EQ(denied, 3);
}

TEST_P(AccessReadTest, SearchesNameTheirPatientAndNeverCountHiddenOnes) {
  const Principal doctor = Staff(Qualification::kPhysician, "dr-2");
  Consent(makino_, doctor);
  // Name searches across patients are not a care provider's (the urgent search is).
  Response vague = Get("/fhir/Patient?name=まきの", doctor);
  EXPECT_EQ(vague.status, 400);
  EXPECT_NE(vague.body.find("must name the patient"), std::string::npos) << vague.body;

  // The consented patient: found with a true total, by id or by the insured-person id.
  auto by_id = Parse(Get("/fhir/Patient?_id=" + makino_, doctor).body);
  EXPECT_EQ(by_id.at("total").as_int64(), 1);
  auto by_member = Parse(Get("/fhir/Patient?identifier=06123456:あいう:187:05", doctor).body);
  EXPECT_EQ(by_member.at("total").as_int64(), 1);
  auto coverage = Parse(Get("/fhir/Coverage?beneficiary=Patient/" + makino_, doctor).body);
  EXPECT_EQ(coverage.at("total").as_int64(), 1);
  auto count_only = Parse(Get("/fhir/Coverage?beneficiary=" + makino_ + "&_count=0", doctor).body);
  EXPECT_EQ(count_only.at("total").as_int64(), 1);

  // A search that names a patient without a basis is refused whole: no page, no total that
  // would tell the hidden records apart from absent ones.
  Response mixed = Get("/fhir/Patient?_id=" + makino_ + "," + yamada_, doctor);
  EXPECT_EQ(mixed.status, 403);
  EXPECT_EQ(mixed.body.find("total"), std::string::npos);
  EXPECT_EQ(Get("/fhir/Coverage?beneficiary=" + yamada_, doctor).status, 403);
  // An identifier that names nobody: an empty page, as for anyone.
  auto nobody = Parse(Get("/fhir/Patient?identifier=99999999::1:", doctor).body);
  EXPECT_EQ(nobody.at("total").as_int64(), 0);

  // At most kMaxPatientsPerSearch patients per search.
  std::string many = "/fhir/Patient?_id=" + makino_;
  for (size_t i = 0; i < kMaxPatientsPerSearch; ++i) many += ",p" + std::to_string(i);
  Response too_many = Get(many, doctor);
  EXPECT_EQ(too_many.status, 400);
  EXPECT_NE(too_many.body.find("at most"), std::string::npos) << too_many.body;
}

TEST_P(AccessReadTest, ThePatientSeesOnlyTheirOwnRecords) {
  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = makino_;
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, patient).status, 200);
  EXPECT_EQ(Get("/fhir/Patient/" + yamada_, patient).status, 403);
  // Any search is narrowed to their own records inside the query: true totals of their own.
  auto all = Parse(Get("/fhir/Patient", patient).body);
  EXPECT_EQ(all.at("total").as_int64(), 1);
  EXPECT_EQ(all.at("entry").at(0).at("resource").at("id").as_string(), makino_);
  auto coverages = Parse(Get("/fhir/Coverage", patient).body);
  EXPECT_EQ(coverages.at("total").as_int64(), 1);
  auto others = Parse(Get("/fhir/Patient?_id=" + yamada_, patient).body);
  EXPECT_EQ(others.at("total").as_int64(), 0);
  for (const auto& row : AuditFor(makino_)) {
    if (row.qualification == "patient" && row.action == "read") {
      EXPECT_EQ(row.purpose, "PATRQT");
    }
  }
}

TEST_P(AccessReadTest, EmergencyNeedsAnEmergencyHospitalAPhysicianAndAReason) {
  Principal er = Staff(Qualification::kPhysician, "dr-er");
  er.emergency_hospital = true;
  const std::vector<std::pair<std::string, std::string>> claim = {
      {"x-purpose-of-use", "ETREAT"},
      {"x-access-reason", "%E6%84%8F%E8%AD%98%E4%B8%8D%E6%98%8E"},  // 意識不明
      {"x-consent", "cannot-obtain"}};
  Response read = Get("/fhir/Patient/" + makino_, er, claim);
  ASSERT_EQ(read.status, 200) << read.body;
  bool audited = false;
  for (const auto& row : ReadsOf(makino_, "dr-er")) {
    if (row.purpose == "ETREAT" && row.outcome == "success") {
      audited = true;
      EXPECT_NE(row.detail.find("意識不明"), std::string::npos) << row.detail;
      EXPECT_NE(row.detail.find("cannot-obtain"), std::string::npos) << row.detail;
    }
  }
  EXPECT_TRUE(audited);
  // Without a reason; from a hospital that does not receive emergency patients; a nurse.
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, er, {{"x-purpose-of-use", "ETREAT"}}).status, 403);
  Principal plain = er;
  plain.emergency_hospital = false;
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, plain, claim).status, 403);
  Principal nurse = er;
  nurse.qualification = Qualification::kNurse;
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, nurse, claim).status, 403);
  // An unknown purpose is a 400, not a silent TREAT.
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, er, {{"x-purpose-of-use", "CURIOUS"}}).status, 400);
}

TEST_P(AccessReadTest, NursesViewOnlyWhereTheFacilityEnablesIt) {
  Principal nurse = Staff(Qualification::kNurse, "nurse-1");
  Consent(makino_, nurse);
  Response refused = Get("/fhir/Patient/" + makino_, nurse);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("nurses"), std::string::npos) << refused.body;
  nurse.nurses_may_view = true;
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, nurse).status, 200);
}

TEST_P(AccessReadTest, AnOptedOutPatientIsSharedWithNoOtherFacility) {
  const Principal doctor = Staff(Qualification::kPhysician, "dr-3");
  Consent(makino_, doctor);
  ASSERT_EQ(Get("/fhir/Patient/" + makino_, doctor).status, 200);
  access::FactsService facts(*store_, *audit_, clock_);
  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = makino_;
  access::PatientRestrictions r;
  r.opted_out = true;
  auto stored = facts.SetRestrictions(patient, r);
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  Response refused = Get("/fhir/Patient/" + makino_, doctor);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("opted out"), std::string::npos) << refused.body;
  EXPECT_EQ(Get("/fhir/Patient?_id=" + makino_, doctor).status, 403);
  // The registry's own work goes on: the ministry and the paying insurer still read it.
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, Ministry()).status, 200);
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, Insurer("06123456")).status, 200);
}

TEST_P(AccessReadTest, TheMinistryAndInsurersReadRegistryDataOnTheirOwnBasis) {
  Response ministry = Get("/fhir/Patient/" + makino_, Ministry());
  ASSERT_EQ(ministry.status, 200);
  auto all = Parse(Get("/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(all.at("total").as_int64(), 2);
  // A ministry claiming treatment has no card consent.
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, Ministry(), {{"x-purpose-of-use", "TREAT"}}).status,
            403);
  bool hoperat = false;
  for (const auto& row : AuditFor(makino_)) {
    if (row.facility_code == "0000000001" && row.action == "read") {
      hoperat = hoperat || row.purpose == "HOPERAT";
    }
  }
  EXPECT_TRUE(hoperat);
  // An insurer that pays nobody here: refused, and its Coverage search is empty with total 0.
  MustCreateInsurer("01130012");
  EXPECT_EQ(Get("/fhir/Patient/" + makino_, Insurer("01130012")).status, 403);
  auto none = Parse(Get("/fhir/Coverage", Insurer("01130012")).body);
  EXPECT_EQ(none.at("total").as_int64(), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, AccessReadTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()), EngineParamName);

}  // namespace
}  // namespace renkei::registry::testing
