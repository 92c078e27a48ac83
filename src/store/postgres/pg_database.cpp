#include "store/postgres/pg_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace renkei::store::postgres {
namespace {

using sql::Param;

constexpr auto kAcquireTimeout = std::chrono::seconds(5);

// Transactions run at REPEATABLE READ: each sees one snapshot, and two transactions that
// update the same row (a resource's current version, the audit head) cannot both commit;
// the loser gets 40001 and RunInTransaction retries it. The store's invariants are all
// expressed as writes to one row (version check then UPDATE of that row, INSERT of a key),
// so SERIALIZABLE's extra predicate locking would add aborts without adding safety here.
constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL REPEATABLE READ";
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

void IgnoreNotice(void*, const char*) {}

class PgRow final : public sql::Row {
 public:
  PgRow(PGresult* res, int row) : res_(res), row_(row) {}
  bool IsNull(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
  int64_t Int(int col) const override {
    std::string_view t = Text(col);
    int64_t v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  double Double(int col) const override {
    std::string s(Text(col));
    return std::strtod(s.c_str(), nullptr);
  }
  std::string_view Text(int col) const override {
    return {PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col))};
  }
  std::string Blob(int col) const override {
    size_t n = 0;
    unsigned char* p =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row_, col)), &n);
    if (p == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(p), n);
    PQfreemem(p);
    return out;
  }

 private:
  PGresult* res_;
  int row_;
};

class PgConnection final : public sql::Connection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Result<int64_t> Exec(std::string_view text, const Param* params, size_t n) override {
    RK_ASSIGN_OR_RETURN(ResultPtr res, Run(text, params, n));
    const char* tuples = PQcmdTuples(res.get());
    return static_cast<int64_t>(tuples != nullptr && *tuples != 0 ? std::atoll(tuples) : 0);
  }

  Status Query(std::string_view text, const Param* params, size_t n,
               const sql::RowFn& on_row) override {
    RK_ASSIGN_OR_RETURN(ResultPtr res, Run(text, params, n));
    int rows = PQntuples(res.get());
    for (int i = 0; i < rows; ++i) on_row(PgRow(res.get(), i));
    return Ok();
  }

  Status ExecScript(std::string_view script) override {
    std::string text(script);
    ResultPtr res(PQexec(conn_, text.c_str()));
    return Check(res.get(), "script");
  }

  Status Begin(TxMode mode) override {
    ResultPtr res(PQexec(conn_, mode == TxMode::kWrite ? kBeginWrite : kBeginRead));
    return Check(res.get(), "begin");
  }
  Status Commit() override {
    ResultPtr res(PQexec(conn_, "COMMIT"));
    RK_TRY(Check(res.get(), "commit"));
    // COMMIT of a transaction that already failed answers "ROLLBACK" without an error.
    if (std::strcmp(PQcmdStatus(res.get()), "ROLLBACK") == 0) {
      return Error(ErrorCode::kInternal, "postgresql: transaction was rolled back");
    }
    return Ok();
  }
  Status Rollback() override {
    ResultPtr res(PQexec(conn_, "ROLLBACK"));
    return Check(res.get(), "rollback");
  }
  Status LockForMigration() override {
    // A transaction-scoped advisory lock: servers starting together migrate one at a time.
    ResultPtr res(PQexec(conn_, "SELECT pg_advisory_xact_lock(7235182374)"));
    return Check(res.get(), "migration lock");
  }
  bool Healthy() const override {
    return healthy_ && PQstatus(conn_) == CONNECTION_OK &&
           PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

 private:
  Status Check(PGresult* res, std::string_view what) {
    ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Ok();
    return ErrorOf(res, what);
  }

  Error ErrorOf(PGresult* res, std::string_view what) {
    const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state != nullptr ? state : "";
    const char* primary =
        res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = "postgresql " + std::string(what) + ": " +
                          (primary != nullptr ? std::string(primary) : PQerrorMessage(conn_));
    if (!sqlstate.empty()) message += " [" + sqlstate + "]";
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      return Error(ErrorCode::kRetryable, message);
    }
    if (sqlstate == "23505") return Error(ErrorCode::kConflict, message);
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
        sqlstate.rfind("57P", 0) == 0) {
      // The connection is gone (server restart, failover, terminated backend): the pool drops
      // it. The server rolls back what the connection left open, so the transaction can be
      // retried on a new connection, except when COMMIT itself was in flight: then whether it
      // took effect is unknown and the caller must not blindly redo it.
      healthy_ = false;
      return Error(what == "commit" ? ErrorCode::kUnavailable : ErrorCode::kRetryable, message);
    }
    return Error(ErrorCode::kInternal, message);
  }

  Result<const std::string*> Prepare(std::string_view text) {
    auto it = cache_.find(text);
    if (it != cache_.end()) return &it->second;
    std::string name = "rk" + std::to_string(cache_.size() + 1);
    std::string sql(text);
    ResultPtr res(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    Status s = Check(res.get(), "prepare");
    if (!s.ok()) return Error(s.error().code(), s.error().message() + " in: " + sql);
    auto [pos, inserted] = cache_.emplace(std::move(sql), std::move(name));
    return &pos->second;
  }

  Result<ResultPtr> Run(std::string_view text, const Param* params, size_t n) {
    RK_ASSIGN_OR_RETURN(const std::string* name, Prepare(text));
    // Text and blob parameters go in binary format (their bytes as they are, no copy and no
    // terminating NUL needed); numbers go as decimal text and take the type PostgreSQL
    // infers from the statement.
    values_.resize(n);
    lengths_.resize(n);
    formats_.resize(n);
    numbers_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const Param& p = params[i];
      switch (p.kind()) {
        case Param::Kind::kNull:
          values_[i] = nullptr;
          lengths_[i] = 0;
          formats_[i] = 0;
          break;
        case Param::Kind::kInt: {
          auto [end, ec] =
              std::to_chars(numbers_[i].data(), numbers_[i].data() + 31, p.int_value());
          *end = 0;
          values_[i] = numbers_[i].data();
          lengths_[i] = static_cast<int>(end - numbers_[i].data());
          formats_[i] = 0;
          break;
        }
        case Param::Kind::kDouble: {
          auto [end, ec] =
              std::to_chars(numbers_[i].data(), numbers_[i].data() + 31, p.double_value());
          *end = 0;
          values_[i] = numbers_[i].data();
          lengths_[i] = static_cast<int>(end - numbers_[i].data());
          formats_[i] = 0;
          break;
        }
        case Param::Kind::kText:
        case Param::Kind::kBlob:
          values_[i] = p.text().data() != nullptr ? p.text().data() : "";
          lengths_[i] = static_cast<int>(p.text().size());
          formats_[i] = 1;
          break;
      }
    }
    ResultPtr res(PQexecPrepared(conn_, name->c_str(), static_cast<int>(n), values_.data(),
                                 lengths_.data(), formats_.data(), 0));
    RK_TRY(Check(res.get(), "statement"));
    return res;
  }

  PGconn* conn_;
  bool healthy_ = true;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> cache_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::array<char, 32>> numbers_;
};

Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Error(ErrorCode::kUnavailable, "postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return Error(ErrorCode::kUnavailable, "postgresql connect: " + message);
  }
  return std::make_unique<PgConnection>(conn);
}

class PgDatabase final : public sql::Database {
 public:
  PgDatabase(std::string conninfo, int pool_size, std::unique_ptr<PgConnection> first)
      : conninfo_(std::move(conninfo)), max_(pool_size < 1 ? 1 : pool_size) {
    caps_.engine = "postgresql";
    caps_.concurrent_writers = true;
    free_.push_back(std::move(first));
    open_ = 1;
  }

  Result<sql::Lease> Acquire(TxMode mode) override {
    std::unique_lock lock(mu_);
    while (free_.empty() && open_ >= max_) {
      if (cv_.wait_for(lock, kAcquireTimeout) == std::cv_status::timeout && free_.empty() &&
          open_ >= max_) {
        return Error(ErrorCode::kRetryable, "database busy: no connection free");
      }
    }
    if (!free_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(free_.back());
      free_.pop_back();
      return sql::Lease(this, conn.release(), mode);
    }
    ++open_;
    lock.unlock();
    auto conn = Connect(conninfo_);
    if (!conn.ok()) {
      {
        std::lock_guard relock(mu_);
        --open_;
      }
      cv_.notify_one();
      return std::move(conn).error();
    }
    return sql::Lease(this, std::move(conn).value().release(), mode);
  }

  const Capabilities& capabilities() const override { return caps_; }
  std::string_view migration_engine() const override { return "postgres"; }
  bool row_locks() const override { return true; }
  std::string_view table_exists_sql() const override {
    return "SELECT CASE WHEN to_regclass($1::text) IS NULL THEN 0 ELSE 1 END";
  }

 protected:
  void Release(sql::Connection* raw, TxMode) override {
    std::unique_ptr<PgConnection> conn(static_cast<PgConnection*>(raw));
    {
      std::lock_guard lock(mu_);
      if (conn->Healthy()) {
        free_.push_back(std::move(conn));
      } else {
        --open_;  // dropped; a new one is opened on demand
      }
    }
    cv_.notify_one();
  }

 private:
  std::string conninfo_;
  int max_;
  Capabilities caps_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> free_;
  int open_ = 0;
};

}  // namespace

Result<std::unique_ptr<sql::Database>> OpenDatabase(std::string_view conninfo, int pool_size) {
  std::string info(conninfo);
  RK_ASSIGN_OR_RETURN(auto first, Connect(info));
  return std::unique_ptr<sql::Database>(
      std::make_unique<PgDatabase>(std::move(info), pool_size, std::move(first)));
}

}  // namespace renkei::store::postgres
