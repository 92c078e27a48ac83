// The portable SQL layer: store::Store and store::Transaction over an sql::Database, so the
// domain SQL is written once for both engines (DESIGN.md §6, STYLE.md habit 3).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "store/sql.h"
#include "store/store.h"

namespace renkei::store {

// A Store over db (which it owns). Does not migrate.
std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<sql::Database> db);

namespace internal {

// Times are stored as int64 microseconds since the epoch on both engines.
inline int64_t Micros(TimePoint t) {
  return t.time_since_epoch().count();
}
inline TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::microseconds(us));
}

// One transaction on a leased connection. The first engine error poisons it: later calls and
// Commit() return that error (PostgreSQL aborts the transaction anyway; SQLite is made to
// behave the same), so a caller cannot commit half of its work by ignoring an error.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(sql::Database& db, sql::Lease lease, TxMode mode);
  ~SqlTransaction() override;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;

  Result<std::optional<ResourceRow>> ReadCurrent(std::string_view type,
                                                 std::string_view id) override;
  Result<std::optional<ResourceRow>> ReadVersion(std::string_view type, std::string_view id,
                                                 int64_t version) override;
  Result<std::vector<ResourceRow>> History(std::string_view type, std::string_view id, size_t count,
                                           int64_t before_version) override;
  Result<int64_t> WriteResource(const ResourceRow& row, const std::vector<IndexTerm>& terms,
                                std::optional<int64_t> expected_version) override;
  Status PurgeResource(std::string_view type, std::string_view id) override;
  Status EraseHistory(std::string_view type, std::string_view id) override;
  Result<SearchPage> Search(const SearchQuery& query) override;

  Result<std::optional<std::string>> GetIdempotent(std::string_view scope,
                                                   std::string_view key) override;
  Status PutIdempotent(std::string_view scope, std::string_view key, std::string_view outcome,
                       TimePoint at) override;

  Status PutKey(const KeyRecord& key) override;
  Result<std::vector<KeyRecord>> GetKeys(std::string_view owner_kind,
                                         std::string_view owner_id) override;
  Result<bool> UseNonce(std::string_view scope, std::string_view nonce, TimePoint expires) override;
  Status PurgeNonces(TimePoint now) override;
  Status PurgeIdempotency(TimePoint created_before) override;

  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status PutSetting(std::string_view key, std::string_view value) override;

  Result<std::optional<AuditRow>> AuditTail() override;
  Status AppendAudit(const std::vector<AuditRow>& rows) override;
  Result<std::vector<AuditRow>> ScanAudit(int64_t from_seq, size_t limit) override;
  Result<std::vector<AuditRow>> FindAudit(const AuditFilter& filter) override;
  Result<int64_t> AuditPatientMark() override;
  Result<std::vector<AuditPatientEntry>> AuditPatientsAfter(int64_t after_seq,
                                                            size_t limit) override;
  Status IndexAuditPatients(const std::vector<AuditPatientEntry>& entries) override;
  Status AdvanceAuditPatientMark(int64_t seq) override;
  Status WarmAuditPatients(std::string_view first, std::string_view last) override;

  Status Commit() override;

 private:
  // Gatekeepers for every statement: refuse work after Commit or a failure, and writes in a
  // read transaction; record the first engine error.
  Status Usable(bool write);
  Result<int64_t> Exec(std::string_view text, const sql::Param* params, size_t n);
  Result<int64_t> Exec(std::string_view text, std::initializer_list<sql::Param> params) {
    return Exec(text, params.begin(), params.size());
  }
  Status Query(std::string_view text, const sql::Param* params, size_t n, const sql::RowFn& on_row);
  Status Query(std::string_view text, std::initializer_list<sql::Param> params,
               const sql::RowFn& on_row) {
    return Query(text, params.begin(), params.size(), on_row);
  }
  Status Query(std::string_view text, const std::vector<sql::Param>& params,
               const sql::RowFn& on_row) {
    return Query(text, params.data(), params.size(), on_row);
  }
  Status Poison(Error e);
  Result<std::optional<std::pair<int64_t, std::string>>> AuditHead();

  sql::Database& db_;
  sql::Lease lease_;
  TxMode mode_;
  bool done_ = false;
  std::optional<Error> failure_;
};

}  // namespace internal
}  // namespace renkei::store
