// The privacy officer's review of emergency and disaster accesses: the ministry sees both
// kinds in the period and nothing else, pages correctly, is audited; others are refused and
// bad periods rejected; on SQLite and PostgreSQL.
#include "access/privacy_review.h"

#include <gtest/gtest.h>

#include <set>

#include "access/access_fixture.h"
#include "fhir/url.h"

namespace renkei::access {
namespace {

using namespace renkei::access::testing;  // NOLINT: the fixture's names

class PrivacyReviewTest : public AccessStoreTest {
 protected:
  void SetUp() override {
    AccessStoreTest::SetUp();
    review_ = std::make_unique<PrivacyReviewService>(*store_, *audit_, clock_);
    review_routes_ = review_->Routes();
    ministry_ = Staff("0000000001", FacilityType::kMinistry, Qualification::kClerk);
  }

  // Records an access at the current time plus step, with a detail as a reading service
  // writes it.
  void Access(std::string_view patient, std::string_view purpose, std::string detail = "") {
    clock_.Advance(hours(1));
    audit::AuditEntry e = audit::EntryFor(physician_, patient, "read", "diagnoses", purpose);
    e.detail = std::move(detail);
    Status s = audit_->Record(std::move(e));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  Response Get(const Principal& who, Query query) {
    Route& r = review_routes_.at(0);
    Request req;
    req.method = r.method;
    req.path = r.pattern;
    req.query = std::move(query);
    req.principal = who;
    req.base_url = "http://127.0.0.1:8080";
    return r.handler(req);
  }

  // The events of a searchset and its next link's query ("" when none).
  static std::vector<json::object> Events(const Response& res, Query* next = nullptr) {
    std::vector<json::object> out;
    auto bundle = json::ParseObject(res.body, Limits{});
    EXPECT_TRUE(bundle.ok()) << res.body;
    if (!bundle.ok()) return out;
    if (const json::array* entries = json::GetArray(*bundle, "entry")) {
      for (const auto& e : *entries) out.push_back(*json::GetObject(e.get_object(), "resource"));
    }
    if (next) {
      next->clear();
      for (const auto& l : *json::GetArray(*bundle, "link")) {
        if (json::GetString(l.get_object(), "relation") != "next") continue;
        std::string_view url = *json::GetString(l.get_object(), "url");
        auto q = fhir::ParseQueryString(url.substr(url.find('?') + 1));
        EXPECT_TRUE(q.has_value());
        if (q) *next = *q;
      }
    }
    return out;
  }

  std::unique_ptr<PrivacyReviewService> review_;
  RouteTable review_routes_;
  Principal ministry_;
};

TEST_P(PrivacyReviewTest, MinistrySeesEmergencyAndDisasterInThePeriodOnly) {
  Access("pat-1", "ETREAT");  // before the period
  const std::string start = FormatInstant(clock_.Now() + minutes(30));
  Access("pat-1", "TREAT");
  Access("pat-1", "ETREAT", R"({"reason":"unconscious after a fall","consent":"cannot-obtain"})");
  Access("pat-2", "DISASTER", R"({"consent":"verbal"})");
  Access("pat-1", "PATRQT");
  const std::string end = FormatInstant(clock_.Now() + minutes(30));
  Access("pat-2", "ETREAT");  // after the period

  Response res = Get(ministry_, {{"start", start}, {"end", end}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto events = Events(res);
  ASSERT_EQ(events.size(), 2u) << res.body;
  const std::string newest = json::Serialize(events[0]);
  const std::string older = json::Serialize(events[1]);
  EXPECT_NE(newest.find("DISASTER"), std::string::npos);
  EXPECT_NE(newest.find("Patient/pat-2"), std::string::npos);
  EXPECT_NE(newest.find("\"disaster\""), std::string::npos);  // the access mark
  EXPECT_NE(newest.find(kAccessConsentExtension), std::string::npos);
  EXPECT_NE(older.find("ETREAT"), std::string::npos);
  EXPECT_NE(older.find("Patient/pat-1"), std::string::npos);
  EXPECT_NE(older.find("unconscious after a fall"), std::string::npos);
  EXPECT_NE(older.find(kAccessReasonExtension), std::string::npos);
  EXPECT_NE(older.find("physician"), std::string::npos);
  EXPECT_NE(older.find("diagnoses"), std::string::npos);
  EXPECT_EQ(json::GetString(events[1], "outcome"), "0");

  // The review was audited (search/audit/HOPERAT) before it was answered.
  store::AuditFilter f;
  f.purpose = "HOPERAT";
  auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
      *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->front().category, "audit");
  EXPECT_EQ(rows->front().action, "search");
  EXPECT_EQ(rows->front().facility_code, "0000000001");
  EXPECT_NE(rows->front().detail.find("\"returned\":2"), std::string::npos);
}

TEST_P(PrivacyReviewTest, PagesAcrossBothPurposesWithoutGapsOrRepeats) {
  const std::string start = FormatInstant(clock_.Now());
  std::set<int64_t> expected;
  for (int i = 0; i < 9; ++i) {
    Access(i % 3 == 0 ? "pat-2" : "pat-1", i % 2 == 0 ? "ETREAT" : "DISASTER");
    expected.insert(AuditOf(i % 3 == 0 ? "pat-2" : "pat-1").front().seq);
    Access("pat-1", "TREAT");
  }
  const std::string end = FormatInstant(clock_.Now() + minutes(1));
  Query q{{"start", start}, {"end", end}, {"_count", "2"}};
  std::vector<int64_t> seen;
  for (int page = 0; page < 10 && !q.empty(); ++page) {
    Response res = Get(ministry_, q);
    ASSERT_EQ(res.status, 200) << res.body;
    auto events = Events(res, &q);
    EXPECT_LE(events.size(), 2u);
    for (const auto& ev : events)
      seen.push_back(std::stoll(std::string(*json::GetString(ev, "id"))));
  }
  ASSERT_EQ(seen.size(), expected.size());
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()), expected);
}

TEST_P(PrivacyReviewTest, OthersAreRefused) {
  Access("pat-1", "ETREAT");
  const Query q{{"start", "2026-01-01"}, {"end", "2026-12-31"}};
  EXPECT_EQ(Get(physician_, q).status, 403);
  EXPECT_EQ(Get(PatientPrincipal("pat-1"), q).status, 403);
  // Refused before the parameters are looked at, and audited as denied.
  EXPECT_EQ(Get(physician_, {{"start", "garbage"}}).status, 403);
  store::AuditFilter f;
  f.facility_code = std::string(kHospital);
  f.purpose = "HOPERAT";
  auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
      *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->front().outcome, "denied");
}

TEST_P(PrivacyReviewTest, BadPeriodsAreRejected) {
  EXPECT_EQ(Get(ministry_, {}).status, 400);
  EXPECT_EQ(Get(ministry_, {{"start", "2026-01-01"}}).status, 400);
  EXPECT_EQ(Get(ministry_, {{"start", "2026-02-01"}, {"end", "2026-01-01"}}).status, 400);
  EXPECT_EQ(Get(ministry_, {{"start", "2026-01-01"}, {"end", "2026-01-01"}}).status, 400);
  EXPECT_EQ(Get(ministry_, {{"start", "yesterday"}, {"end", "2026-01-01"}}).status, 400);
  EXPECT_EQ(Get(ministry_, {{"start", "2026-01-01"}, {"end", "2026-02-01"}, {"x", "1"}}).status,
            400);
  EXPECT_EQ(
      Get(ministry_, {{"start", "2026-01-01"}, {"end", "2026-02-01"}, {"_cursor", "-3"}}).status,
      400);
  // The period limit: 366 days pass, one day more is refused.
  EXPECT_EQ(Get(ministry_, {{"start", "2025-01-01"}, {"end", "2026-01-02"}}).status, 200);
  Response over = Get(ministry_, {{"start", "2025-01-01"}, {"end", "2026-01-03"}});
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(over.body.find("366"), std::string::npos) << over.body;
  // The same limit through the service API.
  ReviewQuery q;
  q.start = kStart;
  q.end = kStart + kMaxReviewPeriod + std::chrono::microseconds(1);
  auto r = review_->Review(ministry_, q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Engines, PrivacyReviewTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
