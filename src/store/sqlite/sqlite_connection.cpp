#include "store/sqlite/sqlite_connection.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

namespace renkei::store::sqlite {
namespace {

using sql::Param;

// SQLite's own wait on a lock held by another process (e.g. `renkei migrate` beside a server).
// Inside one process the writer mutex already serializes writers, so this stays small.
constexpr int kBusyTimeoutMs = 100;

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  int primary = rc & 0xff;
  std::string message = std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc)
    message += std::string(" (") + sqlite3_errmsg(db) + ")";
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error(ErrorCode::kRetryable, "database busy: " + message);
  }
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
    return Error(ErrorCode::kConflict, "duplicate key: " + message);
  }
  return Error(ErrorCode::kInternal, "sqlite: " + message);
}

class SqliteRow final : public sql::Row {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string_view Text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p),
            static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  std::string Blob(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    if (p == nullptr) return {};
    return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }

 private:
  sqlite3_stmt* stmt_;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Resets a statement when a call ends, whatever the outcome, so that it releases its read
// snapshot and bindings.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConnection final : public sql::Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<int64_t> Exec(std::string_view text, const Param* params, size_t n) override {
    RK_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(text));
    StatementReset reset(stmt);
    RK_TRY(Bind(stmt, params, n));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "exec");
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status Query(std::string_view text, const Param* params, size_t n,
               const sql::RowFn& on_row) override {
    RK_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(text));
    StatementReset reset(stmt);
    RK_TRY(Bind(stmt, params, n));
    SqliteRow row(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) on_row(row);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "query");
    return Ok();
  }

  Status ExecScript(std::string_view script) override {
    std::string text(script);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string message = err != nullptr ? err : "";
      sqlite3_free(err);
      Error e = SqliteError(nullptr, rc, "script");
      return Error(e.code(), e.message() + " (" + message + ")");
    }
    return Ok();
  }

  Status Begin(TxMode mode) override {
    // BEGIN IMMEDIATE takes the write lock at once, so a write transaction never fails
    // half-way on a lock upgrade; BEGIN (deferred) gives readers a WAL snapshot at their
    // first read.
    auto r = Exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    return Ok();
  }
  Status Commit() override {
    auto r = Exec("COMMIT", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    return Ok();
  }
  Status Rollback() override {
    // Some errors (e.g. SQLITE_FULL) end the transaction already; then there is nothing to do.
    if (sqlite3_get_autocommit(db_) != 0) return Ok();
    auto r = Exec("ROLLBACK", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    return Ok();
  }
  Status LockForMigration() override { return Ok(); }  // BEGIN IMMEDIATE holds the lock
  bool Healthy() const override { return true; }

  sqlite3* handle() const { return db_; }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view text) {
    auto it = cache_.find(text);
    if (it != cache_.end()) return it->second;
    std::string rewritten = sql::DollarToQuestion(text);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, rewritten.data(), static_cast<int>(rewritten.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(db_, rc, "prepare");
      return Error(e.code(), e.message() + " in: " + rewritten);
    }
    cache_.emplace(std::string(text), stmt);
    return stmt;
  }

  Status Bind(sqlite3_stmt* stmt, const Param* params, size_t n) {
    if (static_cast<int>(n) != sqlite3_bind_parameter_count(stmt)) {
      return Error(ErrorCode::kInternal, "sqlite: parameter count mismatch");
    }
    for (size_t i = 0; i < n; ++i) {
      const Param& p = params[i];
      int idx = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      switch (p.kind()) {
        case Param::Kind::kNull:
          rc = sqlite3_bind_null(stmt, idx);
          break;
        case Param::Kind::kInt:
          rc = sqlite3_bind_int64(stmt, idx, p.int_value());
          break;
        case Param::Kind::kDouble:
          rc = sqlite3_bind_double(stmt, idx, p.double_value());
          break;
        case Param::Kind::kText:
          // SQLITE_STATIC: the caller's bytes outlive the statement's use (sql.h contract).
          rc = sqlite3_bind_text64(stmt, idx, p.text().data(), p.text().size(), SQLITE_STATIC,
                                   SQLITE_UTF8);
          break;
        case Param::Kind::kBlob:
          rc = sqlite3_bind_blob64(stmt, idx, p.text().data(), p.text().size(), SQLITE_STATIC);
          break;
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    return Ok();
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> cache_;
};

}  // namespace

Result<std::unique_ptr<sql::Connection>> OpenConnection(const std::string& path, bool writer,
                                                        bool memory, const Options& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(db, rc, "open");
    sqlite3_close_v2(db);
    return Error(ErrorCode::kUnavailable, e.message());
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // synchronous=FULL (default): WAL is fsynced at every commit, so an acknowledged write
  // survives power loss too, not only a process crash (DESIGN.md §3.3). Reads are
  // unaffected; read audit uses group commit, so one fsync covers many entries. NORMAL still
  // survives kill -9 in WAL mode (the OS holds the written pages).
  std::string pragmas =
      options.sync_every_commit ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  // The one writer inserts into index B-trees at random keys (names, identifiers), so a large
  // database needs its inner pages cached; readers share the OS page cache through mmap.
  pragmas += writer ? fmt::format("PRAGMA cache_size=-{};", options.writer_cache_mb * 1024)
                    : std::string("PRAGMA cache_size=-16000;");
  pragmas += "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
  if (!memory) {
    // No memory-mapped I/O: while the audit log grows the file, readers kept remapping it
    // (munmap and TLB shootdowns were 9% of server CPU under read load); plain reads through
    // SQLite's page cache served 30% more audited reads/s (docs/PERFORMANCE.md).
    pragmas += "PRAGMA mmap_size=0;";
    if (writer)
      pragmas += "PRAGMA journal_mode=WAL;";
    else
      pragmas += "PRAGMA query_only=ON;";
  }
  RK_TRY(conn->ExecScript(pragmas));
  return std::unique_ptr<sql::Connection>(std::move(conn));
}

bool InTransaction(sql::Connection& conn) {
  return sqlite3_get_autocommit(static_cast<SqliteConnection&>(conn).handle()) == 0;
}

namespace {

int OnWalCommit(void* context, sqlite3* db, const char* name, int pages) {
  if ((*static_cast<std::function<bool(int)>*>(context))(pages)) {
    // What SQLite's own autocheckpoint hook does (sqlite.org/c3ref/wal_autocheckpoint.html).
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

}  // namespace

Status DeferCheckpoints(sql::Connection& writer, std::function<bool(int)>* after_commit) {
  // Set after journal_mode=WAL: the hook replaces SQLite's own autocheckpoint hook, and
  // wal_autocheckpoint=0 says so explicitly.
  RK_TRY(writer.ExecScript("PRAGMA wal_autocheckpoint=0;"));
  sqlite3_wal_hook(static_cast<SqliteConnection&>(writer).handle(), OnWalCommit, after_commit);
  return Ok();
}

Status CheckpointPassive(sql::Connection& conn) {
  sqlite3* db = static_cast<SqliteConnection&>(conn).handle();
  int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  // BUSY: another checkpoint runs (a second process on the same file); the next one catches up.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return SqliteError(db, rc, "wal checkpoint");
  return Ok();
}

}  // namespace renkei::store::sqlite
