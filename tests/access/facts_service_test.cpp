// The patient's restrictions and the ministry's disaster declarations: stored through their
// routes, loaded back by LoadFacts and honoured by the decision; on SQLite and PostgreSQL.
#include "access/facts_service.h"

#include <gtest/gtest.h>

#include "access/access_fixture.h"

namespace renkei::access {
namespace {

using namespace renkei::access::testing;  // NOLINT: the fixture's names

class FactsServiceTest : public AccessStoreTest {
 protected:
  static std::string Params(const json::array& parameters) {
    return json::Serialize(json::object{{"resourceType", "Parameters"}, {"parameter", parameters}});
  }
  static json::object Str(std::string_view name, std::string_view value) {
    return json::object{{"name", name}, {"valueString", value}};
  }
  static json::object When(std::string_view name, std::string_view value) {
    return json::object{{"name", name}, {"valueDateTime", value}};
  }
  Response Restrict(const Principal& who, const json::array& parameters) {
    return Call("/fhir/Consent/$restrictions", who, Params(parameters));
  }
  Response Declare(const Principal& who, const json::array& parameters) {
    return Call("/fhir/Basic/$declare-disaster", who, Params(parameters));
  }
  // A physician of the Ishikawa emergency hospital (prefecture 17) asking in disaster mode.
  Decision DisasterRead(std::string_view prefecture = "17") {
    AccessRequest r;
    r.actor.facility_code = "1710000013";
    r.actor.facility_type = FacilityType::kHospital;
    r.actor.prefecture = prefecture;
    r.actor.emergency_hospital = true;
    r.actor.qualification = Qualification::kPhysician;
    r.patient_id = "pat-1";
    r.item.category = Category::kDiagnoses;
    r.item.item_id = "Condition/c1";
    r.item.registering_facility = "1310000011";
    r.purpose.purpose = Purpose::kDisaster;
    r.purpose.verbal_consent = true;
    return Decide(r, Facts());
  }
  static Principal Ministry() {
    Principal p;
    p.kind = PrincipalKind::kPractitioner;
    p.subject = "prac-13-ministry-clerk-1";
    p.practitioner_id = p.subject;
    p.facility_code = "0000000001";
    p.facility_type = FacilityType::kMinistry;
    p.qualification = Qualification::kClerk;
    return p;
  }
};

TEST_P(FactsServiceTest, RestrictionsReachTheDecision) {
  ASSERT_EQ(PostCard(physician_, Sign(kHospital)).status, 201);
  Decision before = DecideFor(physician_, Category::kDiagnoses);  // reads Condition/c1
  ASSERT_TRUE(before.permit) << before.reason;

  Response res = Restrict(PatientPrincipal("pat-1"),
                          json::array{Str("hide", "Condition/c1"), Str("block", "2710000017"),
                                      Str("allow", std::string(kHospital))});
  ASSERT_EQ(res.status, 200) << res.body;
  AccessFacts facts = Facts();
  EXPECT_FALSE(facts.restrictions.opted_out);
  EXPECT_EQ(facts.restrictions.hidden_item_ids, std::vector<std::string>{"Condition/c1"});
  EXPECT_EQ(facts.restrictions.blocked_facilities, std::vector<std::string>{"2710000017"});
  EXPECT_EQ(facts.restrictions.allowed_facilities,
            std::vector<std::string>{std::string(kHospital)});
  Decision hidden = DecideFor(physician_, Category::kDiagnoses);
  EXPECT_FALSE(hidden.permit);
  EXPECT_NE(hidden.reason.find("hidden at the patient's request"), std::string_view::npos);

  // Replaced as a whole: now opted out, nothing hidden.
  res = Restrict(PatientPrincipal("pat-1"),
                 json::array{json::object{{"name", "optOut"}, {"valueBoolean", true}}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find(R"("versionId":"2")"), std::string::npos) << res.body;
  facts = Facts();
  EXPECT_TRUE(facts.restrictions.opted_out);
  EXPECT_TRUE(facts.restrictions.hidden_item_ids.empty());
  Decision opted = DecideFor(physician_, Category::kDiagnoses);
  EXPECT_FALSE(opted.permit);
  EXPECT_NE(opted.reason.find("opted out"), std::string_view::npos);

  // Cleared: the consent applies again. Another patient's facts never carry these.
  ASSERT_EQ(Restrict(PatientPrincipal("pat-1"), json::array{}).status, 200);
  EXPECT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);
  EXPECT_FALSE(Facts("pat-2").restrictions.opted_out);

  auto entries = AuditOf("pat-1");
  ASSERT_EQ(entries.size(), 4u);  // the consent and three restriction updates
  EXPECT_EQ(entries[0].purpose, "PATRQT");
  EXPECT_EQ(entries[0].category, "Consent");
}

TEST_P(FactsServiceTest, OnlyThePatientSetsWellFormedRestrictions) {
  EXPECT_EQ(Restrict(physician_, json::array{Str("hide", "Condition/c1")}).status, 403);
  Response bad = Restrict(
      PatientPrincipal("pat-1"),
      json::array{Str("block", "13100"), Str("hide", "not a reference"), Str("mute", "x")});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("parameter[0]"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("parameter[2]"), std::string::npos) << bad.body;
  EXPECT_EQ(Call("/fhir/Consent/$restrictions", PatientPrincipal("pat-1"), "[]").status, 400);
  EXPECT_EQ(
      Call("/fhir/Consent/$restrictions", PatientPrincipal("pat-1"), Params({}), "", "text/plain")
          .status,
      415);
  EXPECT_TRUE(Facts().restrictions.hidden_item_ids.empty());
}

TEST_P(FactsServiceTest, RestrictionListsAreLimited) {
  json::array at_limit, over_limit;
  for (size_t i = 0; i < kMaxRestrictionEntries; ++i) {
    at_limit.push_back(Str("hide", "Condition/c" + std::to_string(i)));
  }
  over_limit = at_limit;
  over_limit.push_back(Str("hide", "Condition/one-more"));
  EXPECT_EQ(Restrict(PatientPrincipal("pat-1"), over_limit).status, 413);
  EXPECT_EQ(Restrict(PatientPrincipal("pat-1"), at_limit).status, 200);
  EXPECT_EQ(Facts().restrictions.hidden_item_ids.size(), kMaxRestrictionEntries);
}

TEST_P(FactsServiceTest, DisasterDeclarationOpensItsRegionForItsPeriod) {
  EXPECT_FALSE(DisasterRead().permit);
  Response res = Declare(Ministry(), json::array{Str("prefecture", "17"), Str("prefecture", "16"),
                                                 When("start", "2026-03-01T00:00:00Z"),
                                                 When("end", "2026-03-03T00:00:00Z")});
  ASSERT_EQ(res.status, 201) << res.body;
  AccessFacts facts = Facts();
  ASSERT_EQ(facts.declarations.size(), 1u);
  EXPECT_EQ(facts.declarations[0].prefectures, (std::vector<std::string>{"17", "16"}));

  Decision inside = DisasterRead();
  EXPECT_TRUE(inside.permit) << inside.reason;
  EXPECT_EQ(inside.basis, "DISASTER");
  Decision outside = DisasterRead("15");
  EXPECT_FALSE(outside.permit);
  EXPECT_NE(outside.reason.find("outside every declared"), std::string_view::npos);

  // Declarations end by themselves.
  clock_.Set(*ParseDateTime("2026-03-03T00:01:00Z"));
  EXPECT_TRUE(Facts().declarations.empty());
  EXPECT_FALSE(DisasterRead().permit);

  store::AuditFilter f;
  f.purpose = "HOPERAT";
  auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
      *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].category, "DisasterDeclaration");
  EXPECT_EQ((*rows)[0].facility_code, "0000000001");
}

TEST_P(FactsServiceTest, TheDeclarationCacheSeesThisServersDeclarationsAtOnce) {
  DeclarationCache cache(std::chrono::hours(1));  // never expires within the test
  auto live = [&] {
    auto got = store::RunInTransactionWithResult<std::vector<DisasterDeclaration>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return cache.Get(tx, clock_.Now()); });
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->size() : size_t{99};
  };
  EXPECT_EQ(live(), 0u);
  // Declared through a service that does not know the cache (another node): not seen yet.
  Response first = Declare(
      Ministry(), json::array{Str("prefecture", "17"), When("start", "2026-03-01T00:00:00Z"),
                              When("end", "2026-03-03T00:00:00Z")});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(live(), 0u);
  // Declared through this server's service: seen at once, with the other one.
  facts_service_->SetDeclarationCache(&cache);
  Response second = Declare(
      Ministry(), json::array{Str("prefecture", "16"), When("start", "2026-03-01T00:00:00Z"),
                              When("end", "2026-03-04T00:00:00Z")});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(live(), 2u);
  // LoadFacts takes them from the cache.
  auto facts = store::RunInTransactionWithResult<AccessFacts>(
      *store_, store::TxMode::kRead,
      [&](store::Transaction& tx) { return LoadFacts(tx, "pat-1", clock_.Now(), &cache); });
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->declarations.size(), 2u);
  facts_service_->SetDeclarationCache(nullptr);
}

TEST_P(FactsServiceTest, OnlyTheMinistryDeclaresWellFormedDisasters) {
  json::array good{Str("prefecture", "17"), When("start", "2026-03-01T00:00:00Z"),
                   When("end", "2026-03-03T00:00:00Z")};
  EXPECT_EQ(Declare(physician_, good).status, 403);
  EXPECT_EQ(Declare(Ministry(),
                    json::array{Str("prefecture", "48"), When("start", "2026-03-01T00:00:00Z"),
                                When("end", "2026-03-03T00:00:00Z")})
                .status,
            400);
  EXPECT_EQ(Declare(Ministry(),
                    json::array{Str("prefecture", "17"), When("start", "2026-03-03T00:00:00Z"),
                                When("end", "2026-03-01T00:00:00Z")})
                .status,
            400);
  EXPECT_EQ(Declare(Ministry(), json::array{Str("prefecture", "17")}).status, 400);
  EXPECT_EQ(Declare(Ministry(), json::array{When("start", "2026-03-01T00:00:00Z"),
                                            When("end", "2026-03-03T00:00:00Z")})
                .status,
            400);
  EXPECT_TRUE(Facts().declarations.empty());
  EXPECT_EQ(Declare(Ministry(), good).status, 201);
}

INSTANTIATE_TEST_SUITE_P(Engines, FactsServiceTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
