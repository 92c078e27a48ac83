// The patient's access history: consent, reads on each basis, newest first, marked, paged,
// audited, and refused to anyone but the patient; on SQLite and PostgreSQL.
#include "access/access_history.h"

#include <gtest/gtest.h>

#include "access/access_fixture.h"
#include "access/consent_resource.h"

namespace renkei::access {
namespace {

using namespace renkei::access::testing;  // NOLINT: the fixture's names

class AccessHistoryTest : public AccessStoreTest {
 protected:
  // What a read service records after its decision permitted a read (one entry per read).
  void RecordRead(const Principal& who, std::string_view category, std::string_view basis) {
    clock_.Advance(minutes(1));
    Status s = audit_->Record(audit::EntryFor(who, "pat-1", "read", category, basis));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  // A registry Organization naming the facility (the registry indexes its identifier).
  void RegisterOrganization(std::string_view code, std::string_view name) {
    store::ResourceRow row;
    row.type = "Organization";
    row.id = "org-" + std::string(code);
    row.last_updated = clock_.Now();
    row.json = json::Serialize(
        json::object{{"resourceType", "Organization"}, {"id", row.id}, {"name", name}});
    std::vector<store::IndexTerm> terms{
        {"identifier", std::string(kFacilityCodeSystem), std::string(code)}};
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) -> Status {
                                         RK_TRY(tx.WriteResource(row, terms, std::nullopt));
                                         return Ok();
                                       });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  Response GetHistory(const Principal& who, Query query = {}) {
    return Call("/fhir/AuditEvent/$access-history", who, "", "", "", std::move(query));
  }
  static std::vector<json::object> Events(const Response& res) {
    std::vector<json::object> out;
    auto bundle = json::ParseObject(res.body, Limits{});
    EXPECT_TRUE(bundle.ok()) << res.body;
    if (!bundle.ok()) return out;
    if (const json::array* entries = json::GetArray(*bundle, "entry")) {
      for (const auto& e : *entries) out.push_back(*json::GetObject(e.get_object(), "resource"));
    }
    return out;
  }
  static std::string Purpose(const json::object& ev) {
    return json::Serialize(*json::Find(ev, "purposeOfUse"));
  }
};

TEST_P(AccessHistoryTest, ConsentThenReadsShowNewestFirstWithMarks) {
  static constexpr std::string_view kName = "東京救急病院";
  RegisterOrganization(kHospital, kName);
  ASSERT_EQ(PostCard(physician_, Sign(kHospital)).status, 201);
  ASSERT_TRUE(DecideFor(physician_, Category::kDiagnoses).permit);
  RecordRead(physician_, "diagnoses", "TREAT");
  RecordRead(physician_, "prescriptions", "ETREAT");
  Principal ishikawa = Staff("1710000013", FacilityType::kHospital, Qualification::kPhysician);
  RecordRead(ishikawa, "diagnoses", "DISASTER");
  // The patient's own actions are not part of their access history.
  ASSERT_EQ(Call("/fhir/Consent/$restrictions", PatientPrincipal("pat-1"),
                 R"({"resourceType":"Parameters"})")
                .status,
            200);

  Response res = GetHistory(PatientPrincipal("pat-1"));
  ASSERT_EQ(res.status, 200) << res.body;
  auto events = Events(res);
  ASSERT_EQ(events.size(), 4u) << res.body;
  EXPECT_NE(Purpose(events[0]).find("DISASTER"), std::string::npos);
  EXPECT_NE(Purpose(events[1]).find("ETREAT"), std::string::npos);
  EXPECT_NE(Purpose(events[2]).find("TREAT"), std::string::npos);
  EXPECT_NE(json::Serialize(events[3]).find("Consent"), std::string::npos);
  EXPECT_NE(json::Serialize(events[0]).find(R"("valueCode":"disaster")"), std::string::npos);
  EXPECT_NE(json::Serialize(events[1]).find(R"("valueCode":"emergency")"), std::string::npos);
  EXPECT_EQ(json::Find(events[2], "extension"), nullptr);
  EXPECT_NE(json::Serialize(events[2]).find(kName), std::string::npos);
  EXPECT_NE(json::Serialize(events[2]).find("physician"), std::string::npos);

  // The look at the history is itself audited.
  auto entries = AuditOf("pat-1");
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0].action, "read");
  EXPECT_EQ(entries[0].category, "access_history");
  EXPECT_EQ(entries[0].purpose, "PATRQT");
}

TEST_P(AccessHistoryTest, PagesWithoutGapsOrRepeats) {
  for (int i = 0; i < 5; ++i) RecordRead(physician_, "diagnoses", "TREAT");
  std::vector<int64_t> seen;
  Query query{{"_count", "2"}};
  for (int page = 0; page < 5; ++page) {
    Response res = GetHistory(PatientPrincipal("pat-1"), query);
    ASSERT_EQ(res.status, 200) << res.body;
    for (const auto& ev : Events(res)) {
      seen.push_back(std::stoll(std::string(json::GetString(ev, "id").value_or("0"))));
    }
    auto cursor = res.body.find("_cursor=");
    if (cursor == std::string::npos) break;
    auto end = res.body.find('"', cursor);
    query = {{"_count", "2"}, {"_cursor", res.body.substr(cursor + 8, end - cursor - 8)}};
  }
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i - 1], seen[i]);
}

TEST_P(AccessHistoryTest, OnlyThePatientSeesIt) {
  RecordRead(physician_, "diagnoses", "TREAT");
  Response res = GetHistory(physician_);
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.body.find("patient"), std::string::npos) << res.body;
  EXPECT_TRUE(Events(GetHistory(PatientPrincipal("pat-2"))).empty());
}

TEST_P(AccessHistoryTest, PageSizeAndCursorAreChecked) {
  EXPECT_EQ(GetHistory(PatientPrincipal("pat-1"), {{"_count", "0"}}).status, 400);
  EXPECT_EQ(GetHistory(PatientPrincipal("pat-1"), {{"_count", std::to_string(kMaxHistoryPage + 1)}})
                .status,
            400);
  EXPECT_EQ(
      GetHistory(PatientPrincipal("pat-1"), {{"_count", std::to_string(kMaxHistoryPage)}}).status,
      200);
  EXPECT_EQ(GetHistory(PatientPrincipal("pat-1"), {{"_cursor", "x"}}).status, 400);
  EXPECT_EQ(GetHistory(PatientPrincipal("pat-1"), {{"patient", "pat-2"}}).status, 400);
}

INSTANTIATE_TEST_SUITE_P(Engines, AccessHistoryTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
