// Conformance: schema, resources (write/read/vread/history/purge) and transactions.
#include "store_suite.h"

namespace renkei::store {
namespace {

using StoreResourceTest = StoreTest;
RENKEI_INSTANTIATE_STORE_SUITE(StoreResourceTest);

TEST_P(StoreResourceTest, MigrateIsIdempotentAndRecordsTheSchemaVersion) {
  auto v1 = store_->SchemaVersion();
  RK_ASSERT_OK(v1);
  EXPECT_GE(*v1, 1);
  auto again = store_->Migrate();
  RK_ASSERT_OK(again);
  EXPECT_EQ(*again, *v1);
  auto v2 = store_->SchemaVersion();
  RK_ASSERT_OK(v2);
  EXPECT_EQ(*v2, *v1);
  EXPECT_EQ(store_->capabilities().engine,
            GetParam() == testing::Engine::kSqlite ? "sqlite" : "postgresql");
}

TEST_P(StoreResourceTest, FreshDatabaseHasSchemaVersionZeroUntilMigrated) {
  auto db = testing::MakeTestDatabase(GetParam());
  auto opened = Open(db->url(), 2);
  RK_ASSERT_OK(opened);
  auto& store = **opened;
  auto before = store.SchemaVersion();
  RK_ASSERT_OK(before);
  EXPECT_EQ(*before, 0);
  auto migrated = store.Migrate();
  RK_ASSERT_OK(migrated);
  EXPECT_GE(*migrated, 1);
  auto after = store.SchemaVersion();
  RK_ASSERT_OK(after);
  EXPECT_EQ(*after, *migrated);
}

TEST_P(StoreResourceTest, WriteThenReadCurrentVersionAndHistory) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto v1 = tx->WriteResource(MakeRow("Observation", "o1", "p1", At(100), R"({"v":1})"), {},
                              std::nullopt);
  RK_ASSERT_OK(v1);
  EXPECT_EQ(*v1, 1);
  auto v2 = tx->WriteResource(MakeRow("Observation", "o1", "p1", At(200), R"({"v":2})"), {}, 1);
  RK_ASSERT_OK(v2);
  EXPECT_EQ(*v2, 2);
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Observation", "o1");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->version, 2);
  EXPECT_EQ((*cur)->json, R"({"v":2})");
  EXPECT_EQ((*cur)->patient_id, "p1");
  EXPECT_EQ((*cur)->type, "Observation");
  EXPECT_EQ((*cur)->last_updated, At(200));
  EXPECT_FALSE((*cur)->deleted);

  auto old = rtx->ReadVersion("Observation", "o1", 1);
  RK_ASSERT_OK(old);
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ((*old)->json, R"({"v":1})");
  EXPECT_EQ((*old)->last_updated, At(100));
  auto missing_version = rtx->ReadVersion("Observation", "o1", 3);
  RK_ASSERT_OK(missing_version);
  EXPECT_FALSE(missing_version->has_value());
  auto missing = rtx->ReadCurrent("Observation", "nope");
  RK_ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  auto other_type = rtx->ReadCurrent("Condition", "o1");
  RK_ASSERT_OK(other_type);
  EXPECT_FALSE(other_type->has_value());

  auto hist = rtx->History("Observation", "o1", 10, 0);
  RK_ASSERT_OK(hist);
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].version, 2);
  EXPECT_EQ((*hist)[1].version, 1);
  auto page = rtx->History("Observation", "o1", 1, 2);
  RK_ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].version, 1);
  auto limited = rtx->History("Observation", "o1", 1, 0);
  RK_ASSERT_OK(limited);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].version, 2);
}

TEST_P(StoreResourceTest, ResourcesOwnedByNoPatientWork) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Organization", "org1", ""), {}, 0));
  auto cur = tx->ReadCurrent("Organization", "org1");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->patient_id, "");
  RK_ASSERT_OK(tx->Commit());
}

TEST_P(StoreResourceTest, ExpectedVersionMismatchIsAConflict) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto wrong_create = tx->WriteResource(MakeRow("Patient", "a", "a"), {}, 3);
  ASSERT_FALSE(wrong_create.ok());
  EXPECT_EQ(wrong_create.error().code(), ErrorCode::kConflict);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", "a", "a"), {}, 0));
  auto exists = tx->WriteResource(MakeRow("Patient", "a", "a"), {}, 0);
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.error().code(), ErrorCode::kConflict);
  auto stale = tx->WriteResource(MakeRow("Patient", "a", "a"), {}, 2);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  // A refused write leaves the transaction usable and changes nothing.
  auto ok = tx->WriteResource(MakeRow("Patient", "a", "a"), {}, 1);
  RK_ASSERT_OK(ok);
  EXPECT_EQ(*ok, 2);
  RK_ASSERT_OK(tx->Commit());
}

TEST_P(StoreResourceTest, TypeAndIdAreRequired) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  for (const auto& row : {MakeRow("", "x", "p"), MakeRow("Patient", "", "p")}) {
    auto w = tx->WriteResource(row, {}, std::nullopt);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code(), ErrorCode::kInvalid);
  }
}

TEST_P(StoreResourceTest, OwningPatientCannotChange) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Observation", "o1", "p1"), {}, std::nullopt));
  auto moved = tx->WriteResource(MakeRow("Observation", "o1", "p2"), {}, std::nullopt);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code(), ErrorCode::kConflict);
  auto cur = tx->ReadCurrent("Observation", "o1");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->patient_id, "p1");
  EXPECT_EQ((*cur)->version, 1);
}

TEST_P(StoreResourceTest, DeleteIsAVersionAndStaysReadable) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Condition", "c1", "p1", At(1), R"({"a":1})"),
                                 {{"code", "http://sys", "x"}}, 0));
  ResourceRow del = MakeRow("Condition", "c1", "p1", At(2), "");
  del.deleted = true;
  auto v = tx->WriteResource(del, {}, 1);
  RK_ASSERT_OK(v);
  EXPECT_EQ(*v, 2);
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Condition", "c1");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_TRUE((*cur)->deleted);
  EXPECT_EQ((*cur)->version, 2);
  auto first = rtx->ReadVersion("Condition", "c1", 1);
  RK_ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_FALSE((*first)->deleted);
  auto second = rtx->ReadVersion("Condition", "c1", 2);
  RK_ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_TRUE((*second)->deleted);
  SearchQuery q;
  q.type = "Condition";
  auto found = rtx->Search(q);
  RK_ASSERT_OK(found);
  EXPECT_TRUE(found->rows.empty());
  EXPECT_EQ(found->total, 0);
}

TEST_P(StoreResourceTest, EraseHistoryKeepsOnlyTheCurrentVersion) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Condition", "c9", "p1"), {{"code", "", "x"}}, 0));
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Condition", "c9", "p1"), {{"code", "", "x"}}, 1));
  ResourceRow tombstone = MakeRow("Condition", "c9", "p1");
  tombstone.deleted = true;
  tombstone.json.clear();
  RK_ASSERT_OK(tx->WriteResource(tombstone, {}, 2));
  RK_ASSERT_OK(tx->EraseHistory("Condition", "c9"));
  RK_ASSERT_OK(tx->EraseHistory("Condition", "never-existed"));
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Condition", "c9");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_TRUE((*cur)->deleted);  // still answers 410
  EXPECT_EQ((*cur)->version, 3);
  for (int64_t v : {1, 2}) {
    auto old = rtx->ReadVersion("Condition", "c9", v);
    RK_ASSERT_OK(old);
    EXPECT_FALSE(old->has_value()) << "version " << v << " kept its content";
  }
  auto history = rtx->History("Condition", "c9", 10, 0);
  RK_ASSERT_OK(history);
  EXPECT_EQ(history->size(), 1u);
}

TEST_P(StoreResourceTest, PurgeRemovesEveryVersionAndTerm) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Observation", "o1", "p1"), {{"code", "", "x"}}, 0));
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Observation", "o1", "p1"), {{"code", "", "x"}}, 1));
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Observation", "o2", "p1"), {{"code", "", "x"}}, 0));
  RK_ASSERT_OK(tx->PurgeResource("Observation", "o1"));
  RK_ASSERT_OK(tx->PurgeResource("Observation", "never-existed"));
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Observation", "o1");
  RK_ASSERT_OK(cur);
  EXPECT_FALSE(cur->has_value());
  auto v1 = rtx->ReadVersion("Observation", "o1", 1);
  RK_ASSERT_OK(v1);
  EXPECT_FALSE(v1->has_value());
  auto hist = rtx->History("Observation", "o1", 10, 0);
  RK_ASSERT_OK(hist);
  EXPECT_TRUE(hist->empty());
  SearchQuery q;
  q.type = "Observation";
  q.criteria.push_back({"code", MatchOp::kEq, false, "", {"x"}});
  auto found = rtx->Search(q);
  RK_ASSERT_OK(found);
  ASSERT_EQ(found->rows.size(), 1u);
  EXPECT_EQ(found->rows[0].id, "o2");
  rtx.reset();

  // The id is free again and starts at version 1.
  auto wtx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(wtx);
  auto again = wtx->WriteResource(MakeRow("Observation", "o1", "p9"), {}, 0);
  RK_ASSERT_OK(again);
  EXPECT_EQ(*again, 1);
  RK_ASSERT_OK(wtx->Commit());
}

TEST_P(StoreResourceTest, DestroyingWithoutCommitRollsBackEverything) {
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", "p1", "p1"), {{"name", "", "x"}}, 0));
    RK_ASSERT_OK(tx->PutSetting("k", "v"));
    RK_ASSERT_OK(tx->UseNonce("s", "n", At(10)));
    AuditRow a;
    a.seq = 1;
    a.hash = "h1";
    RK_ASSERT_OK(tx->AppendAudit({a}));
  }
  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Patient", "p1");
  RK_ASSERT_OK(cur);
  EXPECT_FALSE(cur->has_value());
  auto setting = rtx->GetSetting("k");
  RK_ASSERT_OK(setting);
  EXPECT_FALSE(setting->has_value());
  auto tail = rtx->AuditTail();
  RK_ASSERT_OK(tail);
  EXPECT_FALSE(tail->has_value());
  rtx.reset();
  auto wtx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(wtx);
  auto fresh = wtx->UseNonce("s", "n", At(10));
  RK_ASSERT_OK(fresh);
  EXPECT_TRUE(*fresh);
}

TEST_P(StoreResourceTest, ReadTransactionRefusesWrites) {
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto w = tx->WriteResource(MakeRow("Patient", "p1", "p1"), {}, 0);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), ErrorCode::kInternal);
}

TEST_P(StoreResourceTest, FinishedTransactionRefusesFurtherWork) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->Commit());
  auto r = tx->ReadCurrent("Patient", "p1");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(tx->Commit().ok());
}

TEST_P(StoreResourceTest, JapaneseTextIsStoredByteForByte) {
  // DESIGN.md §3.7: rare kanji and ideographic variation sequences survive unchanged.
  const std::string json = "{\"name\":\"髙橋 𠮷野 葛\xF3\xA0\x84\x81 はなこ\"}";
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->WriteResource(MakeRow("Patient", "jp", "jp", At(5), json), {}, 0));
  RK_ASSERT_OK(tx->Commit());
  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto cur = rtx->ReadCurrent("Patient", "jp");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->json, json);
}

}  // namespace
}  // namespace renkei::store
