// Conformance: idempotency records, keys, nonces, settings and the audit log.
#include "store_suite.h"

namespace renkei::store {
namespace {

using StoreRecordsTest = StoreTest;
RENKEI_INSTANTIATE_STORE_SUITE(StoreRecordsTest);

AuditRow Audit(int64_t seq, std::string patient, std::string facility, std::string purpose,
               int64_t at) {
  AuditRow a;
  a.seq = seq;
  a.recorded = At(at);
  a.facility_code = std::move(facility);
  a.practitioner_id = "dr1";
  a.qualification = "physician";
  a.patient_id = std::move(patient);
  a.action = "read";
  a.category = "Observation";
  a.purpose = std::move(purpose);
  a.outcome = "success";
  a.detail = R"({"n":1})";
  a.prev_hash = seq == 1 ? "" : "h" + std::to_string(seq - 1);
  a.hash = "h" + std::to_string(seq);
  return a;
}

TEST_P(StoreRecordsTest, IdempotencyRecordsOnceAndConflictsAfter) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto none = tx->GetIdempotent("create", "req-1");
  RK_ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  RK_ASSERT_OK(tx->PutIdempotent("create", "req-1", "Patient/a/_history/1", At(1)));
  auto dup = tx->PutIdempotent("create", "req-1", "Patient/b/_history/1", At(2));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), ErrorCode::kConflict);
  // Same key in another scope is independent; the transaction stays usable after the conflict.
  RK_ASSERT_OK(tx->PutIdempotent("update", "req-1", "x", At(3)));
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto got = rtx->GetIdempotent("create", "req-1");
  RK_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, "Patient/a/_history/1");
  auto other = rtx->GetIdempotent("update", "req-1");
  RK_ASSERT_OK(other);
  EXPECT_EQ(other->value_or(""), "x");
}

TEST_P(StoreRecordsTest, KeysUpsertAndListPerOwner) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  KeyRecord k1{"practitioner", "dr1", "k1", "ES384", R"({"kty":"EC"})", At(10), false};
  KeyRecord k2{"practitioner", "dr1", "k2", "RS384", R"({"kty":"RSA"})", At(20), false};
  KeyRecord other{"patient", "dr1", "k1", "ES256", R"({"kty":"EC","crv":"P-256"})", At(5), false};
  RK_ASSERT_OK(tx->PutKey(k1));
  RK_ASSERT_OK(tx->PutKey(k2));
  RK_ASSERT_OK(tx->PutKey(other));
  k1.revoked = true;
  RK_ASSERT_OK(tx->PutKey(k1));  // upsert: revoke
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto keys = rtx->GetKeys("practitioner", "dr1");
  RK_ASSERT_OK(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "k1");
  EXPECT_TRUE((*keys)[0].revoked);
  EXPECT_EQ((*keys)[0].alg, "ES384");
  EXPECT_EQ((*keys)[0].created, At(10));
  EXPECT_EQ((*keys)[1].kid, "k2");
  EXPECT_FALSE((*keys)[1].revoked);
  EXPECT_EQ((*keys)[1].public_jwk, R"({"kty":"RSA"})");
  auto patient_keys = rtx->GetKeys("patient", "dr1");
  RK_ASSERT_OK(patient_keys);
  ASSERT_EQ(patient_keys->size(), 1u);
  EXPECT_EQ((*patient_keys)[0].alg, "ES256");
  auto none = rtx->GetKeys("client", "nobody");
  RK_ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreRecordsTest, IdempotencyOutcomesAreForgottenByAge) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  RK_ASSERT_OK(tx->PutIdempotent("fhir-create", "old", "first", At(100)));
  RK_ASSERT_OK(tx->PutIdempotent("fhir-create", "new", "second", At(200)));
  RK_ASSERT_OK(tx->Commit());

  auto tx2 = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx2);
  RK_ASSERT_OK(tx2->PurgeIdempotency(At(100)));  // strictly before: nothing yet
  auto kept = tx2->GetIdempotent("fhir-create", "old");
  RK_ASSERT_OK(kept);
  EXPECT_EQ(kept->value_or(""), "first");
  RK_ASSERT_OK(tx2->PurgeIdempotency(At(150)));
  auto gone = tx2->GetIdempotent("fhir-create", "old");
  RK_ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  auto young = tx2->GetIdempotent("fhir-create", "new");
  RK_ASSERT_OK(young);
  EXPECT_EQ(young->value_or(""), "second");
  // The key is free again.
  RK_ASSERT_OK(tx2->PutIdempotent("fhir-create", "old", "third", At(300)));
  RK_ASSERT_OK(tx2->Commit());
}

TEST_P(StoreRecordsTest, NonceReplayIsRefusedUntilPurged) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto first = tx->UseNonce("consent", "n1", At(100));
  RK_ASSERT_OK(first);
  EXPECT_TRUE(*first);
  auto replay = tx->UseNonce("consent", "n1", At(100));
  RK_ASSERT_OK(replay);
  EXPECT_FALSE(*replay);
  auto other_scope = tx->UseNonce("login", "n1", At(300));
  RK_ASSERT_OK(other_scope);
  EXPECT_TRUE(*other_scope);
  RK_ASSERT_OK(tx->Commit());

  auto tx2 = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx2);
  auto still = tx2->UseNonce("consent", "n1", At(100));
  RK_ASSERT_OK(still);
  EXPECT_FALSE(*still);
  RK_ASSERT_OK(tx2->PurgeNonces(At(99)));  // not yet expired: kept
  auto kept = tx2->UseNonce("consent", "n1", At(100));
  RK_ASSERT_OK(kept);
  EXPECT_FALSE(*kept);
  RK_ASSERT_OK(tx2->PurgeNonces(At(200)));  // expired: freed; the later one stays
  auto freed = tx2->UseNonce("consent", "n1", At(400));
  RK_ASSERT_OK(freed);
  EXPECT_TRUE(*freed);
  auto login = tx2->UseNonce("login", "n1", At(300));
  RK_ASSERT_OK(login);
  EXPECT_FALSE(*login);
  RK_ASSERT_OK(tx2->Commit());
}

TEST_P(StoreRecordsTest, SettingsUpsert) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto none = tx->GetSetting("secret");
  RK_ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  RK_ASSERT_OK(tx->PutSetting("secret", "a"));
  RK_ASSERT_OK(tx->PutSetting("secret", "b"));
  RK_ASSERT_OK(tx->PutSetting("empty", ""));
  RK_ASSERT_OK(tx->Commit());
  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto v = rtx->GetSetting("secret");
  RK_ASSERT_OK(v);
  EXPECT_EQ(v->value_or(""), "b");
  auto e = rtx->GetSetting("empty");
  RK_ASSERT_OK(e);
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ(**e, "");
}

TEST_P(StoreRecordsTest, AuditAppendChecksSequenceAndKeepsEveryField) {
  auto tx = BeginOrDie(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto empty = tx->AuditTail();
  RK_ASSERT_OK(empty);
  EXPECT_FALSE(empty->has_value());
  auto wrong_start = tx->AppendAudit({Audit(2, "p", "f", "TREAT", 1)});
  ASSERT_FALSE(wrong_start.ok());
  EXPECT_EQ(wrong_start.error().code(), ErrorCode::kConflict);
  RK_ASSERT_OK(tx->AppendAudit(
      {Audit(1, "p1", "1310000001", "TREAT", 100), Audit(2, "p2", "1310000001", "ETREAT", 200)}));
  auto gap = tx->AppendAudit({Audit(4, "p", "f", "TREAT", 1)});
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().code(), ErrorCode::kConflict);
  auto unordered =
      tx->AppendAudit({Audit(3, "p", "f", "TREAT", 1), Audit(5, "p", "f", "TREAT", 1)});
  ASSERT_FALSE(unordered.ok());
  EXPECT_EQ(unordered.error().code(), ErrorCode::kConflict);
  RK_ASSERT_OK(tx->AppendAudit({}));
  RK_ASSERT_OK(tx->Commit());

  auto rtx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(rtx);
  auto tail = rtx->AuditTail();
  RK_ASSERT_OK(tail);
  ASSERT_TRUE(tail->has_value());
  EXPECT_EQ((*tail)->seq, 2);
  EXPECT_EQ((*tail)->hash, "h2");
  EXPECT_EQ((*tail)->prev_hash, "h1");
  auto all = rtx->ScanAudit(1, 100);
  RK_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  const AuditRow expected = Audit(2, "p2", "1310000001", "ETREAT", 200);
  const AuditRow& got = (*all)[1];
  EXPECT_EQ(got.seq, expected.seq);
  EXPECT_EQ(got.recorded, expected.recorded);
  EXPECT_EQ(got.facility_code, expected.facility_code);
  EXPECT_EQ(got.practitioner_id, expected.practitioner_id);
  EXPECT_EQ(got.qualification, expected.qualification);
  EXPECT_EQ(got.patient_id, expected.patient_id);
  EXPECT_EQ(got.action, expected.action);
  EXPECT_EQ(got.category, expected.category);
  EXPECT_EQ(got.purpose, expected.purpose);
  EXPECT_EQ(got.outcome, expected.outcome);
  EXPECT_EQ(got.detail, expected.detail);
  EXPECT_EQ(got.prev_hash, expected.prev_hash);
  EXPECT_EQ(got.hash, expected.hash);
}

TEST_P(StoreRecordsTest, AuditScanAndFind) {
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    std::vector<AuditRow> rows;
    // 20 entries: patients p0..p3 in turn, two facilities, purposes alternate, 10 s apart.
    for (int64_t s = 1; s <= 20; ++s) {
      rows.push_back(Audit(s, "p" + std::to_string(s % 4), s % 2 ? "fac-odd" : "fac-even",
                           s % 5 == 0 ? "ETREAT" : "TREAT", 1000 + s * 10));
    }
    RK_ASSERT_OK(tx->AppendAudit(rows));
    RK_ASSERT_OK(tx->AppendAudit({Audit(21, "", "fac-odd", "HOPERAT", 2000)}));
    RK_ASSERT_OK(tx->Commit());
  }
  auto tx = BeginOrDie(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto scan = tx->ScanAudit(5, 3);
  RK_ASSERT_OK(scan);
  ASSERT_EQ(scan->size(), 3u);
  EXPECT_EQ((*scan)[0].seq, 5);
  EXPECT_EQ((*scan)[2].seq, 7);
  auto scan_end = tx->ScanAudit(20, 100);
  RK_ASSERT_OK(scan_end);
  EXPECT_EQ(scan_end->size(), 2u);

  auto seqs = [&](const AuditFilter& f) {
    std::vector<int64_t> out;
    auto found = tx->FindAudit(f);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().ToString());
    if (found.ok()) {
      for (const auto& r : *found) out.push_back(r.seq);
    }
    return out;
  };
  AuditFilter newest;
  newest.count = 3;
  EXPECT_EQ(seqs(newest), (std::vector<int64_t>{21, 20, 19}));
  AuditFilter by_patient;
  by_patient.patient_id = "p1";
  EXPECT_EQ(seqs(by_patient), (std::vector<int64_t>{17, 13, 9, 5, 1}));
  by_patient.before_seq = 9;
  EXPECT_EQ(seqs(by_patient), (std::vector<int64_t>{5, 1}));
  AuditFilter combined;
  combined.patient_id = "p1";
  combined.facility_code = "fac-odd";
  combined.purpose = "ETREAT";
  EXPECT_EQ(seqs(combined), (std::vector<int64_t>{5}));
  AuditFilter window;
  window.since = At(1050);  // seq 5 recorded at 1050
  window.until = At(1080);  // seq 8 at 1080, inclusive
  EXPECT_EQ(seqs(window), (std::vector<int64_t>{8, 7, 6, 5}));
  window.facility_code = "fac-even";
  EXPECT_EQ(seqs(window), (std::vector<int64_t>{8, 6}));
  AuditFilter nobody;
  nobody.patient_id = "unknown";
  EXPECT_TRUE(seqs(nobody).empty());
}

// The patient index is written behind the log (audit/patient_index.h): a search by patient
// finds every entry whatever part of it is indexed, exactly once, newest first.
TEST_P(StoreRecordsTest, AuditByPatientIsCompleteWhateverTheIndexHasCaughtUpWith) {
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    std::vector<AuditRow> rows;
    for (int64_t s = 1; s <= 12; ++s) {
      rows.push_back(Audit(s, s % 4 == 0 ? "" : "p" + std::to_string(s % 3), "f", "TREAT", s));
    }
    RK_ASSERT_OK(tx->AppendAudit(rows));
    RK_ASSERT_OK(tx->Commit());
  }
  auto of = [&](const std::string& patient, int64_t before = 0) {
    std::vector<int64_t> out;
    auto tx = BeginOrDie(TxMode::kRead);
    EXPECT_TRUE(tx);
    if (!tx) return out;
    AuditFilter f;
    f.patient_id = patient;
    f.before_seq = before;
    auto found = tx->FindAudit(f);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().ToString());
    if (found.ok()) {
      for (const auto& r : *found) out.push_back(r.seq);
    }
    return out;
  };
  const std::vector<int64_t> p1{10, 7, 1};  // 4 is about no patient
  const std::vector<int64_t> p2{11, 5, 2};
  auto mark = [&]() -> int64_t {
    auto tx = BeginOrDie(TxMode::kRead);
    auto m = tx ? tx->AuditPatientMark() : Result<int64_t>(Error(ErrorCode::kInternal, "no tx"));
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : -1;
  };
  // Nothing indexed yet: everything is found in the log after the mark.
  EXPECT_EQ(mark(), 0);
  EXPECT_EQ(of("p1"), p1);
  EXPECT_EQ(of("p2"), p2);

  std::vector<AuditPatientEntry> pending;
  {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto after = tx->AuditPatientsAfter(0, 7);
    RK_ASSERT_OK(after);
    ASSERT_EQ(after->size(), 7u);  // seq 1..7, the one about no patient included
    EXPECT_EQ(after->front().seq, 1);
    EXPECT_EQ(after->back().seq, 7);
    EXPECT_EQ((*after)[3].patient_id, "");
    pending = *after;
  }
  // A pass cut short: some entries indexed, the mark not moved. Found once, not twice.
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    RK_ASSERT_OK(tx->IndexAuditPatients({pending[0], pending[6]}));  // p1's 1 and 7
    RK_ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(of("p1"), p1);
  // The pass again, whole, with the mark: the entries already there are kept.
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    RK_ASSERT_OK(tx->IndexAuditPatients(pending));
    RK_ASSERT_OK(tx->AdvanceAuditPatientMark(7));
    RK_ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(mark(), 7);
  EXPECT_EQ(of("p1"), p1);  // 1 and 7 from the index, 10 from the log
  EXPECT_EQ(of("p2"), p2);
  {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    RK_ASSERT_OK(tx->WarmAuditPatients("p1", "p2"));  // reads, changes nothing
  }
  EXPECT_EQ(of("p1", 10), (std::vector<int64_t>{7, 1}));
  EXPECT_EQ(of("p2", 5), (std::vector<int64_t>{2}));
  // The mark never moves back.
  {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    RK_ASSERT_OK(tx->AdvanceAuditPatientMark(3));
    RK_ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(mark(), 7);
  EXPECT_EQ(of("p2"), p2);
  {
    auto tx = BeginOrDie(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto rest = tx->AuditPatientsAfter(7, 100);
    RK_ASSERT_OK(rest);
    ASSERT_EQ(rest->size(), 5u);
    EXPECT_EQ(rest->front().seq, 8);
  }
}

TEST_P(StoreRecordsTest, AuditTailInAWriteTransactionSeesTheLastCommittedEntry) {
  for (int64_t s = 1; s <= 3; ++s) {
    auto tx = BeginOrDie(TxMode::kWrite);
    ASSERT_TRUE(tx);
    auto tail = tx->AuditTail();
    RK_ASSERT_OK(tail);
    int64_t next = tail->has_value() ? (*tail)->seq + 1 : 1;
    EXPECT_EQ(next, s);
    RK_ASSERT_OK(tx->AppendAudit({Audit(next, "p", "f", "TREAT", s)}));
    RK_ASSERT_OK(tx->Commit());
  }
}

}  // namespace
}  // namespace renkei::store
