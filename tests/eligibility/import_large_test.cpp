// A national-scale insurer load: 100,000 members with their coverages in one $import
// (SQLite; see CMakeLists.txt). Labelled slow.
#include <gtest/gtest.h>

#include "eligibility_fixture.h"

namespace renkei::eligibility::testing {
namespace {

class LargeImportTest : public EligibilityFixture {};

TEST_P(LargeImportTest, HundredThousandCoveragesInOneLoad) {
  constexpr int kMembers = 100'000;
  std::string body;
  body.reserve(size_t{kMembers} * 900);
  for (int i = 0; i < kMembers; ++i) {
    std::string member = MemberId(kInsurer, "大", std::to_string(100000 + i), "01");
    body += PatientLine(member, "被保険者");
    body += '\n';
    body += CoverageLine(member, "2025-04-01", i % 10 == 0 ? "2026-03-31" : "");
    body += '\n';
  }
  ASSERT_LT(body.size(), kMaxImportBytes);
  Request req;
  req.method = Method::kPost;
  req.path = "/fhir/Coverage/$import";
  req.body = std::move(body);
  req.principal = Insurer();
  req.headers["content-type"] = "application/fhir+ndjson";
  Response r = service_->Routes().at(1).handler(req);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find(R"("name":"coveragesCreated","valueInteger":100000)"), std::string::npos)
      << r.body;
  EXPECT_EQ(CountOf("Coverage"), kMembers);
  EXPECT_EQ(CountOf("Patient"), kMembers);

  const Principal clerk = Staff(FacilityType::kClinic, Qualification::kClerk);
  VerifyRequest v;
  v.numbers = InsuredNumber{std::string(kInsurer), "大", "１５０００１", "01"};  // member 50001
  auto answer = service_->Verify(clerk, v);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->reason, Eligibility::kEligible);
  v.numbers->number = "100010";  // member 10: coverage ended 2026-03-31
  answer = service_->Verify(clerk, v);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->reason, Eligibility::kLapsed);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, LargeImportTest, ::testing::Values(Engine::kSqlite),
                         EngineParamName);

}  // namespace
}  // namespace renkei::eligibility::testing
