// Conformance: concurrent transactions, retries and isolation.
#include <atomic>
#include <iostream>
#include <thread>

#include "store_suite.h"

namespace renkei::store {
namespace {

using StoreConcurrencyTest = StoreTest;
RENKEI_INSTANTIATE_STORE_SUITE(StoreConcurrencyTest);

constexpr int kThreads = 4;

// A counter kept in a resource's json: read, increment, write with expected_version.
Status Increment(Transaction& tx, const std::string& id) {
  RK_ASSIGN_OR_RETURN(auto cur, tx.ReadCurrent("Basic", id));
  int64_t value = cur ? std::stoll(cur->json) : 0;
  int64_t version = cur ? cur->version : 0;
  RK_TRY(tx.WriteResource(MakeRow("Basic", id, "", At(1), std::to_string(value + 1)), {}, version));
  return Ok();
}

TEST_P(StoreConcurrencyTest, ConcurrentIncrementsOfOneRowLoseNothing) {
  constexpr int kPerThread = 15;
  std::atomic<int> failures{0};
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread fights for the same row: PostgreSQL aborts losers with 40001, which the
        // wrapper retries (many attempts: contention here is far above any real load).
        Status s = RunInTransaction(
            *store_, TxMode::kWrite,
            [&](Transaction& tx) {
              ++attempts;
              return Increment(tx, "counter");
            },
            200);
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s.error().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(attempts.load(), kThreads * kPerThread);
  std::cout << "[ info     ] " << attempts.load() << " attempts for " << kThreads * kPerThread
            << " increments\n";
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto cur = tx->ReadCurrent("Basic", "counter");
  RK_ASSERT_OK(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->json, std::to_string(kThreads * kPerThread));
  EXPECT_EQ((*cur)->version, kThreads * kPerThread);
}

TEST_P(StoreConcurrencyTest, ConcurrentWritersOfDifferentRowsAndOneAuditChain) {
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = RunInTransaction(
            *store_, TxMode::kWrite,
            [&](Transaction& tx) -> Status {
              std::string id = "r" + std::to_string(t) + "-" + std::to_string(i);
              RK_TRY(tx.WriteResource(MakeRow("Observation", id, "p" + std::to_string(t)),
                                      {{"code", "", "x"}}, 0));
              // Each write is audited in its own transaction: the chain head serializes them.
              RK_ASSIGN_OR_RETURN(auto tail, tx.AuditTail());
              AuditRow a;
              a.seq = tail ? tail->seq + 1 : 1;
              a.prev_hash = tail ? tail->hash : "";
              a.hash = "h" + std::to_string(a.seq);
              a.patient_id = "p" + std::to_string(t);
              return tx.AppendAudit({a});
            },
            200);
        if (!s.ok()) ADD_FAILURE() << s.error().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  SearchQuery q;
  q.type = "Observation";
  q.count = 1;
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_EQ(page->total, kThreads * kPerThread);
  auto chain = tx->ScanAudit(1, 1000);
  RK_ASSERT_OK(chain);
  ASSERT_EQ(chain->size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < chain->size(); ++i) {
    EXPECT_EQ((*chain)[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ((*chain)[i].prev_hash, i == 0 ? "" : "h" + std::to_string(i));
  }
}

// Transactions that commit concurrently with others that roll back (SQLite groups them into
// one physical commit): exactly the committed ones are stored.
TEST_P(StoreConcurrencyTest, RollbacksAmongConcurrentCommitsUndoOnlyThemselves) {
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool keep = (i + t) % 3 != 0;
        std::string id = "m" + std::to_string(t) + "-" + std::to_string(i);
        Status s = RunInTransaction(
            *store_, TxMode::kWrite,
            [&](Transaction& tx) -> Status {
              RK_TRY(tx.WriteResource(MakeRow("Observation", id, "p"), {{"code", "", id}}, 0));
              RK_TRY(tx.PutSetting(id, "x"));
              if (!keep) return Error(ErrorCode::kBusinessRule, "changed my mind");
              return Ok();
            },
            200);
        if (keep != s.ok()) ADD_FAILURE() << id << ": " << (s.ok() ? "" : s.error().ToString());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  int stored = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      bool keep = (i + t) % 3 != 0;
      std::string id = "m" + std::to_string(t) + "-" + std::to_string(i);
      auto row = tx->ReadCurrent("Observation", id);
      RK_ASSERT_OK(row);
      EXPECT_EQ(row->has_value(), keep) << id;
      auto setting = tx->GetSetting(id);
      RK_ASSERT_OK(setting);
      EXPECT_EQ(setting->has_value(), keep) << id;
      stored += keep ? 1 : 0;
    }
  }
  SearchQuery q;
  q.type = "Observation";
  q.count = 0;
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_EQ(page->total, stored);
}

TEST_P(StoreConcurrencyTest, ReaderSeesOnlyCommittedDataAndKeepsItsSnapshot) {
  auto early = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(early);
  auto before = early->ReadCurrent("Patient", "p1");  // fixes the early reader's snapshot
  RK_ASSERT_OK(before);
  EXPECT_FALSE(before->has_value());

  auto writer = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(writer);
  RK_ASSERT_OK(writer->WriteResource(MakeRow("Patient", "p1", "p1"), {}, 0));
  {
    auto during = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(during);
    auto seen = during->ReadCurrent("Patient", "p1");
    RK_ASSERT_OK(seen);
    EXPECT_FALSE(seen->has_value()) << "uncommitted write visible";
  }
  RK_ASSERT_OK(writer->Commit());

  auto after = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(after);
  auto seen = after->ReadCurrent("Patient", "p1");
  RK_ASSERT_OK(seen);
  EXPECT_TRUE(seen->has_value());
  auto still = early->ReadCurrent("Patient", "p1");
  RK_ASSERT_OK(still);
  EXPECT_FALSE(still->has_value()) << "a read transaction's snapshot moved";
}

TEST_P(StoreConcurrencyTest, WritersSerializeOrRunConcurrentlyAsCapabilitiesSay) {
  auto first = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(first);
  RK_ASSERT_OK(first->WriteResource(MakeRow("Patient", "a", "a"), {}, 0));
  if (store_->capabilities().concurrent_writers) {
    // PostgreSQL: a second writer proceeds while the first is open.
    auto second = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(second);
    RK_ASSERT_OK(second->WriteResource(MakeRow("Patient", "b", "b"), {}, 0));
    RK_ASSERT_OK(second->Commit());
    RK_ASSERT_OK(first->Commit());
  } else {
    // SQLite: one writer; a second write transaction begins only after the first ends.
    std::atomic<bool> committed{false};
    std::atomic<bool> began_after_commit{false};
    std::thread other([&] {
      auto second = store_->Begin(TxMode::kWrite);
      began_after_commit = committed.load();
      if (second.ok()) {
        EXPECT_TRUE((*second)->WriteResource(MakeRow("Patient", "b", "b"), {}, 0).ok());
        EXPECT_TRUE((*second)->Commit().ok());
      } else {
        ADD_FAILURE() << second.error().ToString();
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    committed = true;
    RK_EXPECT_OK(first->Commit());
    other.join();
    EXPECT_TRUE(began_after_commit.load());
  }
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  SearchQuery q;
  q.type = "Patient";
  auto page = tx->Search(q);
  RK_ASSERT_OK(page);
  EXPECT_EQ(page->total, 2);
}

TEST_P(StoreConcurrencyTest, LostUpdateRaceIsRetryableOnConcurrentEngines) {
  if (!store_->capabilities().concurrent_writers) {
    // One writer at a time: the race cannot happen; the single-writer test above covers it.
    EXPECT_EQ(store_->capabilities().engine, "sqlite");
    return;
  }
  RK_ASSERT_OK(RunInTransaction(*store_, TxMode::kWrite,
                                [](Transaction& tx) { return Increment(tx, "c"); }));
  auto a = BeginOrDie(TxMode::kWrite);
  auto b = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(a && b);
  auto ra = a->ReadCurrent("Basic", "c");
  auto rb = b->ReadCurrent("Basic", "c");  // both snapshots see version 1
  RK_ASSERT_OK(ra);
  RK_ASSERT_OK(rb);
  RK_ASSERT_OK(a->WriteResource(MakeRow("Basic", "c", "", At(1), "2"), {}, 1));
  RK_ASSERT_OK(a->Commit());
  auto lost = b->WriteResource(MakeRow("Basic", "c", "", At(1), "2"), {}, 1);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code(), ErrorCode::kRetryable) << lost.error().ToString();
  // The failed transaction cannot be committed by ignoring the error.
  auto commit = b->Commit();
  ASSERT_FALSE(commit.ok());
}

TEST_P(StoreConcurrencyTest, ConcurrentCreateOfTheSameIdIsRetryableOnConcurrentEngines) {
  if (!store_->capabilities().concurrent_writers) {
    EXPECT_EQ(store_->capabilities().engine, "sqlite");
    return;
  }
  auto a = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(a);
  RK_ASSERT_OK(a->WriteResource(MakeRow("Patient", "same", "same"), {}, std::nullopt));
  std::optional<Error> b_error;
  std::thread other([&] {
    auto b = store_->Begin(TxMode::kWrite);
    ASSERT_TRUE(b.ok());
    // Blocks on the unique key until a commits, then fails.
    auto r = (*b)->WriteResource(MakeRow("Patient", "same", "same"), {}, std::nullopt);
    if (!r.ok()) b_error = r.error();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RK_ASSERT_OK(a->Commit());
  other.join();
  ASSERT_TRUE(b_error.has_value());
  EXPECT_EQ(b_error->code(), ErrorCode::kRetryable) << b_error->ToString();
  // Through the wrapper the retry sees the committed row and makes version 2.
  auto v = RunInTransactionWithResult<int64_t>(*store_, TxMode::kWrite, [](Transaction& tx) {
    return tx.WriteResource(MakeRow("Patient", "same", "same"), {}, std::nullopt);
  });
  RK_ASSERT_OK(v);
  EXPECT_EQ(*v, 2);
}

}  // namespace
}  // namespace renkei::store
