#include "support/test_db.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/crypto.h"

namespace renkei::testing {
namespace {

std::string RandomSuffix() {
  return crypto::HexEncode(crypto::RandomBytes(8));
}

class SqliteTestDatabase final : public TestDatabase {
 public:
  SqliteTestDatabase() {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path dir = tmp != nullptr && *tmp != 0 ? tmp : "/tmp";
    path_ = (dir / ("renkei-test-" + RandomSuffix() + ".db")).string();
    url_ = "sqlite:" + path_;
  }
  ~SqliteTestDatabase() override {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_ + suffix, ec);
    }
  }
  const std::string& url() const override { return url_; }

 private:
  std::string path_;
  std::string url_;
};

std::string QuoteConninfo(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

ConnPtr Maintenance(const std::string& url) {
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to the test PostgreSQL server at RENKEI_TEST_PG_URL=" +
                             url + ": " + (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

void Run(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string message = ok ? "" : PQresultErrorMessage(res);
  PQclear(res);
  if (!ok) throw std::runtime_error("test PostgreSQL: " + sql + ": " + message);
}

class PgTestDatabase final : public TestDatabase {
 public:
  PgTestDatabase() {
    const char* env = std::getenv("RENKEI_TEST_PG_URL");
    if (env == nullptr || *env == 0) {
      throw std::runtime_error(
          "RENKEI_TEST_PG_URL is not set: PostgreSQL tests need the throwaway server. Run them "
          "through ctest (fixture `postgres`, tests/postgres_fixture.cmake) or start one with "
          "scripts/pg-fixture.sh and export its URL.");
    }
    admin_url_ = env;
    name_ = "renkei_t_" + RandomSuffix();
    ConnPtr admin = Maintenance(admin_url_);
    Run(admin.get(), "CREATE DATABASE " + name_);

    // The same server and credentials, another database: rebuild the connection string in
    // keyword form with dbname replaced.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(admin_url_.c_str(), &err);
    if (opts == nullptr) {
      std::string message = err != nullptr ? err : "";
      PQfreemem(err);
      throw std::runtime_error("RENKEI_TEST_PG_URL is not a libpq URL: " + message);
    }
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      std::string key = o->keyword;
      if (key == "dbname" || o->val == nullptr || *o->val == 0) continue;
      url_ += key + "=" + QuoteConninfo(o->val) + " ";
    }
    PQconninfoFree(opts);
    url_ += "dbname=" + name_;
  }
  ~PgTestDatabase() override {
    try {
      ConnPtr admin = Maintenance(admin_url_);
      Run(admin.get(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // The server is gone already (fixture cleanup ran): nothing left to drop.
    }
  }
  const std::string& url() const override { return url_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// Forwards to the real store and removes the database after the store closed it.
class TestStore final : public store::Store {
 public:
  TestStore(std::unique_ptr<TestDatabase> db, std::unique_ptr<store::Store> inner)
      : db_(std::move(db)), inner_(std::move(inner)) {}
  ~TestStore() override {
    inner_.reset();
    db_.reset();
  }
  Result<std::unique_ptr<store::Transaction>> Begin(store::TxMode mode) override {
    return inner_->Begin(mode);
  }
  Result<int> Migrate() override { return inner_->Migrate(); }
  Result<int> SchemaVersion() override { return inner_->SchemaVersion(); }
  const store::Capabilities& capabilities() const override { return inner_->capabilities(); }

 private:
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> inner_;
};

}  // namespace

std::string EngineName(Engine e) {
  return e == Engine::kSqlite ? "sqlite" : "postgres";
}

std::vector<Engine> AllEngines() {
  return {Engine::kSqlite, Engine::kPostgres};
}

std::unique_ptr<TestDatabase> MakeTestDatabase(Engine e) {
  if (e == Engine::kSqlite) return std::make_unique<SqliteTestDatabase>();
  return std::make_unique<PgTestDatabase>();
}

std::unique_ptr<store::Store> MakeTestStore(Engine e, int pool_size) {
  auto db = MakeTestDatabase(e);
  auto opened = store::Open(db->url(), pool_size);
  if (!opened.ok()) {
    throw std::runtime_error("cannot open test database " + EngineName(e) + ": " +
                             opened.error().ToString());
  }
  auto store = std::make_unique<TestStore>(std::move(db), std::move(opened).value());
  auto migrated = store->Migrate();
  if (!migrated.ok()) {
    throw std::runtime_error("cannot migrate test database " + EngineName(e) + ": " +
                             migrated.error().ToString());
  }
  return store;
}

}  // namespace renkei::testing
