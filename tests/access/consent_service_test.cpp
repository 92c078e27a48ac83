// Card consent end to end below HTTP: the reader's JWS through the route handler, the stored
// Consent, the facts loaded back and the decision they lead to; on SQLite and PostgreSQL.
#include "access/consent_service.h"

#include <gtest/gtest.h>

#include "access/access_fixture.h"
#include "access/consent_resource.h"

namespace renkei::access {
namespace {

using namespace renkei::access::testing;  // NOLINT: the fixture's names

class ConsentServiceTest : public AccessStoreTest {};

TEST_P(ConsentServiceTest, CardConsentOpensATwentyFourHourViewForThatFacility) {
  EXPECT_FALSE(DecideFor(physician_, Category::kDiagnoses).permit);
  Response res = PostCard(physician_, Sign(kHospital));
  ASSERT_EQ(res.status, 201) << res.body;
  auto consent = json::ParseObject(res.body, Limits{});
  ASSERT_TRUE(consent.ok());
  EXPECT_EQ(json::GetString(*consent, "resourceType"), "Consent");
  EXPECT_EQ(json::GetString(*consent, "status"), "active");
  EXPECT_EQ(json::GetString(*json::GetObject(*consent, "patient"), "reference"), "Patient/pat-1");
  ASSERT_FALSE(res.headers.empty());
  EXPECT_NE(res.headers[0].second.find("/fhir/Consent/"), std::string::npos);

  AccessFacts facts = Facts();
  ASSERT_EQ(facts.consents.size(), 1u);
  EXPECT_EQ(facts.consents[0].facility_code, kHospital);
  EXPECT_EQ(facts.consents[0].groups, kConsentAll);
  EXPECT_EQ(facts.consents[0].signed_at, kStart);

  Decision d = DecideFor(physician_, Category::kDiagnoses);
  EXPECT_TRUE(d.permit) << d.reason;
  EXPECT_EQ(d.basis, "TREAT");
  // Another facility gains nothing from this consent.
  EXPECT_FALSE(DecideFor(Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician),
                         Category::kDiagnoses)
                   .permit);
  clock_.Set(kStart + hours(23) + minutes(59));
  EXPECT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);
  clock_.Set(kStart + hours(24) + minutes(1));
  EXPECT_FALSE(DecideFor(physician_, Category::kDiagnoses).permit);
}

TEST_P(ConsentServiceTest, CategoriesOpenOnlyTheirGroups) {
  ASSERT_EQ(PostCard(physician_, Sign(kHospital, {"surgery", "checkup"})).status, 201);
  EXPECT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);
  EXPECT_TRUE(DecideFor(physician_, Category::kCheckupResults).permit);
  Decision labs = DecideFor(physician_, Category::kLabResults);
  EXPECT_FALSE(labs.permit);
  EXPECT_NE(labs.reason.find("does not cover"), std::string_view::npos);
}

TEST_P(ConsentServiceTest, ReplayedAssertionIsRefusedAndAudited) {
  std::string jws = Sign(kHospital);
  ASSERT_EQ(PostCard(physician_, jws).status, 201);
  Response again = PostCard(physician_, jws);
  EXPECT_EQ(again.status, 401);
  EXPECT_NE(again.body.find("replayed"), std::string::npos) << again.body;
  EXPECT_EQ(Facts().consents.size(), 1u);
  auto entries = AuditOf("pat-1");
  ASSERT_EQ(entries.size(), 1u);  // the refused replay names no verified patient
  EXPECT_EQ(entries[0].action, "create");
  EXPECT_EQ(entries[0].category, "Consent");
  EXPECT_EQ(entries[0].purpose, "TREAT");
  EXPECT_EQ(entries[0].facility_code, kHospital);
  EXPECT_EQ(entries[0].outcome, "success");
}

TEST_P(ConsentServiceTest, AnotherFacilitysOrStaleAssertionIsRefused) {
  EXPECT_EQ(PostCard(physician_, Sign(kClinic)).status, 403);
  std::string old = Sign(kHospital);
  clock_.Advance(minutes(10));
  EXPECT_EQ(PostCard(physician_, old).status, 401);
  EXPECT_TRUE(Facts().consents.empty());
}

TEST_P(ConsentServiceTest, ReceptionClerkRecordsButCannotView) {
  Principal clerk = Staff(kHospital, FacilityType::kHospital, Qualification::kClerk);
  ASSERT_EQ(PostCard(clerk, Sign(kHospital)).status, 201);
  AccessRequest r;
  r.actor.facility_code = clerk.facility_code;
  r.actor.facility_type = clerk.facility_type;
  r.actor.qualification = Qualification::kClerk;
  r.patient_id = "pat-1";
  r.item.category = Category::kDiagnoses;
  r.item.registering_facility = "2710000017";
  EXPECT_FALSE(Decide(r, Facts()).permit);
  EXPECT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);
}

TEST_P(ConsentServiceTest, BadRequestsAreRefused) {
  Principal insurer;
  insurer.kind = PrincipalKind::kSystem;
  insurer.facility_code = "06270015";
  insurer.facility_type = FacilityType::kInsurer;
  EXPECT_EQ(PostCard(insurer, Sign("06270015")).status, 403);
  EXPECT_EQ(PostCard(physician_, Sign(kHospital, {"everything"})).status, 400);
  EXPECT_EQ(PostCard(physician_, Sign(kHospital, {})).status, 400);
  EXPECT_EQ(PostCard(physician_, Sign(kHospital, {"all"}, "ETREAT")).status, 422);
  EXPECT_EQ(Call("/fhir/Consent/$card", physician_, "{not json").status, 400);
  EXPECT_EQ(Call("/fhir/Consent/$card", physician_, R"({"resourceType":"Patient"})").status, 400);
  EXPECT_EQ(
      Call("/fhir/Consent/$card", physician_, R"({"resourceType":"Parameters","parameter":[]})")
          .status,
      400);
  EXPECT_EQ(Call("/fhir/Consent/$card", physician_, Body(Sign(kHospital)), "", "text/plain").status,
            415);
  EXPECT_TRUE(Facts().consents.empty());
}

TEST_P(ConsentServiceTest, OversizedAssertionIsRefused) {
  std::string huge(kMaxCardAssertionBytes + 1, 'a');
  EXPECT_EQ(PostCard(physician_, huge).status, 413);
  std::string fits = Sign(kHospital);
  ASSERT_LE(fits.size(), kMaxCardAssertionBytes);
  EXPECT_EQ(PostCard(physician_, fits).status, 201);
}

TEST_P(ConsentServiceTest, PatientRevokesAtOnce) {
  Response res = PostCard(physician_, Sign(kHospital));
  ASSERT_EQ(res.status, 201);
  std::string id(json::GetString(json::ParseObject(res.body, Limits{}).value(), "id").value());
  clock_.Advance(hours(1));
  ASSERT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);

  EXPECT_EQ(Call("/fhir/Consent/{id}/$revoke", physician_, "", id).status, 403);
  EXPECT_EQ(Call("/fhir/Consent/{id}/$revoke", PatientPrincipal("pat-2"), "", id).status, 404);
  EXPECT_EQ(Call("/fhir/Consent/{id}/$revoke", PatientPrincipal("pat-1"), "", "nope").status, 404);

  Response revoked = Call("/fhir/Consent/{id}/$revoke", PatientPrincipal("pat-1"), "", id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  auto body = json::ParseObject(revoked.body, Limits{});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(json::GetString(*body, "status"), "inactive");
  EXPECT_EQ(json::GetString(*json::GetObject(*body, "meta"), "versionId"), "2");

  AccessFacts facts = Facts();
  ASSERT_EQ(facts.consents.size(), 1u);
  EXPECT_TRUE(facts.consents[0].revoked);
  EXPECT_EQ(facts.consents[0].revoked_at, kStart + hours(1));
  Decision d = DecideFor(physician_, Category::kDiagnoses);
  EXPECT_FALSE(d.permit);
  EXPECT_NE(d.reason.find("revoked"), std::string_view::npos);

  // Idempotent: a second revocation changes nothing.
  Response twice = Call("/fhir/Consent/{id}/$revoke", PatientPrincipal("pat-1"), "", id);
  EXPECT_EQ(twice.status, 200);
  EXPECT_NE(twice.body.find(R"("versionId":"2")"), std::string::npos) << twice.body;

  auto entries = AuditOf("pat-1");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "update");  // newest first
  EXPECT_EQ(entries[0].purpose, "PATRQT");
}

TEST_P(ConsentServiceTest, FactsAreThePatientsOwn) {
  ASSERT_EQ(PostCard(physician_, Sign(kHospital, {"all"}, "TREAT", "pat-2")).status, 201);
  EXPECT_TRUE(Facts("pat-1").consents.empty());
  EXPECT_EQ(Facts("pat-2").consents.size(), 1u);
  EXPECT_FALSE(DecideFor(physician_, Category::kDiagnoses, "pat-1").permit);
  EXPECT_TRUE(DecideFor(physician_, Category::kDiagnoses, "pat-2").permit);
  // Consents older than the window are not loaded at all.
  clock_.Advance(hours(25));
  EXPECT_TRUE(Facts("pat-2").consents.empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsentServiceTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
