// Each registry kind valid and invalid, through the REST routes; ResolvePrincipal.
#include <set>

#include "registry/principal_resolver.h"
#include "registry_fixture.h"

namespace renkei::registry::testing {
namespace {

std::set<std::string> Paths(const Response& r) {
  std::set<std::string> out;
  auto oo = Parse(r.body);
  for (const auto& issue : oo.at("issue").as_array()) {
    if (const auto* e = issue.as_object().if_contains("expression")) {
      out.insert(std::string(e->as_array().at(0).as_string()));
    }
  }
  return out;
}

class KindsTest : public RegistryTest {};

TEST_P(KindsTest, OrganizationValidAndInvalid) {
  EXPECT_FALSE(MustCreate("Organization", HospitalJson(), Ministry()).empty());
  EXPECT_FALSE(MustCreateInsurer("06123456").empty());

  // Prefecture 48 and point table 2 do not exist; the name and the type are missing.
  Response bad = Call(Method::kPost, "/fhir/Organization", Ministry(),
                      fmt::format(R"({{"resourceType":"Organization",
      "identifier":[{{"system":"{}","value":"4821234567"}}]}})",
                                  kInstitutionNoSystem));
  EXPECT_EQ(bad.status, 400) << bad.body;
  auto paths = Paths(bad);
  EXPECT_TRUE(paths.count("Organization.name")) << bad.body;
  EXPECT_TRUE(paths.count("Organization.type")) << bad.body;

  Response bad_code =
      Call(Method::kPost, "/fhir/Organization", Ministry(), HospitalJson("1322345678"));
  EXPECT_EQ(bad_code.status, 400) << bad_code.body;
  EXPECT_TRUE(Paths(bad_code).count("Organization.identifier"));

  // A pharmacy code (point table 4) on a hospital breaks a rule: 422.
  Response wrong_table =
      Call(Method::kPost, "/fhir/Organization", Ministry(), HospitalJson("1342345678"));
  EXPECT_EQ(wrong_table.status, 422) << wrong_table.body;

  // A clinic may not claim the emergency flag.
  std::string clinic = HospitalJson("1312345679");
  clinic.replace(clinic.find("\"hospital\""), 10, "\"clinic\"");
  EXPECT_EQ(Call(Method::kPost, "/fhir/Organization", Ministry(), clinic).status, 422);

  // Insurer numbers are 8 digits.
  EXPECT_EQ(Call(Method::kPost, "/fhir/Organization", Ministry(), InsurerJson("123")).status, 400);
  // Only the ministry writes the directory.
  Response forbidden =
      Call(Method::kPost, "/fhir/Organization", Insurer("06123456"), HospitalJson("1312345670"));
  EXPECT_EQ(forbidden.status, 403) << forbidden.body;
  // Any authenticated principal reads it.
  Response search =
      Call(Method::kGet, "/fhir/Organization?type=hospital", Staff(Qualification::kClerk));
  EXPECT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(Parse(search.body).at("total").as_int64(), 1);
}

TEST_P(KindsTest, PractitionerNamesAndQualifications) {
  std::string good = fmt::format(R"({{"resourceType":"Practitioner",
    "identifier":[{{"system":"{}","value":"123456"}}],
    "name":[{{"extension":[{{"url":"{}","valueCode":"IDE"}}],"family":"髙橋","given":["一郎"]}},
            {{"extension":[{{"url":"{}","valueCode":"SYL"}}],"family":"タカハシ","given":["イチロウ"]}}],
    "qualification":[{{"code":{{"coding":[{{"system":"{}","code":"physician"}}]}}}}]}})",
                                 kMedicalRegistrationSystem, kNameRepresentationExtension,
                                 kNameRepresentationExtension, kQualificationSystem);
  EXPECT_FALSE(MustCreate("Practitioner", good, Ministry()).empty());
  Response found = Call(Method::kGet, "/fhir/Practitioner?name=ﾀｶﾊｼ", Staff(Qualification::kNurse));
  EXPECT_EQ(Parse(found.body).at("total").as_int64(), 1) << found.body;

  std::string bad = fmt::format(R"({{"resourceType":"Practitioner",
    "name":[{{"extension":[{{"url":"{}","valueCode":"XYZ"}}],"family":"髙橋　一郎"}}],
    "qualification":[{{"code":{{"coding":[{{"system":"{}","code":"wizard"}}]}}}}]}})",
                                kNameRepresentationExtension, kQualificationSystem);
  Response r = Call(Method::kPost, "/fhir/Practitioner", Ministry(), bad);
  EXPECT_EQ(r.status, 400);
  auto paths = Paths(r);
  EXPECT_TRUE(paths.count("Practitioner.name[0].extension")) << r.body;
  EXPECT_TRUE(paths.count("Practitioner.name[0].family")) << r.body;
  EXPECT_TRUE(paths.count("Practitioner.qualification[0].code")) << r.body;
}

TEST_P(KindsTest, InvalidPatientListsEveryIssueInOneOutcome) {
  std::string bad = R"({"resourceType":"Patient",
    "identifier":[{"system":"http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
                   "value":"12345:あいう:187:5"}],
    "name":[{"family":"牧野　","given":[7]}],
    "gender":"woman","birthDate":"1930-02-30","active":"yes"})";
  Response r = Call(Method::kPost, "/fhir/Patient", Ministry(), bad);
  ASSERT_EQ(r.status, 400) << r.body;
  auto oo = Parse(r.body);
  EXPECT_EQ(oo.at("resourceType").as_string(), "OperationOutcome");
  auto paths = Paths(r);
  for (const char* p :
       {"Patient.identifier[0].value", "Patient.name[0].family", "Patient.name[0].given[0]",
        "Patient.gender", "Patient.birthDate", "Patient.active"}) {
    EXPECT_TRUE(paths.count(p)) << p << " missing in " << r.body;
  }
  EXPECT_GE(oo.at("issue").as_array().size(), 6u);
}

TEST_P(KindsTest, CoverageValidAndInvalid) {
  std::string insurer = MustCreateInsurer("06123456");
  std::string patient = MustCreate("Patient", MakinoJson(), Insurer("06123456"));
  // By identifier and by reference.
  EXPECT_FALSE(MustCreate("Coverage",
                          CoverageJson("Patient/" + patient, PayorById("06123456"),
                                       "06123456:あいう:１８７:05"),
                          Insurer("06123456"))
                   .empty());
  EXPECT_FALSE(
      MustCreate("Coverage",
                 CoverageJson("Patient/" + patient, PayorByRef(insurer), "06123456:えお:２:"),
                 Ministry())
          .empty());
  // Member id of another insurer, unknown patient, bad high-cost category and copay.
  std::string bad = CoverageJson("Patient/nope", PayorById("06123456"), "01234567::1:");
  bad.replace(bad.find("\"ウ\""), 5, "\"カ\"");
  bad.replace(bad.find("\"value\":30"), 10, "\"value\":130");
  Response r = Call(Method::kPost, "/fhir/Coverage", Ministry(), bad);
  EXPECT_EQ(r.status, 400) << r.body;
  auto paths = Paths(r);
  EXPECT_TRUE(paths.count("Coverage.extension")) << r.body;
  EXPECT_TRUE(paths.count("Coverage.costToBeneficiary[0].valueQuantity")) << r.body;
  // Well-formed but naming an unregistered insurer and an unknown patient: 422.
  Response rule = Call(Method::kPost, "/fhir/Coverage", Ministry(),
                       CoverageJson("Patient/nope", PayorById("99999999"), "99999999::1:"));
  EXPECT_EQ(rule.status, 422) << rule.body;
  auto rule_paths = Paths(rule);
  EXPECT_TRUE(rule_paths.count("Coverage.beneficiary")) << rule.body;
  EXPECT_TRUE(rule_paths.count("Coverage.payor[0].identifier")) << rule.body;
}

TEST_P(KindsTest, ResolvePrincipalFromRoles) {
  std::string org = MustCreate("Organization", HospitalJson("1312345678", true), Ministry());
  std::string practitioner = MustCreate("Practitioner",
                                        fmt::format(R"({{"resourceType":"Practitioner",
    "name":[{{"family":"救急","given":["太郎"]}}],
    "qualification":[{{"code":{{"coding":[{{"system":"{}","code":"physician"}}]}}}},
                     {{"code":{{"coding":[{{"system":"{}","code":"nurse"}}]}}}}]}})",
                                                    kQualificationSystem, kQualificationSystem),
                                        Ministry());
  auto role = [&](std::string_view qual, bool active) {
    return fmt::format(R"({{"resourceType":"PractitionerRole","active":{},
      "practitioner":{{"reference":"Practitioner/{}"}},"organization":{{"reference":"Organization/{}"}},
      "code":[{{"coding":[{{"system":"{}","code":"{}"}}]}}]}})",
                       active ? "true" : "false", practitioner, org, kQualificationSystem, qual);
  };
  // A qualification the practitioner does not hold: 422.
  EXPECT_EQ(
      Call(Method::kPost, "/fhir/PractitionerRole", Ministry(), role("pharmacist", true)).status,
      422);
  // Only an inactive role: refused.
  std::string inactive = MustCreate("PractitionerRole", role("nurse", false), Ministry());
  auto refused = ResolvePrincipal(*store_, practitioner, "1312345678");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kForbidden);

  MustCreate("PractitionerRole", role("physician", true), Ministry());
  auto p = ResolvePrincipal(*store_, practitioner, "1312345678");
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->kind, PrincipalKind::kPractitioner);
  EXPECT_EQ(p->practitioner_id, practitioner);
  EXPECT_EQ(p->subject, practitioner);
  EXPECT_EQ(p->facility_code, "1312345678");
  EXPECT_EQ(p->facility_type, FacilityType::kHospital);
  EXPECT_EQ(p->prefecture, "13");
  EXPECT_TRUE(p->emergency_hospital);
  EXPECT_EQ(p->qualification, Qualification::kPhysician);

  auto unknown_facility = ResolvePrincipal(*store_, practitioner, "1399999999");
  ASSERT_FALSE(unknown_facility.ok());
  EXPECT_EQ(unknown_facility.error().code(), ErrorCode::kNotFound);
  auto unknown_practitioner = ResolvePrincipal(*store_, "nobody", "1312345678");
  ASSERT_FALSE(unknown_practitioner.ok());
  EXPECT_EQ(unknown_practitioner.error().code(), ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, KindsTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         EngineParamName);

}  // namespace
}  // namespace renkei::registry::testing
