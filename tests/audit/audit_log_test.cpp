// The audit chain on both engines: group commit from many threads interleaved with
// transactional appends, rollback, and tampering with the database behind renkei's back.
#include "audit/audit_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "audit/chain_head.h"
#include "audit_test_util.h"
#include "core/response_gate.h"
#include "raw_db.h"

namespace renkei::audit {
namespace {

class AuditLogTest : public renkei::testing::EngineStoreTest {
 protected:
  std::unique_ptr<renkei::testing::RawDb> Raw() {
    return renkei::testing::RawDb::Open(GetParam(), opened_.db->url());
  }

  std::vector<store::AuditRow> All() {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        store(), store::TxMode::kRead,
        [](store::Transaction& tx) { return tx.ScanAudit(1, 1'000'000); });
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<store::AuditRow>{};
  }

  // The entries about one patient, read in a fresh transaction (another connection).
  Result<std::vector<store::AuditRow>> OfPatient(const std::string& patient_id) {
    store::AuditFilter f;
    f.patient_id = patient_id;
    return store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        store(), store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
  }

  VerifyReport MustVerify() {
    auto r = Verify(store());
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  // A chain of n entries written by Record, one entry per call.
  void BuildChain(int n) {
    AuditLog log(store(), clock_);
    for (int i = 0; i < n; ++i) {
      Status s = log.Record(renkei::testing::TestEntry("p" + std::to_string(i)));
      ASSERT_TRUE(s.ok()) << s.error().ToString();
    }
    ASSERT_TRUE(MustVerify().ok);
  }

  SystemClock clock_;
};

TEST_P(AuditLogTest, EmptyLogVerifies) {
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.entries, 0);
}

TEST_P(AuditLogTest, ConcurrentRecordsAndTransactionalAppendsFormOneChain) {
  constexpr int kRecordThreads = 6;
  constexpr int kRecordsEach = 150;
  constexpr int kTxThreads = 2;
  constexpr int kTxEach = 40;
  AuditLog log(store(), clock_, 64);
  std::atomic<int> failures{0};
  std::atomic<int> written{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kRecordThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRecordsEach; ++i) {
        std::vector<AuditEntry> entries;
        const int n = i % 5 == 0 ? 2 : 1;  // some callers record several entries at once
        for (int k = 0; k < n; ++k) {
          entries.push_back(renkei::testing::TestEntry(fmt::format("r{}-{}-{}", t, i, k)));
        }
        if (!log.Record(std::move(entries)).ok()) failures++;
        written += n;
      }
    });
  }
  for (int t = 0; t < kTxThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTxEach; ++i) {
        std::vector<AuditEntry> entries;
        for (int k = 0; k < 3; ++k) {
          entries.push_back(renkei::testing::TestEntry(fmt::format("w{}-{}-{}", t, i, k)));
        }
        // Many attempts: on PostgreSQL these writers race the group commit for the chain
        // head's row lock and lose under REPEATABLE READ (40001) as often as the load is high.
        Status s = store::RunInTransaction(
            store(), store::TxMode::kWrite,
            [&](store::Transaction& tx) { return log.AppendInTransaction(tx, entries); }, 64);
        if (!s.ok()) {
          ADD_FAILURE() << s.error().ToString();
          failures++;
        }
        written += 3;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem << " at " << r.first_bad_seq;
  EXPECT_EQ(r.entries, written.load());
  std::vector<store::AuditRow> rows = All();
  ASSERT_EQ(static_cast<int>(rows.size()), written.load());
  std::set<std::string> tags;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<int64_t>(i + 1));
    tags.insert(rows[i].practitioner_id);
  }
  EXPECT_EQ(static_cast<int>(tags.size()), written.load()) << "an entry was lost or doubled";
}

TEST_P(AuditLogTest, TwoServersOnOneDatabaseShareOneChain) {
  // A second Store on the same database stands for a second server process.
  auto second = store::Open(opened_.db->url(), 4);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  {
    AuditLog a(store(), clock_, 16);
    AuditLog b(**second, clock_, 16);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        AuditLog& log = t % 2 == 0 ? a : b;
        for (int i = 0; i < 60; ++i) {
          Status s = log.Record(renkei::testing::TestEntry(fmt::format("s{}-{}", t, i)));
          if (!s.ok()) ADD_FAILURE() << s.error().ToString();
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  second->reset();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem << " at " << r.first_bad_seq;
  EXPECT_EQ(r.entries, 240);
}

TEST_P(AuditLogTest, RecordReturnsOnlyWhenCommitted) {
  AuditLog log(store(), clock_);
  ASSERT_TRUE(log.Record(renkei::testing::TestEntry("x", "pat-visible")).ok());
  // A fresh transaction (another connection) sees the entry as soon as Record returned.
  auto rows = OfPatient("pat-visible");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].practitioner_id, "x");
  EXPECT_EQ((*rows)[0].hash, ChainHash((*rows)[0]));
}

TEST_P(AuditLogTest, BatchesLargerThanMaxBatchStayWholeAndChained) {
  AuditLog log(store(), clock_, 3);
  std::vector<AuditEntry> big;
  for (int i = 0; i < 10; ++i) big.push_back(renkei::testing::TestEntry("big" + std::to_string(i)));
  ASSERT_TRUE(log.Record(std::move(big)).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!log.Record(renkei::testing::TestEntry(fmt::format("m{}-{}", t, i))).ok()) {
          ADD_FAILURE() << "record failed";
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 110);
  std::vector<store::AuditRow> rows = All();
  ASSERT_GE(rows.size(), 10u);
  // The ten entries of one call are consecutive.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(rows[i].practitioner_id, "big" + std::to_string(i));
}

TEST_P(AuditLogTest, RolledBackAppendLeavesNoEntry) {
  AuditLog log(store(), clock_);
  ASSERT_TRUE(log.Record(renkei::testing::TestEntry("kept-1")).ok());
  // The caller's transaction fails after appending: the entry goes with it.
  Status failed = store::RunInTransaction(
      store(), store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_TRY(log.AppendInTransaction(tx, {renkei::testing::TestEntry("gone-1")}));
        return Error(ErrorCode::kConflict, "data write failed");
      });
  EXPECT_FALSE(failed.ok());
  // A transaction dropped without Commit() rolls back too.
  {
    auto tx = store().Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(log.AppendInTransaction(**tx, {renkei::testing::TestEntry("gone-2")}).ok());
  }
  ASSERT_TRUE(log.Record(renkei::testing::TestEntry("kept-2")).ok());
  std::vector<store::AuditRow> rows = All();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].practitioner_id, "kept-1");
  EXPECT_EQ(rows[1].practitioner_id, "kept-2");
  EXPECT_EQ(rows[1].seq, 2);
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 2);
}

TEST_P(AuditLogTest, ModifiedFieldIsDetected) {
  BuildChain(20);
  Raw()->Exec("UPDATE audit_log SET facility_code = '9999999999' WHERE seq = 10");
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10);
  EXPECT_NE(r.problem.find("modified"), std::string::npos) << r.problem;
  EXPECT_EQ(r.entries, 9);
}

TEST_P(AuditLogTest, ModifiedAndRehashedEntryBreaksTheNextLink) {
  BuildChain(20);
  std::vector<store::AuditRow> rows = All();
  store::AuditRow forged = rows[9];
  forged.patient_id = "someone-else";
  const std::string hash = ChainHash(forged);
  Raw()->Exec(fmt::format(
      "UPDATE audit_log SET patient_id = 'someone-else', hash = '{}' WHERE seq = 10", hash));
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 11);
  EXPECT_NE(r.problem.find("link"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, DeletedMiddleEntryIsDetected) {
  BuildChain(20);
  Raw()->Exec("DELETE FROM audit_log WHERE seq = 10");
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10);
  EXPECT_NE(r.problem.find("missing"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, SwappedEntriesAreDetected) {
  BuildChain(20);
  auto raw = Raw();
  // Exchange the contents of entries 10 and 11 by exchanging their numbers.
  raw->Exec("UPDATE audit_log SET seq = -1 WHERE seq = 10");
  raw->Exec("UPDATE audit_log SET seq = 10 WHERE seq = 11");
  raw->Exec("UPDATE audit_log SET seq = 11 WHERE seq = -1");
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10);
}

TEST_P(AuditLogTest, DeletedLastEntryIsDetectedByTheRecordedHead) {
  // A hash chain alone cannot show that its newest entries were cut off: entries 1..19 are a
  // valid chain by themselves. The head recorded with every append (chain_head.h) catches it.
  BuildChain(20);
  Raw()->Exec("DELETE FROM audit_log WHERE seq = 20");
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 20);
  EXPECT_NE(r.problem.find("truncated"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, RecordReportsAFailedCommit) {
  BuildChain(3);
  // Without the store's chain-head row nothing can be appended; the callers hear it and
  // must not release their data.
  Raw()->Exec("DELETE FROM audit_head");
  AuditLog log(store(), clock_);
  Status s = log.Record(renkei::testing::TestEntry("after"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(All().size(), 3u);
}

// Inside a server handler (an open response gate) Record does not wait: the gate settles
// only once the entry is committed, and a failed commit reaches the gate, not the caller.
Status SettledStatus(ResponseGate& gate) {
  std::promise<Status> settled;
  gate.OnSettled([&](Status s) { settled.set_value(std::move(s)); });
  return settled.get_future().get();
}

TEST_P(AuditLogTest, UnderAResponseGateTheGateSettlesOnlyWhenCommitted) {
  AuditLog log(store(), clock_);
  auto gate = ResponseGate::Make();
  {
    ResponseGate::Scope scope(gate);
    ASSERT_TRUE(log.Record(renkei::testing::TestEntry("x", "pat-gated")).ok());
    ASSERT_TRUE(log.Record(renkei::testing::TestEntry("y", "pat-gated")).ok());
  }
  ASSERT_TRUE(SettledStatus(*gate).ok());
  auto rows = OfPatient("pat-gated");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  EXPECT_TRUE(MustVerify().ok);
}

TEST_P(AuditLogTest, UnderAResponseGateAFailedCommitReachesTheGate) {
  BuildChain(2);
  Raw()->Exec("DELETE FROM audit_head");
  AuditLog log(store(), clock_);
  auto gate = ResponseGate::Make();
  {
    ResponseGate::Scope scope(gate);
    // The caller cannot know yet; the gate withholds the response.
    EXPECT_TRUE(log.Record(renkei::testing::TestEntry("after")).ok());
  }
  EXPECT_FALSE(SettledStatus(*gate).ok());
  EXPECT_EQ(All().size(), 2u);
}

TEST_P(AuditLogTest, WithoutAGateRecordStillWaits) {
  AuditLog log(store(), clock_);
  auto gate = ResponseGate::Make();
  { ResponseGate::Scope scope(gate); }  // closed again: later calls are not held
  ASSERT_TRUE(log.Record(renkei::testing::TestEntry("z", "pat-after-scope")).ok());
  auto rows = OfPatient("pat-after-scope");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

TEST_P(AuditLogTest, RemovedHeadIsDetected) {
  BuildChain(5);
  Raw()->Exec(fmt::format("DELETE FROM settings WHERE key = '{}'", kChainHeadSetting));
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("head"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, AppendAfterTamperingKeepsReportingTheFirstBadEntry) {
  BuildChain(10);
  Raw()->Exec("UPDATE audit_log SET action = 'none' WHERE seq = 4");
  {
    AuditLog log(store(), clock_);
    ASSERT_TRUE(log.Record(renkei::testing::TestEntry("later")).ok());
  }
  VerifyReport r = MustVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 4);
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditLogTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         renkei::testing::EngineParamName);

}  // namespace
}  // namespace renkei::audit
