// Coverage/$import: an insurer's NDJSON load, all or nothing, upserting by identifier.
#include <gtest/gtest.h>

#include "eligibility_fixture.h"

namespace renkei::eligibility::testing {
namespace {

const std::string kA = MemberId(kInsurer, "記号", "1001", "01");
const std::string kB = MemberId(kInsurer, "", "1002", "");

class ImportTest : public EligibilityFixture {
 protected:
  Response Post(const std::string& body, const Principal& who = Insurer(),
                std::string content_type = "application/fhir+ndjson") {
    Request req;
    req.method = Method::kPost;
    req.path = "/fhir/Coverage/$import";
    req.body = body;
    req.principal = who;
    req.headers["content-type"] = std::move(content_type);
    return service_->Routes().at(1).handler(req);
  }

  static std::string Lines(const std::vector<std::string>& lines) {
    std::string body;
    for (const auto& l : lines) body += l + "\n";
    return body;
  }
};

TEST_P(ImportTest, LoadsPatientsAndCoveragesAndResolvesBeneficiaries) {
  Response r =
      Post(Lines({PatientLine(kA, "山田"), PatientLine(kB, "佐藤"),
                  CoverageLine(kA, "2025-04-01", ""), CoverageLine(kB, "2025-04-01", "")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"patientsCreated","valueInteger":2)"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("name":"coveragesCreated","valueInteger":2)"), std::string::npos);
  EXPECT_EQ(CountOf("Patient"), 2);
  EXPECT_EQ(CountOf("Coverage"), 2);

  store::AuditRow audit = LastAudit();
  EXPECT_EQ(audit.action, "import");
  EXPECT_EQ(audit.purpose, "HOPERAT");
  EXPECT_EQ(audit.outcome, "success");
  EXPECT_NE(audit.detail.find(R"("coverages_created":2)"), std::string::npos);

  // The beneficiary given by identifier now refers to the Patient by id.
  VerifyRequest v;
  v.numbers = ParseMemberId(kA);
  auto answer = service_->Verify(Staff(FacilityType::kClinic, Qualification::kClerk), v);
  ASSERT_TRUE(answer.ok());
  ASSERT_TRUE(answer->coverage.has_value());
  EXPECT_EQ(answer->coverage->at("beneficiary").at("reference").as_string(),
            "Patient/" + PatientIdOf(kA));
}

TEST_P(ImportTest, ReloadUpdatesByIdentifier) {
  MustImport({PatientLine(kA, "山田"), CoverageLine(kA, "2025-04-01", "")});
  const std::string id = PatientIdOf(kA);
  ImportSummary s = MustImport(
      {PatientLine(kA, "山田", "1980-01-03"), CoverageLine(kA, "2025-04-01", "2026-03-31")});
  EXPECT_EQ(s.patients_created, 0);
  EXPECT_EQ(s.patients_updated, 1);
  EXPECT_EQ(s.coverages_created, 0);
  EXPECT_EQ(s.coverages_updated, 1);
  EXPECT_EQ(PatientIdOf(kA), id);
  EXPECT_EQ(CountOf("Patient"), 1);
  EXPECT_EQ(CountOf("Coverage"), 1);
  VerifyRequest v;
  v.numbers = ParseMemberId(kA);
  auto answer = service_->Verify(Staff(FacilityType::kClinic, Qualification::kClerk), v);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->reason, Eligibility::kLapsed);
  EXPECT_EQ(answer->patient->at("birthDate").as_string(), "1980-01-03");
  EXPECT_EQ(answer->coverage->at("meta").at("versionId").as_string(), "2");
}

TEST_P(ImportTest, AnyBadLineStoresNothingAndEveryBadLineIsListed) {
  std::string body = Lines({
      PatientLine(kA, "山田"),                         // 1 ok
      "{not json",                                     // 2 malformed
      CoverageLine(kA, "2025-04-01", ""),              // 3 ok
      R"({"resourceType":"Observation"})",             // 4 wrong type
      CoverageLine(kB, "2025-04-01", "", "sleeping"),  // 5 bad status
  });
  Response r = Post(body);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("line[2]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("line[4]"), std::string::npos);
  EXPECT_EQ(r.body.find("line[1]"), std::string::npos);
  EXPECT_EQ(CountOf("Patient"), 0);
  EXPECT_EQ(CountOf("Coverage"), 0);
  EXPECT_EQ(LastAudit().outcome, "error");

  // Well-formed lines that fail the registry's validation: listed too, nothing stored.
  r = Post(Lines({PatientLine(kA, "山田"), CoverageLine(kA, "2025-04-01", "", "sleeping"),
                  CoverageLine(kB, "2026-04-01", "2025-04-01")}));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("line[2].status"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("line[3]"), std::string::npos);
  EXPECT_EQ(CountOf("Patient"), 0);
}

TEST_P(ImportTest, UnresolvableBeneficiaryIs422AndStoresNothing) {
  Response r = Post(Lines({PatientLine(kA, "山田"), CoverageLine(kA, "2025-04-01", ""),
                           CoverageLine(kB, "2025-04-01", "")}));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("line[3].beneficiary"), std::string::npos) << r.body;
  EXPECT_EQ(CountOf("Patient"), 0);
  EXPECT_EQ(CountOf("Coverage"), 0);
}

TEST_P(ImportTest, AnotherInsurersMembersAre403) {
  const std::string foreign = MemberId(kOtherInsurer, "", "7", "");
  Response r = Post(Lines({PatientLine(kA, "山田"), CoverageLine(kA, "2025-04-01", ""),
                           PatientLine(foreign, "他人"), CoverageLine(foreign, "2025-04-01", "")}));
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("line[3]"), std::string::npos);
  EXPECT_NE(r.body.find("line[4]"), std::string::npos);
  EXPECT_EQ(CountOf("Patient"), 0);
  EXPECT_EQ(LastAudit().outcome, "denied");

  // The same load by the other insurer is refused for lines 1-2.
  EXPECT_EQ(Post(Lines({PatientLine(kA, "山田")}), Insurer(kOtherInsurer)).status, 403);
}

TEST_P(ImportTest, OnlyInsurersLoad) {
  std::string body = Lines({PatientLine(kA, "山田")});
  EXPECT_EQ(Post(body, Staff(FacilityType::kHospital, Qualification::kPhysician)).status, 403);
  EXPECT_EQ(Post(body, Ministry()).status, 403);
  EXPECT_EQ(CountOf("Patient"), 0);
}

TEST_P(ImportTest, ContentTypeEmptyLoadsAndDuplicates) {
  EXPECT_EQ(Post(Lines({PatientLine(kA, "山田")}), Insurer(), "application/fhir+json").status, 415);
  EXPECT_EQ(Post("\n\n").status, 400);
  Response r = Post(Lines({PatientLine(kA, "山田"), PatientLine(kA, "山田")}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("line[2].identifier"), std::string::npos) << r.body;
  // CRLF line ends are accepted.
  r = Post(PatientLine(kA, "山田") + "\r\n" + CoverageLine(kA, "2025-04-01", "") + "\r\n",
           Insurer(), "application/fhir+ndjson; charset=utf-8");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_P(ImportTest, RouteDeclaresTheBulkBodyLimit) {
  RouteTable routes = service_->Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[1].pattern, "/fhir/Coverage/$import");
  EXPECT_EQ(routes[1].operation, "$import");
  EXPECT_EQ(routes[1].max_body_bytes, kMaxImportBytes);
  EXPECT_GT(routes[1].max_body_bytes, Limits{}.max_body_bytes);
}

INSTANTIATE_TEST_SUITE_P(Engines, ImportTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         EngineParamName);

}  // namespace
}  // namespace renkei::eligibility::testing
