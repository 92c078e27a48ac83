// The low-level SQL connection the portable store layer (sql_store.cpp) runs on. One
// Connection per engine (sqlite/, postgres/); a Database hands out pooled connections.
// SQL is written once with $1, $2 placeholders; engines rewrite them as they need, and each
// connection caches its prepared statements keyed by the SQL text.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace renkei::store::sql {

// A statement parameter. Text and blob parameters do not own their bytes: they must outlive
// the Exec/Query call they are passed to (which copies nothing).
class Param {
 public:
  enum class Kind { kNull, kInt, kDouble, kText, kBlob };

  Param(std::nullptr_t) : kind_(Kind::kNull) {}  // NOLINT implicit
  template <std::integral T>
  Param(T v) : kind_(Kind::kInt), int_(static_cast<int64_t>(v)) {}  // NOLINT implicit
  Param(double v) : kind_(Kind::kDouble), double_(v) {}             // NOLINT implicit
  Param(std::string_view v) : kind_(Kind::kText), text_(v) {}       // NOLINT implicit
  Param(const std::string& v) : kind_(Kind::kText), text_(v) {}     // NOLINT implicit
  Param(const char* v) : kind_(Kind::kText), text_(v) {}            // NOLINT implicit
  // Raw bytes (SQLite BLOB, PostgreSQL bytea).
  static Param Blob(std::string_view bytes) {
    Param p(bytes);
    p.kind_ = Kind::kBlob;
    return p;
  }

  Kind kind() const { return kind_; }
  int64_t int_value() const { return int_; }
  double double_value() const { return double_; }
  std::string_view text() const { return text_; }  // text or blob bytes

 private:
  Kind kind_;
  int64_t int_ = 0;
  double double_ = 0;
  std::string_view text_;
};

// The current row of a result, valid only inside the row callback. Columns are 0-based.
class Row {
 public:
  virtual ~Row() = default;
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  // Text bytes; the view is valid until the callback returns.
  virtual std::string_view Text(int col) const = 0;
  // Blob bytes, decoded.
  virtual std::string Blob(int col) const = 0;
};

using RowFn = std::function<void(const Row&)>;

// One database connection. Not thread-safe: used by one transaction at a time.
class Connection {
 public:
  virtual ~Connection() = default;

  // Runs one statement; returns the number of rows it changed. Errors: kRetryable (busy,
  // serialization failure, deadlock), kConflict (unique/primary key violation), kInternal.
  virtual Result<int64_t> Exec(std::string_view sql, const Param* params, size_t n) = 0;
  // Runs one statement and calls on_row for each result row.
  virtual Status Query(std::string_view sql, const Param* params, size_t n,
                       const RowFn& on_row) = 0;
  // Runs a multi-statement script without parameters or caching (migrations).
  virtual Status ExecScript(std::string_view script) = 0;

  // Transaction control: kWrite takes the engine's write lock/isolation, kRead a snapshot.
  virtual Status Begin(TxMode mode) = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  // Serializes concurrent Migrate() calls inside the current write transaction.
  virtual Status LockForMigration() = 0;
  // False once the connection is unusable (the pool replaces it).
  virtual bool Healthy() const = 0;

  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Param> params = {}) {
    return Exec(sql, params.begin(), params.size());
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<Param>& params) {
    return Exec(sql, params.data(), params.size());
  }
  Status Query(std::string_view sql, std::initializer_list<Param> params, const RowFn& on_row) {
    return Query(sql, params.begin(), params.size(), on_row);
  }
  Status Query(std::string_view sql, const std::vector<Param>& params, const RowFn& on_row) {
    return Query(sql, params.data(), params.size(), on_row);
  }
};

// A numbered schema migration (migrations/<engine>/NNN_name.sql, embedded at build time).
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// The migrations embedded for an engine ("sqlite" or "postgres"), ascending by version.
std::span<const Migration> MigrationsFor(std::string_view engine);

class Database;

// A connection borrowed from a Database; returns it on destruction.
class Lease {
 public:
  Lease() = default;
  Lease(Database* db, Connection* conn, TxMode mode) : db_(db), conn_(conn), mode_(mode) {}
  Lease(Lease&& o) noexcept { *this = std::move(o); }
  Lease& operator=(Lease&& o) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  Connection& operator*() const { return *conn_; }
  Connection* operator->() const { return conn_; }
  Connection* get() const { return conn_; }

 private:
  Database* db_ = nullptr;
  Connection* conn_ = nullptr;
  TxMode mode_ = TxMode::kRead;
};

// An engine's connection pool and the facts the portable layer needs about it.
class Database {
 public:
  virtual ~Database() = default;
  // A connection for a transaction of mode (SQLite: the one writer for kWrite). Blocks while
  // none is free; kRetryable after a bounded wait.
  virtual Result<Lease> Acquire(TxMode mode) = 0;
  virtual const Capabilities& capabilities() const = 0;
  // Engine name of the embedded migrations ("sqlite", "postgres").
  virtual std::string_view migration_engine() const = 0;
  // True when SELECT ... FOR UPDATE exists and is needed to lock a row (PostgreSQL).
  virtual bool row_locks() const = 0;
  // A query with one text parameter ($1, a table name) returning one row with the number of
  // such tables in the current schema (0 or 1).
  virtual std::string_view table_exists_sql() const = 0;

 protected:
  friend class Lease;
  virtual void Release(Connection* conn, TxMode mode) = 0;
};

// A row count for LIMIT: size_t values past int64 range (e.g. SIZE_MAX for "all") are clamped
// so that they stay positive on both engines.
inline int64_t SqlLimit(size_t n) {
  constexpr size_t kMax = size_t{1} << 62;
  return static_cast<int64_t>(n < kMax ? n : kMax);
}

// Rewrites $1, $2 ... placeholders to ?1, ?2 ... outside string literals and quoted names.
std::string DollarToQuestion(std::string_view sql);

// "($1, $2), ($3, $4)" for rows = 2, columns = 2: the VALUES list of a multi-row INSERT, its
// parameters numbered row by row.
std::string ValuesRows(size_t rows, size_t columns);

// Upper bound for a text prefix range: every string starting with prefix is >= prefix and
// < PrefixUpperBound(prefix) in byte order (UTF-8 aware: appends U+10FFFF).
std::string PrefixUpperBound(std::string_view prefix);

}  // namespace renkei::store::sql
