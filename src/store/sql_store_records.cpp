// SqlTransaction: idempotency records, keys, nonces, settings and the audit log.
#include <limits>

#include "core/log.h"
#include "store/sql_store.h"

namespace renkei::store::internal {
namespace {

using sql::Param;

constexpr std::string_view kGetIdempotent =
    "SELECT outcome FROM idempotency WHERE scope = $1 AND key = $2";
constexpr std::string_view kPutIdempotent =
    "INSERT INTO idempotency (scope, key, outcome, created) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (scope, key) DO NOTHING";
constexpr std::string_view kPutKey =
    "INSERT INTO keys (owner_kind, owner_id, kid, alg, public_jwk, created, revoked) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (owner_kind, owner_id, kid) DO UPDATE SET "
    "alg = excluded.alg, public_jwk = excluded.public_jwk, created = excluded.created, "
    "revoked = excluded.revoked";
constexpr std::string_view kGetKeys =
    "SELECT owner_kind, owner_id, kid, alg, public_jwk, created, revoked FROM keys "
    "WHERE owner_kind = $1 AND owner_id = $2 ORDER BY created, kid";
constexpr std::string_view kUseNonce =
    "INSERT INTO nonces (scope, nonce, expires) VALUES ($1, $2, $3) "
    "ON CONFLICT (scope, nonce) DO NOTHING";
constexpr std::string_view kPurgeNonces = "DELETE FROM nonces WHERE expires <= $1";
constexpr std::string_view kPurgeIdempotency = "DELETE FROM idempotency WHERE created < $1";
constexpr std::string_view kGetSetting = "SELECT value FROM settings WHERE key = $1";
constexpr std::string_view kPutSetting =
    "INSERT INTO settings (key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

constexpr std::string_view kAuditCols =
    "seq, recorded, facility_code, practitioner_id, qualification, patient_id, action, "
    "category, purpose, outcome, detail, prev_hash, hash";
constexpr std::string_view kAuditHead = "SELECT seq, hash FROM audit_head WHERE id = 1";
// PostgreSQL: the row lock on the head serializes appenders across servers (SQLite's single
// writer already does).
constexpr std::string_view kAuditHeadLocked =
    "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
constexpr std::string_view kAuditBySeq =
    "SELECT seq, recorded, facility_code, practitioner_id, qualification, patient_id, action, "
    "category, purpose, outcome, detail, prev_hash, hash FROM audit_log WHERE seq = $1";
constexpr std::string_view kAuditScan =
    "SELECT seq, recorded, facility_code, practitioner_id, qualification, patient_id, action, "
    "category, purpose, outcome, detail, prev_hash, hash FROM audit_log WHERE seq >= $1 "
    "ORDER BY seq LIMIT $2";
constexpr std::string_view kAuditSetHead = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

constexpr std::string_view kAuditPatientMark = "SELECT seq FROM audit_patient_mark WHERE id = 1";
constexpr std::string_view kAuditPatientsAfter =
    "SELECT patient_id, seq FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";
constexpr std::string_view kWarmAuditPatients =
    "SELECT COUNT(*) FROM audit_patient WHERE patient_id >= $1 AND patient_id <= $2";
constexpr std::string_view kAdvanceAuditPatientMark =
    "UPDATE audit_patient_mark SET seq = $1 WHERE id = 1 AND seq < $1";
// Rows per INSERT of the patient index: one statement per 128 entries keeps a batch of tens of
// thousands to a few hundred statements.
constexpr size_t kIndexChunk = 128;

// "INSERT INTO audit_patient ... VALUES ($1, $2), ..." for n rows.
std::string IndexInsertText(size_t n) {
  return "INSERT INTO audit_patient (patient_id, seq) VALUES " + sql::ValuesRows(n, 2) +
         " ON CONFLICT DO NOTHING";
}

constexpr size_t kAuditChunk = 8;
constexpr size_t kAuditFields = 13;
const std::array<std::string, kAuditChunk + 1>& AuditInsertTexts() {
  static const auto texts = [] {
    std::array<std::string, kAuditChunk + 1> out;
    for (size_t n = 1; n <= kAuditChunk; ++n) {
      std::string s = "INSERT INTO audit_log (";
      s += kAuditCols;
      s += ") VALUES ";
      s += sql::ValuesRows(n, kAuditFields);
      out[n] = std::move(s);
    }
    return out;
  }();
  return texts;
}

AuditRow AuditFrom(const sql::Row& row) {
  AuditRow a;
  a.seq = row.Int(0);
  a.recorded = FromMicros(row.Int(1));
  a.facility_code = row.Text(2);
  a.practitioner_id = row.Text(3);
  a.qualification = row.Text(4);
  a.patient_id = row.Text(5);
  a.action = row.Text(6);
  a.category = row.Text(7);
  a.purpose = row.Text(8);
  a.outcome = row.Text(9);
  a.detail = row.Text(10);
  a.prev_hash = row.Text(11);
  a.hash = row.Text(12);
  return a;
}

}  // namespace

Result<std::optional<std::string>> SqlTransaction::GetIdempotent(std::string_view scope,
                                                                 std::string_view key) {
  std::optional<std::string> out;
  RK_TRY(Query(kGetIdempotent, {scope, key},
               [&](const sql::Row& row) { out = std::string(row.Text(0)); }));
  return out;
}

Status SqlTransaction::PutIdempotent(std::string_view scope, std::string_view key,
                                     std::string_view outcome, TimePoint at) {
  // ON CONFLICT DO NOTHING keeps the transaction usable on a duplicate (a unique violation
  // would abort it on PostgreSQL); a concurrent insert not yet visible to a PostgreSQL
  // snapshot raises a serialization failure instead, which is retried.
  RK_ASSIGN_OR_RETURN(int64_t changed, Exec(kPutIdempotent, {scope, key, outcome, Micros(at)}));
  if (changed == 0) return Error(ErrorCode::kConflict, "idempotency key already used");
  return Ok();
}

Status SqlTransaction::PutKey(const KeyRecord& key) {
  RK_TRY(Exec(kPutKey, {key.owner_kind, key.owner_id, key.kid, key.alg, key.public_jwk,
                        Micros(key.created), key.revoked ? 1 : 0}));
  return Ok();
}

Result<std::vector<KeyRecord>> SqlTransaction::GetKeys(std::string_view owner_kind,
                                                       std::string_view owner_id) {
  std::vector<KeyRecord> out;
  RK_TRY(Query(kGetKeys, {owner_kind, owner_id}, [&](const sql::Row& row) {
    KeyRecord k;
    k.owner_kind = row.Text(0);
    k.owner_id = row.Text(1);
    k.kid = row.Text(2);
    k.alg = row.Text(3);
    k.public_jwk = row.Text(4);
    k.created = FromMicros(row.Int(5));
    k.revoked = row.Int(6) != 0;
    out.push_back(std::move(k));
  }));
  return out;
}

Result<bool> SqlTransaction::UseNonce(std::string_view scope, std::string_view nonce,
                                      TimePoint expires) {
  RK_ASSIGN_OR_RETURN(int64_t changed, Exec(kUseNonce, {scope, nonce, Micros(expires)}));
  return changed == 1;
}

Status SqlTransaction::PurgeNonces(TimePoint now) {
  RK_TRY(Exec(kPurgeNonces, {Micros(now)}));
  return Ok();
}

Status SqlTransaction::PurgeIdempotency(TimePoint created_before) {
  RK_TRY(Exec(kPurgeIdempotency, {Micros(created_before)}));
  return Ok();
}

Result<std::optional<std::string>> SqlTransaction::GetSetting(std::string_view key) {
  std::optional<std::string> out;
  RK_TRY(Query(kGetSetting, {key}, [&](const sql::Row& row) { out = std::string(row.Text(0)); }));
  return out;
}

Status SqlTransaction::PutSetting(std::string_view key, std::string_view value) {
  RK_TRY(Exec(kPutSetting, {key, value}));
  return Ok();
}

Result<std::optional<std::pair<int64_t, std::string>>> SqlTransaction::AuditHead() {
  bool lock = mode_ == TxMode::kWrite && db_.row_locks();
  std::optional<std::pair<int64_t, std::string>> head;
  RK_TRY(Query(lock ? kAuditHeadLocked : kAuditHead, {},
               [&](const sql::Row& row) { head.emplace(row.Int(0), std::string(row.Text(1))); }));
  if (!head) return Poison(Error(ErrorCode::kInternal, "audit head row missing")).error();
  if (head->first == 0) return std::optional<std::pair<int64_t, std::string>>();
  return head;
}

Result<std::optional<AuditRow>> SqlTransaction::AuditTail() {
  RK_ASSIGN_OR_RETURN(auto head, AuditHead());
  if (!head) return std::optional<AuditRow>();
  std::optional<AuditRow> out;
  RK_TRY(Query(kAuditBySeq, {head->first}, [&](const sql::Row& row) { out = AuditFrom(row); }));
  if (!out || out->hash != head->second) {
    // The log's last entry was removed or altered behind the store's back. The chain goes on
    // from the recorded head (seq and hash), so new entries stay linked to the genuine
    // history and audit::Verify reports the damage at that seq; refusing to append would stop
    // every audited read instead.
    log::Error("audit_head_mismatch", {{"seq", static_cast<long long>(head->first)}});
    AuditRow row;
    row.seq = head->first;
    row.hash = head->second;
    return std::optional<AuditRow>(std::move(row));
  }
  return out;
}

Status SqlTransaction::AppendAudit(const std::vector<AuditRow>& rows) {
  RK_TRY(Usable(true));
  if (rows.empty()) return Ok();
  RK_ASSIGN_OR_RETURN(auto head, AuditHead());
  int64_t expected = head ? head->first + 1 : 1;
  for (const AuditRow& r : rows) {
    if (r.seq != expected) {
      return Error(ErrorCode::kConflict, "audit seq " + std::to_string(r.seq) + " is not " +
                                             std::to_string(expected) + " (tail + 1)");
    }
    ++expected;
  }
  const auto& texts = AuditInsertTexts();
  std::vector<Param> params;
  params.reserve(kAuditChunk * kAuditFields);
  std::vector<int64_t> recorded(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) recorded[i] = Micros(rows[i].recorded);
  for (size_t start = 0; start < rows.size(); start += kAuditChunk) {
    size_t n = std::min(kAuditChunk, rows.size() - start);
    params.clear();
    for (size_t i = start; i < start + n; ++i) {
      const AuditRow& r = rows[i];
      params.insert(
          params.end(),
          {Param(r.seq), Param(recorded[i]), Param(r.facility_code), Param(r.practitioner_id),
           Param(r.qualification), Param(r.patient_id), Param(r.action), Param(r.category),
           Param(r.purpose), Param(r.outcome), Param(r.detail), Param(r.prev_hash), Param(r.hash)});
    }
    RK_TRY(Exec(texts[n], params.data(), params.size()));
  }
  RK_TRY(Exec(kAuditSetHead, {rows.back().seq, rows.back().hash}));
  return Ok();
}

Result<std::vector<AuditRow>> SqlTransaction::ScanAudit(int64_t from_seq, size_t limit) {
  std::vector<AuditRow> out;
  RK_TRY(Query(kAuditScan, {from_seq, sql::SqlLimit(limit)},
               [&](const sql::Row& row) { out.push_back(AuditFrom(row)); }));
  return out;
}

Result<std::vector<AuditRow>> SqlTransaction::FindAudit(const AuditFilter& filter) {
  // The text depends only on which filters are present (at most 32 shapes), so the prepared
  // statement cache keeps every shape.
  std::vector<Param> params;
  std::string text = "SELECT ";
  text += kAuditCols;
  text += " FROM audit_log WHERE 1 = 1";
  auto add = [&](std::string_view cond, Param p) {
    params.push_back(p);
    text += " AND ";
    text += cond;
    text += " $" + std::to_string(params.size());
  };
  if (filter.facility_code) add("facility_code =", *filter.facility_code);
  if (filter.purpose) add("purpose =", *filter.purpose);
  if (filter.since) add("recorded >=", Micros(*filter.since));
  if (filter.until) add("recorded <=", Micros(*filter.until));
  // Only the patient and the page position: each branch below can stop at the page size.
  const bool page_of_patient = params.empty();
  if (filter.before_seq > 0) add("seq <", filter.before_seq);
  params.push_back(sql::SqlLimit(filter.count));
  const std::string limit = "$" + std::to_string(params.size());
  if (filter.patient_id) {
    // The patient index up to its mark, the log after it (store.h): an entry is found from its
    // commit on, whether or not the index has caught up with it.
    const std::string before =
        filter.before_seq > 0 ? " AND seq < $" + std::to_string(params.size() - 1) : "";
    add("patient_id =", *filter.patient_id);
    const std::string p = "$" + std::to_string(params.size());
    const std::string newest_first = page_of_patient ? " ORDER BY seq DESC LIMIT " + limit : "";
    text += " AND seq IN (SELECT seq FROM (SELECT seq FROM audit_patient WHERE patient_id = " + p +
            before + newest_first +
            ") AS indexed UNION ALL SELECT seq FROM (SELECT seq FROM audit_log WHERE seq > "
            "(SELECT seq FROM audit_patient_mark WHERE id = 1) AND patient_id = " +
            p + before + newest_first + ") AS recent)";
  }
  text += " ORDER BY seq DESC LIMIT " + limit;
  std::vector<AuditRow> out;
  RK_TRY(Query(text, params, [&](const sql::Row& row) { out.push_back(AuditFrom(row)); }));
  return out;
}

Result<int64_t> SqlTransaction::AuditPatientMark() {
  std::optional<int64_t> mark;
  RK_TRY(Query(kAuditPatientMark, {}, [&](const sql::Row& row) { mark = row.Int(0); }));
  if (!mark) return Error(ErrorCode::kInternal, "audit patient mark row missing");
  return *mark;
}

Result<std::vector<AuditPatientEntry>> SqlTransaction::AuditPatientsAfter(int64_t after_seq,
                                                                          size_t limit) {
  std::vector<AuditPatientEntry> out;
  RK_TRY(Query(kAuditPatientsAfter, {after_seq, sql::SqlLimit(limit)}, [&](const sql::Row& row) {
    out.push_back({std::string(row.Text(0)), row.Int(1)});
  }));
  return out;
}

Status SqlTransaction::IndexAuditPatients(const std::vector<AuditPatientEntry>& entries) {
  static const std::string full_chunk = IndexInsertText(kIndexChunk);
  static const std::string one = IndexInsertText(1);
  std::vector<const AuditPatientEntry*> todo;
  todo.reserve(entries.size());
  for (const AuditPatientEntry& e : entries) {
    if (!e.patient_id.empty()) todo.push_back(&e);
  }
  std::vector<Param> params;
  params.reserve(2 * kIndexChunk);
  size_t i = 0;
  // Full chunks share one prepared text; the rest (under 128) go one by one with another.
  for (; i + kIndexChunk <= todo.size(); i += kIndexChunk) {
    params.clear();
    for (size_t k = i; k < i + kIndexChunk; ++k) {
      params.emplace_back(todo[k]->patient_id);
      params.emplace_back(todo[k]->seq);
    }
    RK_TRY(Exec(full_chunk, params.data(), params.size()));
  }
  for (; i < todo.size(); ++i) {
    RK_TRY(Exec(one, {todo[i]->patient_id, todo[i]->seq}));
  }
  return Ok();
}

Status SqlTransaction::AdvanceAuditPatientMark(int64_t seq) {
  RK_TRY(Exec(kAdvanceAuditPatientMark, {seq}));
  return Ok();
}

Status SqlTransaction::WarmAuditPatients(std::string_view first, std::string_view last) {
  RK_TRY(Query(kWarmAuditPatients, {first, last}, [](const sql::Row&) {}));
  return Ok();
}

}  // namespace renkei::store::internal
