#include "store/sql_store.h"

#include <array>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "store/search_order.h"

namespace renkei::store {
namespace internal {
namespace {

using sql::Param;

// Search pages: current rows joined with their version's JSON.
constexpr std::string_view kResourceCols =
    "r.patient_id, r.type, r.id, r.version, r.last_updated, r.deleted, v.json";
constexpr std::string_view kJoinJson =
    " JOIN resource_versions v ON v.patient_id = r.patient_id AND v.type = r.type AND "
    "v.id = r.id AND v.version = r.version";

constexpr std::string_view kReadCurrent =
    "SELECT r.patient_id, r.type, r.id, r.version, r.last_updated, r.deleted, v.json "
    "FROM resource_locator l JOIN resources r "
    "ON r.patient_id = l.patient_id AND r.type = l.type AND r.id = l.id "
    "JOIN resource_versions v ON v.patient_id = r.patient_id AND v.type = r.type AND "
    "v.id = r.id AND v.version = r.version "
    "WHERE l.type = $1 AND l.id = $2";
constexpr std::string_view kReadVersion =
    "SELECT r.patient_id, r.type, r.id, r.version, r.last_updated, r.deleted, r.json "
    "FROM resource_locator l JOIN resource_versions r "
    "ON r.patient_id = l.patient_id AND r.type = l.type AND r.id = l.id "
    "WHERE l.type = $1 AND l.id = $2 AND r.version = $3";
constexpr std::string_view kHistory =
    "SELECT r.patient_id, r.type, r.id, r.version, r.last_updated, r.deleted, r.json "
    "FROM resource_locator l JOIN resource_versions r "
    "ON r.patient_id = l.patient_id AND r.type = l.type AND r.id = l.id "
    "WHERE l.type = $1 AND l.id = $2 AND r.version < $3 ORDER BY r.version DESC LIMIT $4";
constexpr std::string_view kLocate =
    "SELECT r.patient_id, r.version FROM resource_locator l JOIN resources r "
    "ON r.patient_id = l.patient_id AND r.type = l.type AND r.id = l.id "
    "WHERE l.type = $1 AND l.id = $2";
constexpr std::string_view kLocateOwner =
    "SELECT patient_id FROM resource_locator WHERE type = $1 AND id = $2";
constexpr std::string_view kUpdateCurrent =
    "UPDATE resources SET version = $4, last_updated = $5, deleted = $6 "
    "WHERE patient_id = $1 AND type = $2 AND id = $3";
constexpr std::string_view kInsertLocator =
    "INSERT INTO resource_locator (type, id, patient_id) VALUES ($1, $2, $3)";
constexpr std::string_view kInsertCurrent =
    "INSERT INTO resources (patient_id, type, id, version, last_updated, deleted) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
constexpr std::string_view kInsertVersion =
    "INSERT INTO resource_versions (patient_id, type, id, version, last_updated, deleted, json) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kDeleteTerms =
    "DELETE FROM search_index WHERE patient_id = $1 AND type = $2 AND id = $3";
constexpr std::string_view kDeleteVersions =
    "DELETE FROM resource_versions WHERE patient_id = $1 AND type = $2 AND id = $3";
constexpr std::string_view kDeleteOlderVersions =
    "DELETE FROM resource_versions WHERE patient_id = $1 AND type = $2 AND id = $3 "
    "AND version < $4";
constexpr std::string_view kDeleteCurrent =
    "DELETE FROM resources WHERE patient_id = $1 AND type = $2 AND id = $3";
constexpr std::string_view kDeleteLocator =
    "DELETE FROM resource_locator WHERE type = $1 AND id = $2";

// Terms are inserted kTermChunk rows per statement (one round trip on PostgreSQL); the texts
// for 1..kTermChunk rows are built once.
constexpr size_t kTermChunk = 16;
const std::array<std::string, kTermChunk + 1>& TermInsertTexts() {
  static const auto texts = [] {
    std::array<std::string, kTermChunk + 1> out;
    for (size_t n = 1; n <= kTermChunk; ++n) {
      std::string s =
          "INSERT INTO search_index (patient_id, type, id, param, system, value) VALUES ";
      s += sql::ValuesRows(n, 6);
      // A term listed twice (two identifiers with one value) is one row.
      s += " ON CONFLICT DO NOTHING";
      out[n] = std::move(s);
    }
    return out;
  }();
  return texts;
}

ResourceRow ResourceFrom(const sql::Row& row) {
  ResourceRow r;
  r.patient_id = row.Text(0);
  r.type = row.Text(1);
  r.id = row.Text(2);
  r.version = row.Int(3);
  r.last_updated = FromMicros(row.Int(4));
  r.deleted = row.Int(5) != 0;
  r.json = row.Text(6);
  return r;
}

// Builds one statement's text and parameters. Parameters that are computed here (prefix
// bounds, cursor parts) are kept in owned_ so the views stay valid.
class Builder {
 public:
  std::string Add(Param p) {
    params_.push_back(p);
    return "$" + std::to_string(params_.size());
  }
  std::string AddOwned(std::string value) {
    owned_.push_back(std::move(value));
    return Add(Param(std::string_view(owned_.back())));
  }
  std::vector<Param>& params() { return params_; }

 private:
  std::vector<Param> params_;
  std::deque<std::string> owned_;
};

std::string ValueCondition(Builder& b, MatchOp op, const std::string& value) {
  switch (op) {
    case MatchOp::kEq:
      return "s.value = " + b.Add(value);
    case MatchOp::kPrefix: {
      // A byte range instead of LIKE: no escaping, no collation surprises, and an index
      // range scan on both engines.
      std::string lo = b.Add(value);
      return "(s.value >= " + lo + " AND s.value < " + b.AddOwned(sql::PrefixUpperBound(value)) +
             ")";
    }
    case MatchOp::kLt:
      return "s.value < " + b.Add(value);
    case MatchOp::kLe:
      return "s.value <= " + b.Add(value);
    case MatchOp::kGt:
      return "s.value > " + b.Add(value);
    case MatchOp::kGe:
      return "s.value >= " + b.Add(value);
  }
  return "1 = 0";
}

std::string TermCondition(Builder& b, const Criterion& c) {
  std::string cond = "s.param = " + b.Add(c.param);
  if (c.has_system) cond += " AND s.system = " + b.Add(c.system);
  if (c.values.empty()) return cond;  // any value: the resource has the parameter at all
  if (c.op == MatchOp::kEq && c.values.size() > 1) {
    cond += " AND s.value IN (";
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i > 0) cond += ", ";
      cond += b.Add(c.values[i]);
    }
    return cond + ")";
  }
  cond += " AND (";
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (i > 0) cond += " OR ";
    cond += ValueCondition(b, c.op, c.values[i]);
  }
  return cond + ")";
}

}  // namespace

SqlTransaction::SqlTransaction(sql::Database& db, sql::Lease lease, TxMode mode)
    : db_(db), lease_(std::move(lease)), mode_(mode) {}

SqlTransaction::~SqlTransaction() {
  // No Commit: roll back (the lease then returns the connection to its pool).
  if (!done_) (void)lease_->Rollback();
}

Status SqlTransaction::Usable(bool write) {
  if (done_) return Error(ErrorCode::kInternal, "transaction already finished");
  if (failure_) return *failure_;
  if (write && mode_ != TxMode::kWrite) {
    return Error(ErrorCode::kInternal, "write in a read transaction");
  }
  return Ok();
}

Status SqlTransaction::Poison(Error e) {
  if (!failure_) failure_ = e;
  return e;
}

Result<int64_t> SqlTransaction::Exec(std::string_view text, const Param* params, size_t n) {
  RK_TRY(Usable(true));
  auto r = lease_->Exec(text, params, n);
  if (!r.ok()) return Poison(std::move(r).error()).error();
  return r;
}

Status SqlTransaction::Query(std::string_view text, const Param* params, size_t n,
                             const sql::RowFn& on_row) {
  RK_TRY(Usable(false));
  Status s = lease_->Query(text, params, n, on_row);
  if (!s.ok()) return Poison(std::move(s).error());
  return s;
}

Status SqlTransaction::Commit() {
  RK_TRY(Usable(false));
  Status s = lease_->Commit();
  if (!s.ok()) (void)lease_->Rollback();
  done_ = true;
  // Give the connection back now (for SQLite's writer: release the write lock), not when
  // the caller gets round to destroying the object.
  lease_ = sql::Lease();
  return s;
}

Result<std::optional<ResourceRow>> SqlTransaction::ReadCurrent(std::string_view type,
                                                               std::string_view id) {
  std::optional<ResourceRow> out;
  RK_TRY(Query(kReadCurrent, {type, id}, [&](const sql::Row& row) { out = ResourceFrom(row); }));
  return out;
}

Result<std::optional<ResourceRow>> SqlTransaction::ReadVersion(std::string_view type,
                                                               std::string_view id,
                                                               int64_t version) {
  std::optional<ResourceRow> out;
  RK_TRY(Query(kReadVersion, {type, id, version},
               [&](const sql::Row& row) { out = ResourceFrom(row); }));
  return out;
}

Result<std::vector<ResourceRow>> SqlTransaction::History(std::string_view type, std::string_view id,
                                                         size_t count, int64_t before_version) {
  std::vector<ResourceRow> out;
  int64_t before = before_version > 0 ? before_version : std::numeric_limits<int64_t>::max();
  RK_TRY(Query(kHistory, {type, id, before, sql::SqlLimit(count)},
               [&](const sql::Row& row) { out.push_back(ResourceFrom(row)); }));
  return out;
}

Result<int64_t> SqlTransaction::WriteResource(const ResourceRow& row,
                                              const std::vector<IndexTerm>& terms,
                                              std::optional<int64_t> expected_version) {
  RK_TRY(Usable(true));
  if (row.type.empty() || row.id.empty()) {
    return Error(ErrorCode::kInvalid, "a stored resource needs a type and an id");
  }
  std::optional<std::pair<std::string, int64_t>> current;
  RK_TRY(Query(kLocate, {row.type, row.id},
               [&](const sql::Row& r) { current.emplace(std::string(r.Text(0)), r.Int(1)); }));
  int64_t current_version = current ? current->second : 0;
  if (expected_version && *expected_version != current_version) {
    return Error(ErrorCode::kConflict, "version conflict: expected " +
                                           std::to_string(*expected_version) + ", current " +
                                           std::to_string(current_version));
  }
  if (current && current->first != row.patient_id) {
    return Error(ErrorCode::kConflict, "the owning patient of a resource cannot change");
  }
  int64_t version = current_version + 1;
  int64_t updated = Micros(row.last_updated);
  int64_t deleted = row.deleted ? 1 : 0;
  if (current) {
    RK_TRY(Exec(kUpdateCurrent, {row.patient_id, row.type, row.id, version, updated, deleted}));
    RK_TRY(Exec(kDeleteTerms, {row.patient_id, row.type, row.id}));
  } else {
    auto r = Exec(kInsertLocator, {row.type, row.id, row.patient_id});
    if (!r.ok()) {
      // Another transaction created the same id after our snapshot (PostgreSQL only; SQLite
      // has one writer). Retrying sees it and decides update vs. conflict properly.
      if (r.error().code() == ErrorCode::kConflict) {
        Error e(ErrorCode::kRetryable, "concurrent create of the same resource");
        failure_ = e;
        return e;
      }
      return std::move(r).error();
    }
    RK_TRY(Exec(kInsertCurrent, {row.patient_id, row.type, row.id, version, updated, deleted}));
  }
  RK_TRY(Exec(kInsertVersion,
              {row.patient_id, row.type, row.id, version, updated, deleted, row.json}));

  const auto& texts = TermInsertTexts();
  std::vector<Param> params;
  params.reserve(kTermChunk * 6);
  for (size_t start = 0; start < terms.size(); start += kTermChunk) {
    size_t n = std::min(kTermChunk, terms.size() - start);
    params.clear();
    for (size_t i = start; i < start + n; ++i) {
      params.insert(params.end(),
                    {Param(row.patient_id), Param(row.type), Param(row.id), Param(terms[i].param),
                     Param(terms[i].system), Param(terms[i].value)});
    }
    RK_TRY(Exec(texts[n], params.data(), params.size()));
  }
  return version;
}

Status SqlTransaction::PurgeResource(std::string_view type, std::string_view id) {
  RK_TRY(Usable(true));
  std::optional<std::string> owner;
  RK_TRY(
      Query(kLocateOwner, {type, id}, [&](const sql::Row& r) { owner = std::string(r.Text(0)); }));
  if (!owner) return Ok();
  RK_TRY(Exec(kDeleteTerms, {*owner, type, id}));
  RK_TRY(Exec(kDeleteVersions, {*owner, type, id}));
  RK_TRY(Exec(kDeleteCurrent, {*owner, type, id}));
  RK_TRY(Exec(kDeleteLocator, {type, id}));
  return Ok();
}

Status SqlTransaction::EraseHistory(std::string_view type, std::string_view id) {
  RK_TRY(Usable(true));
  std::optional<std::pair<std::string, int64_t>> current;
  RK_TRY(Query(kLocate, {type, id},
               [&](const sql::Row& r) { current.emplace(std::string(r.Text(0)), r.Int(1)); }));
  if (!current) return Ok();
  RK_TRY(Exec(kDeleteOlderVersions, {current->first, type, id, current->second}));
  return Ok();
}

Result<SearchPage> SqlTransaction::Search(const SearchQuery& query) {
  RK_TRY(Usable(false));
  Builder b;
  std::string type_param = b.Add(query.type);
  std::string where =
      "r.type = " + type_param + (query.deleted_only ? " AND r.deleted = 1" : " AND r.deleted = 0");
  std::string patient_param;
  if (query.patient_id) {
    patient_param = b.Add(*query.patient_id);
    where += " AND r.patient_id = " + patient_param;
  }
  bool driven = false;
  for (const Criterion& c : query.criteria) {
    if (c.negate) {
      where +=
          " AND NOT EXISTS (SELECT 1 FROM search_index s WHERE s.patient_id = r.patient_id "
          "AND s.type = r.type AND s.id = r.id AND " +
          TermCondition(b, c) + ")";
    } else if (!driven) {
      driven = true;
      // The first plain criterion drives the query from the value index (type, param, value),
      // so a selective search never scans all resources of the type.
      where +=
          " AND (r.patient_id, r.type, r.id) IN (SELECT s.patient_id, s.type, s.id "
          "FROM search_index s WHERE s.type = " +
          type_param;
      if (query.patient_id) where += " AND s.patient_id = " + patient_param;
      where += " AND " + TermCondition(b, c) + ")";
    } else {
      where +=
          " AND EXISTS (SELECT 1 FROM search_index s WHERE s.patient_id = r.patient_id "
          "AND s.type = r.type AND s.id = r.id AND " +
          TermCondition(b, c) + ")";
    }
  }

  SearchPage page;
  if (query.include_total) {
    int64_t total = 0;
    RK_TRY(Query("SELECT COUNT(*) FROM resources r WHERE " + where, b.params(),
                 [&](const sql::Row& row) { total = row.Int(0); }));
    page.total = total;
  }
  if (query.count == 0) return page;

  const Order order = OrderOf(query);
  const bool by_term = order.key == OrderKey::kTerm;
  const char* dir = order.descending ? " DESC" : " ASC";
  const char* beyond = order.descending ? " < " : " > ";
  std::string text = "SELECT ";
  text += kResourceCols;
  if (by_term) {
    // Each matching row's sort value: the lowest of its values ascending, the highest
    // descending (as FHIR sorts repeating elements), from one grouped pass over the term's
    // entries of this type (of this patient only when scoped: the patient-first index), joined
    // by key. A correlated MAX per row would let SQLite walk the patient's whole term list per
    // row (its min/max shortcut on the (patient_id, type, param, value) index).
    text += ", r.sk FROM (SELECT r.patient_id, r.type, r.id, r.version, r.last_updated, ";
    text += "r.deleted, k.sk FROM resources r LEFT JOIN (SELECT s.patient_id, s.id, ";
    text += order.descending ? "MAX" : "MIN";
    text += "(s.value) AS sk FROM search_index s WHERE s.type = " + type_param;
    if (query.patient_id) text += " AND s.patient_id = " + patient_param;
    text += " AND s.param = " + b.AddOwned(order.param) +
            " GROUP BY s.patient_id, s.id) k ON k.patient_id = r.patient_id AND k.id = r.id "
            "WHERE " +
            where + ") r";
    text += kJoinJson;
    text += " WHERE 1 = 1";
  } else {
    text += " FROM resources r";
    text += kJoinJson;
    text += " WHERE " + where;
  }
  if (!query.after.empty()) {
    RK_ASSIGN_OR_RETURN(Cursor cursor, DecodeCursor(query.after, order));
    std::string id = b.AddOwned(cursor.id);
    switch (order.key) {
      case OrderKey::kId:
        text += " AND r.id" + std::string(beyond) + id;
        break;
      case OrderKey::kUpdated: {
        std::string t = b.Add(cursor.micros);
        text += " AND (r.last_updated" + std::string(beyond) + t + " OR (r.last_updated = " + t +
                " AND r.id" + beyond + id + "))";
        break;
      }
      case OrderKey::kTerm:
        if (cursor.value) {
          // Rows without the term follow every row with one, in both directions.
          std::string v = b.AddOwned(*cursor.value);
          text += " AND (r.sk IS NULL OR r.sk" + std::string(beyond) + v + " OR (r.sk = " + v +
                  " AND r.id" + beyond + id + "))";
        } else {
          text += " AND r.sk IS NULL AND r.id" + std::string(beyond) + id;
        }
        break;
    }
  }
  switch (order.key) {
    case OrderKey::kId:
      text += " ORDER BY r.id" + std::string(dir);
      break;
    case OrderKey::kUpdated:
      text += " ORDER BY r.last_updated" + std::string(dir) + ", r.id" + dir;
      break;
    case OrderKey::kTerm:
      text += " ORDER BY CASE WHEN r.sk IS NULL THEN 1 ELSE 0 END, r.sk" + std::string(dir) +
              ", r.id" + dir;
      break;
  }
  // One row more than the page tells whether another page follows.
  text += " LIMIT " + b.Add(sql::SqlLimit(query.count) + 1);
  std::vector<std::optional<std::string>> values;  // kTerm: each row's sort value
  RK_TRY(Query(text, b.params(), [&](const sql::Row& row) {
    page.rows.push_back(ResourceFrom(row));
    if (by_term) {
      values.push_back(row.IsNull(7) ? std::nullopt
                                     : std::optional<std::string>(std::string(row.Text(7))));
    }
  }));
  if (page.rows.size() > static_cast<size_t>(sql::SqlLimit(query.count))) {
    page.rows.pop_back();
    const size_t last = page.rows.size() - 1;
    page.next_cursor = EncodeCursor(order, page.rows.back(), by_term ? values[last] : std::nullopt);
  }
  if (!query.terms_of.empty()) {
    // A point lookup on the patient-first key per row; pages asking for terms are small.
    Builder tb;
    std::string terms_text =
        "SELECT param, system, value FROM search_index WHERE patient_id = $1 AND type = $2 AND "
        "id = $3 AND param IN (";
    tb.Add(nullptr);
    tb.Add(nullptr);
    tb.Add(nullptr);
    for (size_t i = 0; i < query.terms_of.size(); ++i) {
      if (i > 0) terms_text += ", ";
      terms_text += tb.Add(query.terms_of[i]);
    }
    terms_text += ") ORDER BY param, system, value";
    for (const ResourceRow& row : page.rows) {
      tb.params()[0] = sql::Param(row.patient_id);
      tb.params()[1] = sql::Param(row.type);
      tb.params()[2] = sql::Param(row.id);
      std::vector<IndexTerm>& terms = page.terms.emplace_back();
      RK_TRY(Query(terms_text, tb.params(), [&](const sql::Row& r) {
        terms.push_back({std::string(r.Text(0)), std::string(r.Text(1)), std::string(r.Text(2))});
      }));
    }
  }
  return page;
}

}  // namespace internal

namespace {

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<sql::Database> db) : db_(std::move(db)) {}

  Result<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    RK_ASSIGN_OR_RETURN(sql::Lease lease, db_->Acquire(mode));
    RK_TRY(lease->Begin(mode));
    return std::unique_ptr<Transaction>(
        std::make_unique<internal::SqlTransaction>(*db_, std::move(lease), mode));
  }

  Result<int> Migrate() override {
    RK_ASSIGN_OR_RETURN(sql::Lease lease, db_->Acquire(TxMode::kWrite));
    RK_TRY(lease->Begin(TxMode::kWrite));
    auto result = MigrateIn(*lease);
    if (!result.ok()) {
      (void)lease->Rollback();
      return result;
    }
    Status s = lease->Commit();
    if (!s.ok()) {
      (void)lease->Rollback();
      return std::move(s).error();
    }
    return result;
  }

  Result<int> SchemaVersion() override {
    RK_ASSIGN_OR_RETURN(sql::Lease lease, db_->Acquire(TxMode::kRead));
    RK_TRY(lease->Begin(TxMode::kRead));
    auto result = VersionIn(*lease);
    (void)lease->Rollback();
    return result;
  }

  const Capabilities& capabilities() const override { return db_->capabilities(); }

 private:
  Result<int> VersionIn(sql::Connection& conn) {
    int64_t exists = 0;
    RK_TRY(conn.Query(db_->table_exists_sql(), {"schema_version"},
                      [&](const sql::Row& row) { exists = row.Int(0); }));
    if (exists == 0) return 0;
    int64_t version = 0;
    RK_TRY(conn.Query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {},
                      [&](const sql::Row& row) { version = row.Int(0); }));
    return static_cast<int>(version);
  }

  Result<int> MigrateIn(sql::Connection& conn) {
    RK_TRY(conn.LockForMigration());
    RK_TRY(
        conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
                        "name text NOT NULL, applied bigint NOT NULL)"));
    RK_ASSIGN_OR_RETURN(int version, VersionIn(conn));
    int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    for (const sql::Migration& m : sql::MigrationsFor(db_->migration_engine())) {
      if (m.version <= version) continue;
      Status s = conn.ExecScript(m.sql);
      if (!s.ok()) {
        return Error(s.error().code(),
                     "migration " + std::string(m.name) + " failed: " + s.error().message());
      }
      RK_TRY(conn.Exec("INSERT INTO schema_version (version, name, applied) VALUES ($1, $2, $3)",
                       {m.version, m.name, now}));
      version = m.version;
    }
    return version;
  }

  std::unique_ptr<sql::Database> db_;
};

}  // namespace

std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<sql::Database> db) {
  return std::make_unique<SqlStore>(std::move(db));
}

}  // namespace renkei::store
