// The patient index written behind the audit log, on both engines: passes sorted by patient
// in chunks, the mark moving with the last chunk, a repeated pass harmless, and the thread
// catching up by itself; searches by patient complete at every moment.
#include "audit/patient_index.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "audit_test_util.h"
#include "raw_db.h"

namespace renkei::audit {
namespace {

class PatientIndexTest : public renkei::testing::EngineStoreTest {
 protected:
  // Entries for patients pat-0..pat-(patients-1) in turn; every fifth is about no patient.
  void Append(int n, int patients) {
    AuditLog log(store(), clock_);
    std::vector<AuditEntry> entries;
    for (int i = 0; i < n; ++i) {
      const int k = appended_++;
      entries.push_back(renkei::testing::TestEntry(
          "e" + std::to_string(k), k % 5 == 4 ? "" : "pat-" + std::to_string(k % patients)));
    }
    Status s = log.Record(std::move(entries));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  int64_t Mark() {
    auto m = store::RunInTransactionWithResult<int64_t>(
        store(), store::TxMode::kRead,
        [](store::Transaction& tx) { return tx.AuditPatientMark(); });
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : -1;
  }

  std::vector<int64_t> Of(const std::string& patient) {
    store::AuditFilter f;
    f.patient_id = patient;
    f.count = 1000;
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        store(), store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    std::vector<int64_t> out;
    if (rows.ok()) {
      for (const auto& r : *rows) out.push_back(r.seq);
    }
    return out;
  }

  // What a search by patient must answer: every entry about them, newest first.
  std::vector<int64_t> Expected(int patient, int patients) {
    std::vector<int64_t> out;
    for (int k = appended_ - 1; k >= 0; --k) {
      if (k % 5 != 4 && k % patients == patient) out.push_back(k + 1);
    }
    return out;
  }

  int64_t IndexRows() {
    auto raw = renkei::testing::RawDb::Open(GetParam(), opened_.db->url());
    return std::stoll(raw->QueryOne("SELECT COUNT(*) FROM audit_patient"));
  }

  SystemClock clock_;
  int appended_ = 0;
};

TEST_P(PatientIndexTest, PassesMoveTheMarkInBatchesAndIndexEveryPatientEntryOnce) {
  Append(50, 3);
  EXPECT_EQ(Mark(), 0);
  EXPECT_EQ(Of("pat-1"), Expected(1, 3));
  // Batches of 20 in chunks of 6: three passes, then nothing left.
  auto moved = IndexPatientAccesses(store(), 20, 6);
  ASSERT_TRUE(moved.ok()) << moved.error().ToString();
  EXPECT_EQ(*moved, 20u);
  EXPECT_EQ(Mark(), 20);
  EXPECT_EQ(IndexRows(), 16);              // 4 of the 20 are about no patient
  EXPECT_EQ(Of("pat-1"), Expected(1, 3));  // part indexed, part in the log
  ASSERT_EQ(*IndexPatientAccesses(store(), 20, 6), 20u);
  ASSERT_EQ(*IndexPatientAccesses(store(), 20, 6), 10u);
  ASSERT_EQ(*IndexPatientAccesses(store(), 20, 6), 0u);
  EXPECT_EQ(Mark(), 50);
  EXPECT_EQ(IndexRows(), 40);
  for (int p = 0; p < 3; ++p) EXPECT_EQ(Of("pat-" + std::to_string(p)), Expected(p, 3));
}

TEST_P(PatientIndexTest, APassRepeatedAfterACrashKeepsWhatIsThere) {
  Append(30, 4);
  ASSERT_TRUE(IndexPatientAccesses(store(), 30, 7).ok());
  // As if the mark had not been saved: the same entries again.
  auto raw = renkei::testing::RawDb::Open(GetParam(), opened_.db->url());
  raw->Exec("UPDATE audit_patient_mark SET seq = 0 WHERE id = 1");
  EXPECT_EQ(Mark(), 0);
  auto again = IndexPatientAccesses(store(), 30, 7);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, 30u);
  EXPECT_EQ(IndexRows(), 24);
  for (int p = 0; p < 4; ++p) EXPECT_EQ(Of("pat-" + std::to_string(p)), Expected(p, 4));
}

TEST_P(PatientIndexTest, RefusesEmptyBatchOrChunk) {
  EXPECT_EQ(IndexPatientAccesses(store(), 0, 5).error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(IndexPatientAccesses(store(), 5, 0).error().code(), ErrorCode::kInvalid);
}

TEST_P(PatientIndexTest, IndexAllCatchesUp) {
  Append(120, 7);
  ASSERT_TRUE(IndexAllPatientAccesses(store()).ok());
  EXPECT_EQ(Mark(), 120);
  EXPECT_EQ(IndexRows(), 96);
}

TEST_P(PatientIndexTest, TheThreadIndexesABacklogAndAQuietTrickle) {
  PatientIndexOptions o;
  o.batch = 25;
  o.chunk = 10;
  o.min_lag = 40;
  o.max_delay = std::chrono::milliseconds(200);
  o.tick = std::chrono::milliseconds(20);
  auto wait_for_mark = [&](int64_t want) {
    for (int i = 0; i < 500 && Mark() != want; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Mark();
  };
  Append(100, 5);  // a backlog over min_lag: worked off pass by pass
  PatientIndexer indexer(store(), o);
  indexer.Start();
  EXPECT_EQ(wait_for_mark(100), 100);
  Append(3, 5);  // under min_lag: indexed once it has waited max_delay
  EXPECT_EQ(wait_for_mark(103), 103);
  indexer.Stop();
  for (int p = 0; p < 5; ++p) EXPECT_EQ(Of("pat-" + std::to_string(p)), Expected(p, 5));
}

INSTANTIATE_TEST_SUITE_P(Engines, PatientIndexTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         renkei::testing::EngineParamName);

}  // namespace
}  // namespace renkei::audit
