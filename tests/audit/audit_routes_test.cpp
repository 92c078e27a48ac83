// GET /fhir/AuditEvent: ministry only, filters, paging by seq, and the search audited itself.
#include "audit/audit_routes.h"

#include <gtest/gtest.h>

#include <set>

#include "audit_test_util.h"
#include "core/json.h"
#include "raw_db.h"

namespace renkei::audit {
namespace {

using renkei::testing::Engine;

Principal Ministry() {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.facility_code = "0000000001";
  p.facility_type = FacilityType::kMinistry;
  p.practitioner_id = "officer";
  p.qualification = Qualification::kClerk;
  return p;
}

Principal Doctor() {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.facility_code = "1310000001";
  p.facility_type = FacilityType::kHospital;
  p.practitioner_id = "doc";
  p.qualification = Qualification::kPhysician;
  return p;
}

class AuditRoutesTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    opened_ = renkei::testing::OpenStore(GetParam());
    log_ = std::make_unique<AuditLog>(*opened_.store, clock_);
    routes_ = AuditRoutes(*opened_.store, *log_, clock_);
  }
  void TearDown() override {
    log_.reset();
    opened_.store.reset();
    opened_.db.reset();
  }

  // 2026-04-01T00:00:00Z plus one hour per entry; patients/facilities/purposes vary.
  void Seed(int n) {
    for (int i = 0; i < n; ++i) {
      clock_.Set(kStart + std::chrono::hours(i));
      AuditEntry e =
          renkei::testing::TestEntry("p" + std::to_string(i), i % 3 == 0 ? "pat-a" : "pat-b");
      e.facility_code = i % 2 == 0 ? "1310000001" : "2740000002";
      e.purpose = i % 4 == 0 ? "ETREAT" : "TREAT";
      ASSERT_TRUE(log_->Record(std::move(e)).ok());
    }
    clock_.Set(kStart + std::chrono::hours(1000));
  }

  Response Get(std::optional<Principal> who,
               std::vector<std::pair<std::string, std::string>> query) {
    Request req;
    req.method = Method::kGet;
    req.path = "/fhir/AuditEvent";
    req.query = std::move(query);
    req.principal = std::move(who);
    req.base_url = "http://127.0.0.1:8080";
    return routes_.at(0).handler(req);
  }

  static json::object Body(const Response& r) {
    auto o = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(o.ok()) << r.body;
    return o.ok() ? std::move(o).value() : json::object{};
  }

  static std::vector<json::object> Events(const json::object& bundle) {
    std::vector<json::object> out;
    if (const json::array* entries = json::GetArray(bundle, "entry")) {
      for (const auto& e : *entries) out.push_back(e.at("resource").as_object());
    }
    return out;
  }

  static std::string NextCursor(const json::object& bundle) {
    for (const auto& l : bundle.at("link").as_array()) {
      if (l.at("relation").as_string() == "next") {
        std::string url(l.at("url").as_string());
        size_t at = url.find("_cursor=");
        return at == std::string::npos ? "" : url.substr(at + 8);
      }
    }
    return "";
  }

  std::vector<store::AuditRow> Newest(size_t n) {
    store::AuditFilter f;
    f.count = n;
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *opened_.store, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? std::move(rows).value() : std::vector<store::AuditRow>{};
  }

  static constexpr TimePoint kStart =
      TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 4 / 1));
  renkei::testing::OpenedStore opened_;
  ManualClock clock_{kStart};
  std::unique_ptr<AuditLog> log_;
  RouteTable routes_;
};

TEST_P(AuditRoutesTest, RouteIsDeclaredAsAuditEventSearch) {
  ASSERT_EQ(routes_.size(), 1u);
  EXPECT_EQ(routes_[0].method, Method::kGet);
  EXPECT_EQ(routes_[0].pattern, "/fhir/AuditEvent");
  EXPECT_EQ(routes_[0].interaction, Interaction::kSearchType);
  EXPECT_EQ(routes_[0].resource_type, "AuditEvent");
}

TEST_P(AuditRoutesTest, OthersThanTheMinistryAreRefusedAndTheAttemptIsAudited) {
  Seed(3);
  Response r = Get(Doctor(), {{"patient", "pat-a"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  std::vector<store::AuditRow> newest = Newest(1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].action, "search");
  EXPECT_EQ(newest[0].category, "AuditEvent");
  EXPECT_EQ(newest[0].outcome, "denied");
  EXPECT_EQ(newest[0].patient_id, "pat-a");
  EXPECT_EQ(newest[0].practitioner_id, "doc");

  Response anonymous = Get(std::nullopt, {});
  EXPECT_EQ(anonymous.status, 401);
}

TEST_P(AuditRoutesTest, MinistryPagesThroughEverythingNewestFirst) {
  Seed(25);
  std::vector<std::string> ids;
  std::string cursor;
  int pages = 0;
  do {
    std::vector<std::pair<std::string, std::string>> q = {{"_count", "10"}};
    if (!cursor.empty()) q.emplace_back("_cursor", cursor);
    Response r = Get(Ministry(), q);
    ASSERT_EQ(r.status, 200) << r.body;
    json::object bundle = Body(r);
    EXPECT_EQ(bundle.at("type").as_string(), "searchset");
    for (const auto& ev : Events(bundle)) ids.emplace_back(ev.at("id").as_string());
    cursor = NextCursor(bundle);
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  // 25 seeded entries; the audit entries of the searches themselves come after the first
  // page's cursor and so do not shift the pages.
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.front(), "25");
  EXPECT_EQ(ids.back(), "1");
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), 25u);

  // Each search was audited before its answer left.
  std::vector<store::AuditRow> newest = Newest(3);
  ASSERT_EQ(newest.size(), 3u);
  for (const auto& row : newest) {
    EXPECT_EQ(row.action, "search");
    EXPECT_EQ(row.category, "AuditEvent");
    EXPECT_EQ(row.facility_code, "0000000001");
    EXPECT_EQ(row.outcome, "success");
  }
}

TEST_P(AuditRoutesTest, FiltersByPatientAgentPurposeAndDate) {
  Seed(12);
  Response r = Get(Ministry(), {{"patient", "Patient/pat-a"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<json::object> events = Events(Body(r));
  ASSERT_EQ(events.size(), 4u);  // i = 0, 3, 6, 9
  for (const auto& ev : events) {
    EXPECT_EQ(ev.at("entity").as_array()[0].at("what").at("reference").as_string(),
              "Patient/pat-a");
  }

  r = Get(Ministry(), {{"agent", "2740000002"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Events(Body(r)).size(), 6u);

  r = Get(Ministry(), {{"purpose", "http://terminology.hl7.org/CodeSystem/v3-ActReason|ETREAT"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Events(Body(r)).size(), 3u);  // i = 0, 4, 8

  // Entries at hours 2..5 of 2026-04-01 (UTC).
  r = Get(Ministry(), {{"date", "ge2026-04-01T02:00:00Z"}, {"date", "le2026-04-01T05:00:00Z"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Events(Body(r)).size(), 4u);

  // A whole day: all 12 seeded entries are on 2026-04-01, none on the 2nd.
  r = Get(Ministry(), {{"date", "2026-04-02"}, {"agent", "1310000001"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Events(Body(r)).size(), 0u);
  r = Get(Ministry(), {{"date", "2026-04-01"}, {"agent", "1310000001"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Events(Body(r)).size(), 6u);
}

TEST_P(AuditRoutesTest, MalformedSearchesAre400) {
  Response r = Get(Ministry(), {{"colour", "blue"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("colour"), std::string::npos);
  EXPECT_EQ(Get(Ministry(), {{"date", "yesterday"}}).status, 400);
  EXPECT_EQ(Get(Ministry(), {{"date", "xx2026-01-01"}}).status, 400);
  EXPECT_EQ(Get(Ministry(), {{"_count", "0"}}).status, 400);
  EXPECT_EQ(Get(Ministry(), {{"_cursor", "abc"}}).status, 400);
  EXPECT_EQ(Get(Ministry(), {{"patient", "Patient/bad id"}}).status, 400);
}

TEST_P(AuditRoutesTest, PageSizeAboveTheLimitIsCut) {
  // One more entry than the page-size limit (Limits::max_page_size).
  const size_t limit = Limits{}.max_page_size;
  std::vector<AuditEntry> many;
  for (size_t i = 0; i <= limit; ++i) many.push_back(renkei::testing::TestEntry("n"));
  ASSERT_TRUE(log_->Record(std::move(many)).ok());
  Response r = Get(Ministry(), {{"_count", std::to_string(limit * 5)}});
  ASSERT_EQ(r.status, 200);
  json::object bundle = Body(r);
  EXPECT_EQ(Events(bundle).size(), limit);
  EXPECT_FALSE(NextCursor(bundle).empty());
}

TEST_P(AuditRoutesTest, NothingLeavesWhenTheSearchCannotBeAudited) {
  Seed(3);
  renkei::testing::RawDb::Open(GetParam(), opened_.db->url())->Exec("DELETE FROM audit_head");
  Response r = Get(Ministry(), {});
  EXPECT_GE(r.status, 500) << r.body;
  EXPECT_EQ(r.body.find("AuditEvent/"), std::string::npos) << r.body;
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditRoutesTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         renkei::testing::EngineParamName);

}  // namespace
}  // namespace renkei::audit
