// Conformance: search over index terms (DESIGN.md §6), paging and totals.
#include <limits>
#include <set>

#include "store_suite.h"

namespace renkei::store {
namespace {

class StoreSearchTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    // Five patients with identifiers, kana name keys and birth dates; observations for two.
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    struct P {
      const char* id;
      const char* mrn;
      const char* name;
      const char* birth;
      int64_t at;
    };
    const P patients[] = {
        {"pa", "1001", "やまだたろう", "1950-01-02", 10},
        {"pb", "1002", "やまだはなこ", "1960-05-05", 20},
        {"pc", "1003", "すずきいちろう", "1970-12-31", 30},
        {"pd", "2001", "やまもと", "1980-07-07", 40},
        {"pe", "2002", "たなか", "1990-03-03", 50},
    };
    for (const P& p : patients) {
      std::vector<IndexTerm> terms = {
          {"identifier", "urn:mrn", p.mrn},
          {"identifier", "urn:other", std::string("x") + p.mrn},
          {"name", "", p.name},
          {"birthdate", "", p.birth},
      };
      RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", p.id, p.id, At(p.at)), terms, 0));
    }
    RK_ASSERT_OK(tx->WriteResource(
        MakeRow("Observation", "o1", "pa", At(60)),
        {{"code", "http://loinc.org", "8480-6"}, {"subject", "", "Patient/pa"}}, 0));
    RK_ASSERT_OK(tx->WriteResource(
        MakeRow("Observation", "o2", "pb", At(70)),
        {{"code", "http://loinc.org", "8480-6"}, {"subject", "", "Patient/pb"}}, 0));
    RK_ASSERT_OK(tx->WriteResource(
        MakeRow("Observation", "o3", "pa", At(80)),
        {{"code", "http://loinc.org", "8462-4"}, {"subject", "", "Patient/pa"}}, 0));
    RK_ASSERT_OK(tx->Commit());
  }

  std::vector<std::string> Ids(SearchQuery q) {
    auto tx = BeginOrDie(TxMode::kRead);
    if (!tx) return {};
    auto page = tx->Search(q);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().ToString());
    if (!page.ok()) return {};
    std::vector<std::string> ids;
    for (const auto& r : page->rows) ids.push_back(r.id);
    return ids;
  }

  static SearchQuery Q(std::string type, std::vector<Criterion> criteria = {}) {
    SearchQuery q;
    q.type = std::move(type);
    q.criteria = std::move(criteria);
    return q;
  }
  static Criterion C(std::string param, MatchOp op, std::vector<std::string> values) {
    Criterion c;
    c.param = std::move(param);
    c.op = op;
    c.values = std::move(values);
    return c;
  }
  static Criterion Token(std::string param, std::string system, std::string value) {
    Criterion c = C(std::move(param), MatchOp::kEq, {std::move(value)});
    c.has_system = true;
    c.system = std::move(system);
    return c;
  }
  using V = std::vector<std::string>;
};
RENKEI_INSTANTIATE_STORE_SUITE(StoreSearchTest);

TEST_P(StoreSearchTest, AllOfATypeInIdOrderWithTotal) {
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto page = tx->Search(Q("Patient"));
  RK_ASSERT_OK(page);
  ASSERT_EQ(page->rows.size(), 5u);
  EXPECT_EQ(page->rows[0].id, "pa");
  EXPECT_EQ(page->rows[4].id, "pe");
  EXPECT_EQ(page->total, 5);
  EXPECT_EQ(page->next_cursor, "");
  EXPECT_EQ(page->rows[0].type, "Patient");
  EXPECT_EQ(page->rows[0].version, 1);
}

TEST_P(StoreSearchTest, TokenWithAndWithoutSystem) {
  EXPECT_EQ(Ids(Q("Patient", {Token("identifier", "urn:mrn", "1002")})), V{"pb"});
  EXPECT_EQ(Ids(Q("Patient", {Token("identifier", "urn:other", "1002")})), V{});
  EXPECT_EQ(Ids(Q("Patient", {Token("identifier", "urn:other", "x1002")})), V{"pb"});
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"x1003"})})), V{"pc"});
  // system| with no code: any value under that system.
  Criterion any_value = C("identifier", MatchOp::kEq, {});
  any_value.has_system = true;
  any_value.system = "urn:mrn";
  EXPECT_EQ(Ids(Q("Patient", {any_value})).size(), 5u);
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"nothing"})})), V{});
}

TEST_P(StoreSearchTest, OrValuesAndAndCriteria) {
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"1001", "2002", "9999"})})),
            (V{"pa", "pe"}));
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やまだ", "たな"})})),
            (V{"pa", "pb", "pe"}));
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やま"}),
                              C("birthdate", MatchOp::kGe, {"1960-05-05"})})),
            (V{"pb", "pd"}));
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やま"}),
                              C("birthdate", MatchOp::kGe, {"1960-05-05"}),
                              Token("identifier", "urn:mrn", "2001")})),
            (V{"pd"}));
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やま"}),
                              C("identifier", MatchOp::kEq, {"1003"})})),
            V{});
}

TEST_P(StoreSearchTest, NegatedCriteriaLeaveResourcesOutInsideTheQuery) {
  Criterion not_systolic = Token("code", "http://loinc.org", "8480-6");
  not_systolic.negate = true;
  EXPECT_EQ(Ids(Q("Observation", {not_systolic})), V{"o3"});
  // With a plain criterion (which then drives the query) and with another negated one.
  Criterion not_pb = C("subject", MatchOp::kEq, {"Patient/pb"});
  not_pb.negate = true;
  EXPECT_EQ(Ids(Q("Observation", {not_pb, C("code", MatchOp::kEq, {"8480-6"})})), V{"o1"});
  EXPECT_EQ(Ids(Q("Observation", {not_systolic, not_pb})), V{"o3"});
  // Several values: none of them may be present.
  Criterion neither = C("identifier", MatchOp::kEq, {"1001", "2002"});
  neither.negate = true;
  EXPECT_EQ(Ids(Q("Patient", {neither})), (V{"pb", "pc", "pd"}));
  // The total counts only what is returned.
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  SearchQuery q = Q("Patient", {neither});
  q.count = 1;
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_EQ(page->total, 3);
  EXPECT_FALSE(page->next_cursor.empty());
}

TEST_P(StoreSearchTest, PrefixMatchesOnlyThatPrefix) {
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やまだ"})})), (V{"pa", "pb"}));
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やまだはなこ"})})), V{"pb"});
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"やまだはなこさん"})})), V{});
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {""})})).size(), 5u);
  // LIKE metacharacters are plain text in a prefix.
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"%"})})), V{});
  EXPECT_EQ(Ids(Q("Patient", {C("name", MatchOp::kPrefix, {"_"})})), V{});
}

TEST_P(StoreSearchTest, RangesCompareAsText) {
  EXPECT_EQ(Ids(Q("Patient", {C("birthdate", MatchOp::kLt, {"1960-05-05"})})), V{"pa"});
  EXPECT_EQ(Ids(Q("Patient", {C("birthdate", MatchOp::kLe, {"1960-05-05"})})), (V{"pa", "pb"}));
  EXPECT_EQ(Ids(Q("Patient", {C("birthdate", MatchOp::kGt, {"1980-07-07"})})), V{"pe"});
  EXPECT_EQ(Ids(Q("Patient", {C("birthdate", MatchOp::kGe, {"1980-07-07"})})), (V{"pd", "pe"}));
  // A closed interval as two criteria on the same parameter.
  EXPECT_EQ(Ids(Q("Patient", {C("birthdate", MatchOp::kGe, {"1960"}),
                              C("birthdate", MatchOp::kLt, {"1980"})})),
            (V{"pb", "pc"}));
}

TEST_P(StoreSearchTest, PatientRestriction) {
  SearchQuery q = Q("Observation", {Token("code", "http://loinc.org", "8480-6")});
  EXPECT_EQ(Ids(q), (V{"o1", "o2"}));
  q.patient_id = "pa";
  EXPECT_EQ(Ids(q), V{"o1"});
  q.patient_id = "pe";
  EXPECT_EQ(Ids(q), V{});
  SearchQuery all_of_pa = Q("Observation");
  all_of_pa.patient_id = "pa";
  EXPECT_EQ(Ids(all_of_pa), (V{"o1", "o3"}));
}

TEST_P(StoreSearchTest, UpdatedTermsReplaceOldOnes) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", "pa", "pa", At(99)),
                                 {{"identifier", "urn:mrn", "7777"}}, 1));
  RK_ASSERT_OK(tx->Commit());
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"1001"})})), V{});
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"7777"})})), V{"pa"});
}

TEST_P(StoreSearchTest, PagingWalksEveryMatchOnceInIdOrder) {
  // 23 more patients: walk the 28 in pages of 5 with cursors.
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    for (int i = 0; i < 23; ++i) {
      std::string id = "q" + std::to_string(100 + i);
      RK_ASSERT_OK(
          tx->WriteResource(MakeRow("Patient", id, id, At(100 + i)), {{"active", "", "true"}}, 0));
    }
    RK_ASSERT_OK(tx->Commit());
  }
  SearchQuery q = Q("Patient");
  q.count = 5;
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto page = tx->Search(q);
    RK_ASSERT_OK(page);
    ++pages;
    EXPECT_EQ(page->total, 28);
    EXPECT_LE(page->rows.size(), 5u);
    for (const auto& r : page->rows) seen.push_back(r.id);
    if (page->next_cursor.empty()) break;
    EXPECT_EQ(page->rows.size(), 5u);
    q.after = page->next_cursor;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 6);
  ASSERT_EQ(seen.size(), 28u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 28u);
}

TEST_P(StoreSearchTest, NewestFirstPagingWithTiesOnTime) {
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    // Three resources sharing one timestamp: the id breaks the tie.
    for (const char* id : {"t1", "t2", "t3"}) {
      RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", id, id, At(45)), {}, 0));
    }
    RK_ASSERT_OK(tx->Commit());
  }
  SearchQuery q = Q("Patient");
  q.newest_first = true;
  q.count = 2;
  q.include_total = false;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto page = tx->Search(q);
    RK_ASSERT_OK(page);
    EXPECT_FALSE(page->total.has_value());
    for (const auto& r : page->rows) seen.push_back(r.id);
    if (page->next_cursor.empty()) break;
    q.after = page->next_cursor;
  }
  EXPECT_EQ(seen, (V{"pe", "t3", "t2", "t1", "pd", "pc", "pb", "pa"}));
}

TEST_P(StoreSearchTest, UnboundedCountReturnsEverything) {
  SearchQuery q = Q("Patient");
  q.count = std::numeric_limits<size_t>::max();
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_EQ(page->rows.size(), 5u);
  EXPECT_EQ(page->next_cursor, "");
  auto hist = tx->History("Patient", "pa", std::numeric_limits<size_t>::max(), 0);
  RK_ASSERT_OK(hist);
  EXPECT_EQ(hist->size(), 1u);
  auto audit = tx->ScanAudit(1, std::numeric_limits<size_t>::max());
  RK_ASSERT_OK(audit);
  AuditFilter f;
  f.count = std::numeric_limits<size_t>::max();
  RK_ASSERT_OK(tx->FindAudit(f));
}

TEST_P(StoreSearchTest, CountZeroGivesOnlyTheTotal) {
  SearchQuery q = Q("Patient", {C("name", MatchOp::kPrefix, {"やま"})});
  q.count = 0;
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_TRUE(page->rows.empty());
  EXPECT_EQ(page->total, 3);
  EXPECT_EQ(page->next_cursor, "");
}

TEST_P(StoreSearchTest, MalformedOrMismatchedCursorIsInvalid) {
  SearchQuery q = Q("Patient");
  q.count = 2;
  std::string id_cursor;
  {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto page = tx->Search(q);
    RK_ASSERT_OK(page);
    id_cursor = page->next_cursor;
    ASSERT_FALSE(id_cursor.empty());
  }
  for (std::string bad : {std::string("!!!"), std::string("aGVsbG8"), id_cursor}) {
    SearchQuery b = q;
    b.after = bad;
    b.newest_first = true;  // an id-order cursor does not fit a newest-first search
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto page = tx->Search(b);
    ASSERT_FALSE(page.ok()) << bad;
    EXPECT_EQ(page.error().code(), ErrorCode::kInvalid);
  }
}

TEST_P(StoreSearchTest, DeletedResourcesAreNeverFound) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  ResourceRow del = MakeRow("Patient", "pb", "pb", At(200), "");
  del.deleted = true;
  // Even if a caller passed terms with a delete, the deleted version is not found.
  RK_ASSERT_OK(tx->WriteResource(del, {{"identifier", "urn:mrn", "1002"}}, 1));
  RK_ASSERT_OK(tx->Commit());
  EXPECT_EQ(Ids(Q("Patient", {C("identifier", MatchOp::kEq, {"1002"})})), V{});
  EXPECT_EQ(Ids(Q("Patient")).size(), 4u);
}

TEST_P(StoreSearchTest, ManyTermsOnOneResource) {
  // More terms than one insert statement carries.
  std::vector<IndexTerm> terms;
  for (int i = 0; i < 40; ++i) terms.push_back({"code", "s", "c" + std::to_string(i)});
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Condition", "many", "pa"), terms, 0));
  RK_ASSERT_OK(tx->Commit());
  for (int i : {0, 15, 16, 17, 39}) {
    EXPECT_EQ(Ids(Q("Condition", {Token("code", "s", "c" + std::to_string(i))})), V{"many"});
  }
}

TEST_P(StoreSearchTest, RepeatedTermIsStoredOnceAndFoundOnce) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Condition", "dup", "pa"),
                                 {{"code", "s", "c1"}, {"code", "s", "c1"}, {"code", "", "c1"}},
                                 0));
  RK_ASSERT_OK(tx->Commit());
  SearchQuery q = Q("Condition", {C("code", MatchOp::kEq, {"c1"})});
  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto page = rtx->Search(q);
  RK_ASSERT_OK(page);
  ASSERT_EQ(page->rows.size(), 1u);
  EXPECT_EQ(page->total, 1);
}

}  // namespace
}  // namespace renkei::store
