// Conformance: searches sorted by an index term (SearchQuery::sort_param), by the version time
// ascending and by id descending; keyset paging under ties, rows without the term last, cursor
// mismatches refused; and searches of the tombstones (SearchQuery::deleted_only).
#include <algorithm>
#include <optional>

#include "store_suite.h"

namespace renkei::store {
namespace {

using V = std::vector<std::string>;

class StoreSortTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    struct Obs {
      const char* id;
      const char* patient;
      std::vector<const char*> dates;  // several: a repeating date element
      const char* code;
      int64_t at;
    };
    const Obs observations[] = {
        {"o-jan", "p1", {"2024-01-01T00:00:00Z"}, "x", 100},
        {"o-mar", "p1", {"2024-03-01T00:00:00Z"}, "y", 90},
        // Three on one date: the id breaks the tie.
        {"o-feb-2", "p1", {"2024-02-01T09:00:00Z"}, "x", 80},
        {"o-feb-1", "p1", {"2024-02-01T09:00:00Z"}, "y", 80},
        {"o-feb-3", "p1", {"2024-02-01T09:00:00Z"}, "x", 80},
        // Lowest value sorts ascending, highest descending.
        {"o-span", "p1", {"2023-06-01T00:00:00Z", "2024-12-01T00:00:00Z"}, "x", 70},
        // No date at all: last in both directions.
        {"o-none-b", "p1", {}, "x", 60},
        {"o-none-a", "p1", {}, "y", 60},
        // Another patient's, newer than all: never in p1's pages.
        {"o-other", "p2", {"2025-01-01T00:00:00Z"}, "x", 110},
    };
    for (const Obs& o : observations) {
      std::vector<IndexTerm> terms = {{"code", "urn:lab", o.code}};
      for (const char* d : o.dates) terms.push_back({"date", "", d});
      RK_ASSERT_OK(tx->WriteResource(MakeRow("Observation", o.id, o.patient, At(o.at)), terms, 0));
    }
    RK_ASSERT_OK(tx->Commit());
  }

  static SearchQuery Sorted(bool descending, std::optional<std::string> patient = "p1") {
    SearchQuery q;
    q.type = "Observation";
    q.patient_id = std::move(patient);
    q.sort_param = "date";
    q.sort_descending = descending;
    q.count = 100;
    return q;
  }

  // Every page of q (page size q.count) in order; fails on more than max_pages pages.
  V AllPages(SearchQuery q, size_t max_pages = 50) {
    V seen;
    for (size_t pages = 0; pages < max_pages; ++pages) {
      auto tx = BeginOrDie(TxMode::kRead);
      if (!tx) return seen;
      auto page = tx->Search(q);
      EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().ToString());
      if (!page.ok()) return seen;
      EXPECT_LE(page->rows.size(), q.count);
      for (const auto& r : page->rows) seen.push_back(r.id);
      if (page->next_cursor.empty()) return seen;
      q.after = page->next_cursor;
    }
    ADD_FAILURE() << "paging did not end";
    return seen;
  }

  Result<SearchPage> One(const SearchQuery& q) {
    auto tx = BeginOrDie(TxMode::kRead);
    if (!tx) return Error(ErrorCode::kInternal, "no transaction");
    return tx->Search(q);
  }

  const V kAscending = {"o-span",  "o-jan", "o-feb-1",  "o-feb-2",
                        "o-feb-3", "o-mar", "o-none-a", "o-none-b"};
  const V kDescending = {"o-span",  "o-mar", "o-feb-3",  "o-feb-2",
                         "o-feb-1", "o-jan", "o-none-b", "o-none-a"};
};
RENKEI_INSTANTIATE_STORE_SUITE(StoreSortTest);

TEST_P(StoreSortTest, AscendingByLowestValueWithoutTermLast) {
  auto page = One(Sorted(false));
  RK_ASSERT_OK(page);
  V ids;
  for (const auto& r : page->rows) ids.push_back(r.id);
  EXPECT_EQ(ids, kAscending);
  EXPECT_EQ(page->total, 8);
  EXPECT_EQ(page->next_cursor, "");
}

TEST_P(StoreSortTest, DescendingByHighestValueWithoutTermLast) {
  auto page = One(Sorted(true));
  RK_ASSERT_OK(page);
  V ids;
  for (const auto& r : page->rows) ids.push_back(r.id);
  EXPECT_EQ(ids, kDescending);
  EXPECT_EQ(page->total, 8);
}

TEST_P(StoreSortTest, PagesOfOneVisitEveryRowOnceInOrder) {
  for (bool descending : {false, true}) {
    SearchQuery q = Sorted(descending);
    q.count = 1;
    EXPECT_EQ(AllPages(q), descending ? kDescending : kAscending) << descending;
    q.count = 3;
    EXPECT_EQ(AllPages(q), descending ? kDescending : kAscending) << descending;
  }
}

TEST_P(StoreSortTest, TotalIsTheSameOnEveryPage) {
  SearchQuery q = Sorted(true);
  q.count = 2;
  for (int i = 0; i < 4; ++i) {
    auto page = One(q);
    RK_ASSERT_OK(page);
    EXPECT_EQ(page->total, 8);
    if (page->next_cursor.empty()) break;
    q.after = page->next_cursor;
  }
}

TEST_P(StoreSortTest, CombinedWithCriteria) {
  SearchQuery q = Sorted(true);
  q.count = 1;
  q.criteria.push_back({"code", MatchOp::kEq, true, "urn:lab", {"x"}});
  EXPECT_EQ(AllPages(q), (V{"o-span", "o-feb-3", "o-feb-2", "o-jan", "o-none-b"}));
  // A negated criterion and a date range too.
  q = Sorted(false);
  q.count = 1;
  q.criteria.push_back({"code", MatchOp::kEq, false, "", {"y"}, true});
  q.criteria.push_back({"date", MatchOp::kGe, false, "", {"2024-01-01T00:00:00Z"}});
  EXPECT_EQ(AllPages(q), (V{"o-span", "o-jan", "o-feb-2", "o-feb-3"}));
}

TEST_P(StoreSortTest, WithoutPatientScopeEveryPatientIsSorted) {
  SearchQuery q = Sorted(true, std::nullopt);
  q.count = 2;
  V all = AllPages(q);
  V expected = {"o-other"};
  expected.insert(expected.end(), kDescending.begin(), kDescending.end());
  EXPECT_EQ(all, expected);
}

TEST_P(StoreSortTest, NoRowHasTheTermThenIdOrder) {
  SearchQuery q = Sorted(true);
  q.sort_param = "performer";  // no resource carries it
  q.count = 3;
  V all = AllPages(q);
  V expected = kAscending;
  std::sort(expected.rbegin(), expected.rend());
  EXPECT_EQ(all, expected);
}

TEST_P(StoreSortTest, ValuesWithAnyBytesPageCorrectly) {
  // String terms with ':' and multibyte text: the cursor keeps them whole.
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  const char* names[] = {"a:b", "a:b:c", "やまだ", "a", "a:b"};
  int n = 0;
  for (const char* name : names) {
    RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", "n" + std::to_string(n++), "pz"),
                                   {{"name", "", name}}, 0));
  }
  RK_ASSERT_OK(tx->Commit());
  SearchQuery q;
  q.type = "Patient";
  q.sort_param = "name";
  q.count = 1;
  EXPECT_EQ(AllPages(q), (V{"n3", "n0", "n4", "n1", "n2"}));
  q.sort_descending = true;
  EXPECT_EQ(AllPages(q), (V{"n2", "n1", "n4", "n0", "n3"}));
}

TEST_P(StoreSortTest, LastUpdatedAscendingAndIdDescending) {
  SearchQuery q;
  q.type = "Observation";
  q.patient_id = "p1";
  q.sort_param = "_lastUpdated";
  q.count = 1;
  EXPECT_EQ(AllPages(q), (V{"o-none-a", "o-none-b", "o-span", "o-feb-1", "o-feb-2", "o-feb-3",
                            "o-mar", "o-jan"}));
  q.sort_param = "_id";
  q.sort_descending = true;
  q.count = 3;
  V expected = kAscending;
  std::sort(expected.rbegin(), expected.rend());
  EXPECT_EQ(AllPages(q), expected);
  // With sort_param empty, newest_first keeps its meaning.
  q.sort_param.clear();
  q.sort_descending = false;
  q.newest_first = true;
  EXPECT_EQ(AllPages(q), (V{"o-jan", "o-mar", "o-feb-3", "o-feb-2", "o-feb-1", "o-span", "o-none-b",
                            "o-none-a"}));
}

TEST_P(StoreSortTest, CursorFromAnotherOrderIsInvalid) {
  auto cursor_of = [&](SearchQuery q) {
    q.count = 1;
    auto page = One(q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->next_cursor : std::string();
  };
  const std::string desc = cursor_of(Sorted(true));
  const std::string asc = cursor_of(Sorted(false));
  SearchQuery by_id = Sorted(false);
  by_id.sort_param.clear();
  const std::string id = cursor_of(by_id);
  SearchQuery newest = by_id;
  newest.newest_first = true;
  const std::string time = cursor_of(newest);
  ASSERT_FALSE(desc.empty());
  ASSERT_FALSE(asc.empty());
  SearchQuery other_param = Sorted(true);
  other_param.sort_param = "code";
  struct Case {
    SearchQuery q;
    std::string cursor;
  };
  const Case cases[] = {
      {Sorted(false), desc}, {Sorted(true), asc},  {Sorted(true), id},
      {Sorted(true), time},  {other_param, desc},  {by_id, desc},
      {newest, asc},         {Sorted(true), "!!"}, {Sorted(true), "c2Q6NDpkYXRl"},
  };
  for (const Case& c : cases) {
    SearchQuery q = c.q;
    q.after = c.cursor;
    auto page = One(q);
    ASSERT_FALSE(page.ok()) << c.cursor;
    EXPECT_EQ(page.error().code(), ErrorCode::kInvalid);
  }
  // The right order takes its own cursor.
  SearchQuery ok = Sorted(true);
  ok.after = desc;
  RK_EXPECT_OK(One(ok));
}

TEST_P(StoreSortTest, DeletedRowsAreNotSorted) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  ResourceRow del = MakeRow("Observation", "o-span", "p1", At(200), "");
  del.deleted = true;
  RK_ASSERT_OK(tx->WriteResource(del, {}, 1));
  RK_ASSERT_OK(tx->Commit());
  SearchQuery q = Sorted(true);
  q.count = 2;
  V expected(kDescending.begin() + 1, kDescending.end());
  EXPECT_EQ(AllPages(q), expected);
}

TEST_P(StoreSortTest, TombstonesAreSearchedOnlyWhenAskedAndOnlyByKeptTerms) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  // One delete keeps a term, one keeps none.
  ResourceRow kept = MakeRow("Observation", "o-jan", "p1", At(200), "");
  kept.deleted = true;
  RK_ASSERT_OK(tx->WriteResource(kept, {{"attachment", "", "h1"}}, 1));
  ResourceRow bare = MakeRow("Observation", "o-mar", "p1", At(200), "");
  bare.deleted = true;
  RK_ASSERT_OK(tx->WriteResource(bare, {}, 1));
  RK_ASSERT_OK(tx->Commit());

  SearchQuery q;
  q.type = "Observation";
  q.criteria.push_back({"attachment", MatchOp::kEq, false, "", {"h1"}});
  auto live = One(q);
  RK_ASSERT_OK(live);
  EXPECT_TRUE(live->rows.empty());
  EXPECT_EQ(live->total, 0);
  q.deleted_only = true;
  auto gone = One(q);
  RK_ASSERT_OK(gone);
  ASSERT_EQ(gone->rows.size(), 1u);
  EXPECT_EQ(gone->rows[0].id, "o-jan");
  EXPECT_TRUE(gone->rows[0].deleted);
  EXPECT_EQ(gone->rows[0].patient_id, "p1");
  EXPECT_EQ(gone->rows[0].json, "");
  EXPECT_EQ(gone->total, 1);
  EXPECT_TRUE(gone->terms.empty());  // not asked for
  // The kept terms come back when asked, for live rows as for tombstones.
  q.terms_of = {"attachment", "code"};
  gone = One(q);
  RK_ASSERT_OK(gone);
  ASSERT_EQ(gone->terms.size(), 1u);
  ASSERT_EQ(gone->terms[0].size(), 1u);
  EXPECT_EQ(gone->terms[0][0].param, "attachment");
  EXPECT_EQ(gone->terms[0][0].value, "h1");
  SearchQuery live_terms = Sorted(false);
  live_terms.count = 2;
  live_terms.terms_of = {"date", "code"};
  auto with_terms = One(live_terms);
  RK_ASSERT_OK(with_terms);
  ASSERT_EQ(with_terms->terms.size(), 2u);
  ASSERT_EQ(with_terms->rows[0].id, "o-span");
  ASSERT_EQ(with_terms->terms[0].size(), 3u);  // ordered by param, system, value
  EXPECT_EQ(with_terms->terms[0][0].param, "code");
  EXPECT_EQ(with_terms->terms[0][0].system, "urn:lab");
  EXPECT_EQ(with_terms->terms[0][1].value, "2023-06-01T00:00:00Z");
  EXPECT_EQ(with_terms->terms[0][2].value, "2024-12-01T00:00:00Z");
  // Every tombstone of the type, with or without terms; none of the live rows.
  SearchQuery all;
  all.type = "Observation";
  all.deleted_only = true;
  all.patient_id = "p1";
  EXPECT_EQ(AllPages(all), (V{"o-jan", "o-mar"}));
  all.deleted_only = false;
  EXPECT_EQ(AllPages(all).size(), 6u);
}

}  // namespace
}  // namespace renkei::store
