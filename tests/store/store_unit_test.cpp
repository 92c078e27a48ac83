// Engine-independent parts of the store: URLs, placeholder rewriting, migrations embedded,
// the retry wrapper, and SQLite specifics (in-memory databases, reopening a file).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.h"
#include "store/sql.h"
#include "store_suite.h"

namespace renkei::store {
namespace {

TEST(SqlTextTest, DollarPlaceholdersBecomeNumberedQuestionMarks) {
  EXPECT_EQ(sql::DollarToQuestion("SELECT a FROM t WHERE x = $1 AND y IN ($2, $10)"),
            "SELECT a FROM t WHERE x = ?1 AND y IN (?2, ?10)");
  EXPECT_EQ(sql::DollarToQuestion("SELECT '$1', \"$2\" FROM t WHERE z = $3"),
            "SELECT '$1', \"$2\" FROM t WHERE z = ?3");
  EXPECT_EQ(sql::DollarToQuestion("SELECT 'it''s $1' WHERE a = $1"),
            "SELECT 'it''s $1' WHERE a = ?1");
  EXPECT_EQ(sql::DollarToQuestion("SELECT $ FROM t"), "SELECT $ FROM t");
}

TEST(SqlTextTest, ValuesRowsNumberParametersRowByRow) {
  EXPECT_EQ(sql::ValuesRows(1, 1), "($1)");
  EXPECT_EQ(sql::ValuesRows(2, 3), "($1, $2, $3), ($4, $5, $6)");
  EXPECT_EQ(sql::ValuesRows(0, 2), "");
}

TEST(SqlTextTest, PrefixUpperBoundBoundsEveryExtension) {
  std::string p = "やまだ";
  std::string hi = sql::PrefixUpperBound(p);
  EXPECT_LT(p, hi);
  EXPECT_LT(p + "たろう", hi);
  EXPECT_LT(p + "\xEF\xBF\xBF", hi);      // U+FFFF
  EXPECT_LT(p + "\xF0\x9F\x98\x80", hi);  // an emoji, 4 bytes
  EXPECT_GT(std::string("やまぢ"), hi);
  // The empty prefix bounds every value.
  EXPECT_LT(std::string("\xF4\x8F\xBF\xBE"), sql::PrefixUpperBound(""));
  EXPECT_LT(std::string("zzz"), sql::PrefixUpperBound(""));
}

TEST(MigrationsTest, EveryEngineHasAscendingMigrationsOfTheSameNumbers) {
  auto sqlite = sql::MigrationsFor("sqlite");
  auto pg = sql::MigrationsFor("postgres");
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), pg.size());
  for (size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(pg[i].version, sqlite[i].version);
    EXPECT_EQ(pg[i].name, sqlite[i].name);
    EXPECT_FALSE(sqlite[i].sql.empty());
    EXPECT_FALSE(pg[i].sql.empty());
  }
  EXPECT_TRUE(sql::MigrationsFor("oracle").empty());
}

TEST(OpenTest, RefusesEmptyAndUnreachableDatabases) {
  auto empty = Open("sqlite:", 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalid);
  auto no_dir = Open("sqlite:/nonexistent-dir-renkei/x.db", 1);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kUnavailable);
  // A socket directory with no server behind it.
  auto no_server = Open("postgresql:///renkei?host=/nonexistent-dir-renkei&port=1", 1);
  ASSERT_FALSE(no_server.ok());
  EXPECT_EQ(no_server.error().code(), ErrorCode::kUnavailable);
  auto keyword = Open("host=/nonexistent-dir-renkei port=1 dbname=renkei", 1);
  ASSERT_FALSE(keyword.ok());
  EXPECT_EQ(keyword.error().code(), ErrorCode::kUnavailable);
}

TEST(OpenTest, InMemorySqliteServesReadsAndWritesOnOneConnection) {
  auto opened = Open("sqlite::memory:", 4);
  RK_ASSERT_OK(opened);
  Store& store = **opened;
  RK_ASSERT_OK(store.Migrate());
  RK_ASSERT_OK(RunInTransaction(store, TxMode::kWrite, [](Transaction& tx) -> Status {
    RK_TRY(tx.WriteResource(MakeRow("Patient", "m", "m"), {}, 0));
    return Ok();
  }));
  auto got = RunInTransactionWithResult<std::optional<ResourceRow>>(
      store, TxMode::kRead, [](Transaction& tx) { return tx.ReadCurrent("Patient", "m"); });
  RK_ASSERT_OK(got);
  EXPECT_TRUE(got->has_value());
}

TEST(OpenTest, SqliteFileKeepsCommittedDataAcrossReopen) {
  auto db = testing::MakeTestDatabase(testing::Engine::kSqlite);
  for (const std::string& url : {db->url(), db->url().substr(7)}) {  // "sqlite:PATH", bare path
    auto opened = Open(url, 2);
    RK_ASSERT_OK(opened);
    RK_ASSERT_OK((*opened)->Migrate());
    auto existing = RunInTransactionWithResult<std::optional<ResourceRow>>(
        **opened, TxMode::kRead, [](Transaction& tx) { return tx.ReadCurrent("Patient", "k"); });
    RK_ASSERT_OK(existing);
    if (url == db->url()) {
      EXPECT_FALSE(existing->has_value());
      RK_ASSERT_OK(RunInTransaction(**opened, TxMode::kWrite, [](Transaction& tx) -> Status {
        RK_TRY(tx.WriteResource(MakeRow("Patient", "k", "k"), {}, 0));
        return Ok();
      }));
    } else {
      EXPECT_TRUE(existing->has_value());
    }
  }
}

TEST(OpenTest, SqliteOptions) {
  auto db = testing::MakeTestDatabase(testing::Engine::kSqlite);
  auto normal = Open(db->url() + "?synchronous=normal", 2);
  RK_ASSERT_OK(normal);
  RK_ASSERT_OK((*normal)->Migrate());
  auto full = Open(db->url() + "?synchronous=full", 2);
  RK_ASSERT_OK(full);
  auto unknown = Open(db->url() + "?journal=off", 2);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalid);
  auto cache = Open(db->url() + "?synchronous=normal&writer_cache_mb=512", 2);
  RK_ASSERT_OK(cache);
  RK_ASSERT_OK((*cache)->Migrate());
  for (const char* bad : {"?writer_cache_mb=8", "?writer_cache_mb=5000", "?writer_cache_mb=x",
                          "?writer_cache_mb=64MB"}) {
    auto refused = Open(db->url() + bad, 2);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalid) << bad;
  }
}

// The WAL header's checkpoint sequence number (bytes 12..15, big-endian): SQLite increments it
// each time a writer restarts the WAL from its start after a complete checkpoint
// (sqlite.org/fileformat2.html#walformat).
uint32_t WalRestarts(const std::string& wal_path) {
  std::ifstream in(wal_path, std::ios::binary);
  unsigned char header[16] = {};
  in.read(reinterpret_cast<char*>(header), sizeof header);
  return (uint32_t{header[12]} << 24) | (uint32_t{header[13]} << 16) | (uint32_t{header[14]} << 8) |
         uint32_t{header[15]};
}

// Checkpoints run on their own connection, off the writer's commits: the WAL is still copied
// back into the database and restarted, and its file stays near the checkpoint threshold
// (1,000 pages). Were nobody checkpointing, the WAL would hold every page written below
// (over 36 MB) and never restart.
TEST(OpenTest, SqliteWalIsCheckpointedInTheBackground) {
  auto db = testing::MakeTestDatabase(testing::Engine::kSqlite);
  auto opened = Open(db->url() + "?synchronous=normal", 2);
  RK_ASSERT_OK(opened);
  RK_ASSERT_OK((*opened)->Migrate());
  const std::string wal = db->url().substr(7) + "-wal";
  const std::string body(6000, 'x');
  int written = 0;
  auto write = [&]() -> Status {
    return RunInTransaction(**opened, TxMode::kWrite, [&](Transaction& tx) -> Status {
      ResourceRow row = MakeRow("Patient", fmt::format("w{}", written++), "pw");
      row.json = "{\"resourceType\":\"Patient\",\"text\":\"" + body + "\"}";
      RK_TRY(tx.WriteResource(row, {}, 0));
      return Ok();
    });
  };
  for (int i = 0; i < 6000; ++i) RK_ASSERT_OK(write());
  // The checkpointer runs beside the writer; on a busy machine it may lag. A write after its
  // checkpoint restarts the WAL, so keep writing a little, for at most 30 s.
  const uint32_t before = WalRestarts(wal);
  for (int wait = 0; wait < 300 && WalRestarts(wal) == before; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    RK_ASSERT_OK(write());
  }
  EXPECT_GT(WalRestarts(wal), before) << "the WAL was never checkpointed and restarted";
  EXPECT_LT(std::filesystem::file_size(wal), 36u << 20) << "the WAL kept every page written";
}

// DESIGN.md §3.3: a write acknowledged to a client survives kill -9 of the server. A child
// process commits, reports the commit, and is killed at once; the data must be there.
TEST(DurabilityTest, CommittedSqliteWriteSurvivesKillNine) {
  for (const std::string option : {"", "?synchronous=normal"}) {
    auto db = testing::MakeTestDatabase(testing::Engine::kSqlite);
    const std::string url = db->url() + option;
    {
      auto opened = Open(url, 1);
      RK_ASSERT_OK(opened);
      RK_ASSERT_OK((*opened)->Migrate());
    }
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      char verdict = 'E';
      auto opened = Open(url, 1);
      if (opened.ok()) {
        for (int i = 0; i < 20; ++i) {
          Status s = RunInTransaction(**opened, TxMode::kWrite, [&](Transaction& tx) -> Status {
            RK_TRY(tx.WriteResource(MakeRow("Patient", "k" + std::to_string(i), "k"), {}, 0));
            return Ok();
          });
          if (!s.ok()) break;
          if (i == 19) verdict = 'A';  // every write acknowledged
        }
      }
      (void)!write(fds[1], &verdict, 1);
      pause();  // wait for the kill, holding the database open
      _exit(0);
    }
    close(fds[1]);
    char verdict = 0;
    ASSERT_EQ(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_EQ(verdict, 'A');
    ASSERT_TRUE(WIFSIGNALED(status));

    auto reopened = Open(url, 1);
    RK_ASSERT_OK(reopened);
    auto page =
        RunInTransactionWithResult<SearchPage>(**reopened, TxMode::kRead, [](Transaction& tx) {
          SearchQuery q;
          q.type = "Patient";
          return tx.Search(q);
        });
    RK_ASSERT_OK(page);
    EXPECT_EQ(page->total, 20) << option;
  }
}

// A PostgreSQL restart or failover kills every pooled connection: the next transactions
// find the dead connections, drop them and, retried, succeed on new ones.
TEST(PostgresPoolTest, TerminatedConnectionsAreReplacedAndTheWorkRetried) {
  auto db = testing::MakeTestDatabase(testing::Engine::kPostgres);
  auto opened = Open(db->url(), 3);
  RK_ASSERT_OK(opened);
  Store& store = **opened;
  RK_ASSERT_OK(store.Migrate());
  // Open all three pooled connections.
  {
    auto a = store.Begin(TxMode::kRead);
    auto b = store.Begin(TxMode::kRead);
    auto c = store.Begin(TxMode::kWrite);
    RK_ASSERT_OK(a);
    RK_ASSERT_OK(b);
    RK_ASSERT_OK(c);
    RK_ASSERT_OK((*c)->PutSetting("k", "v"));
    RK_ASSERT_OK((*c)->Commit());
  }
  size_t at = db->url().find("dbname=");
  ASSERT_NE(at, std::string::npos);
  std::string name = db->url().substr(at + 7);
  PGconn* admin = PQconnectdb(std::getenv("RENKEI_TEST_PG_URL"));
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK) << PQerrorMessage(admin);
  std::string kill =
      "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name +
      "' AND pid <> pg_backend_pid()";
  PGresult* res = PQexec(admin, kill.c_str());
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(admin);
  EXPECT_EQ(std::string(PQgetvalue(res, 0, 0)), "3");
  PQclear(res);
  PQfinish(admin);

  auto v = RunInTransactionWithResult<std::optional<std::string>>(
      store, TxMode::kRead, [](Transaction& tx) { return tx.GetSetting("k"); });
  RK_ASSERT_OK(v);
  EXPECT_EQ(v->value_or(""), "v");
  RK_ASSERT_OK(RunInTransaction(store, TxMode::kWrite,
                                [](Transaction& tx) { return tx.PutSetting("k", "w"); }));
}

// Someone deletes the newest audit rows with the sqlite3 shell: appends go on from the
// recorded chain head, so the gap stays visible to audit::Verify instead of being papered over.
TEST(AuditTamperTest, TruncatedLogKeepsTheRecordedHead) {
  auto db = testing::MakeTestDatabase(testing::Engine::kSqlite);
  auto opened = Open(db->url(), 1);
  RK_ASSERT_OK(opened);
  Store& store = **opened;
  RK_ASSERT_OK(store.Migrate());
  RK_ASSERT_OK(RunInTransaction(store, TxMode::kWrite, [](Transaction& tx) {
    std::vector<AuditRow> rows(3);
    for (int i = 0; i < 3; ++i) {
      rows[i].seq = i + 1;
      rows[i].hash = "h" + std::to_string(i + 1);
    }
    return tx.AppendAudit(rows);
  }));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db->url().substr(7).c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DELETE FROM audit_log WHERE seq = 3", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);

  auto tail = RunInTransactionWithResult<std::optional<AuditRow>>(
      store, TxMode::kWrite, [](Transaction& tx) { return tx.AuditTail(); });
  RK_ASSERT_OK(tail);
  ASSERT_TRUE(tail->has_value());
  EXPECT_EQ((*tail)->seq, 3);
  EXPECT_EQ((*tail)->hash, "h3");
  RK_ASSERT_OK(RunInTransaction(store, TxMode::kWrite, [](Transaction& tx) {
    AuditRow next;
    next.seq = 4;
    next.prev_hash = "h3";
    next.hash = "h4";
    return tx.AppendAudit({next});
  }));
  auto all = RunInTransactionWithResult<std::vector<AuditRow>>(
      store, TxMode::kRead, [](Transaction& tx) { return tx.ScanAudit(1, 10); });
  RK_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);  // 1, 2, 4: the missing 3 is there to be found
  EXPECT_EQ((*all)[2].seq, 4);
}

TEST(RetryTest, RetryableFailuresAreRetriedThenBecomeUnavailable) {
  auto store = testing::MakeTestStore(testing::Engine::kSqlite);
  int calls = 0;
  Status s = RunInTransaction(
      *store, TxMode::kWrite,
      [&](Transaction&) -> Status {
        ++calls;
        return Error(ErrorCode::kRetryable, "simulated serialization failure");
      },
      3);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(calls, 3);
}

TEST(RetryTest, SucceedsOnALaterAttemptAndCommitsOnlyThatOne) {
  auto store = testing::MakeTestStore(testing::Engine::kSqlite);
  int calls = 0;
  Status s = RunInTransaction(*store, TxMode::kWrite, [&](Transaction& tx) -> Status {
    ++calls;
    RK_TRY(tx.PutSetting("attempt", std::to_string(calls)));
    if (calls < 3) return Error(ErrorCode::kRetryable, "again");
    return Ok();
  });
  RK_ASSERT_OK(s);
  EXPECT_EQ(calls, 3);
  auto v = RunInTransactionWithResult<std::optional<std::string>>(
      *store, TxMode::kRead, [](Transaction& tx) { return tx.GetSetting("attempt"); });
  RK_ASSERT_OK(v);
  EXPECT_EQ(v->value_or(""), "3");
}

TEST(RetryTest, OtherErrorsAreNotRetriedAndRollBack) {
  auto store = testing::MakeTestStore(testing::Engine::kSqlite);
  int calls = 0;
  Status s = RunInTransaction(*store, TxMode::kWrite, [&](Transaction& tx) -> Status {
    ++calls;
    RK_TRY(tx.PutSetting("x", "1"));
    return Error(ErrorCode::kConflict, "business conflict");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(calls, 1);
  auto v = RunInTransactionWithResult<std::optional<std::string>>(
      *store, TxMode::kRead, [](Transaction& tx) { return tx.GetSetting("x"); });
  RK_ASSERT_OK(v);
  EXPECT_FALSE(v->has_value());
}

TEST(TestDatabaseTest, PostgresWithoutTheServerUrlFailsLoudly) {
  const char* saved = std::getenv("RENKEI_TEST_PG_URL");
  std::string keep = saved != nullptr ? saved : "";
  unsetenv("RENKEI_TEST_PG_URL");
  EXPECT_THROW(testing::MakeTestStore(testing::Engine::kPostgres), std::runtime_error);
  if (saved != nullptr) setenv("RENKEI_TEST_PG_URL", keep.c_str(), 1);
}

}  // namespace
}  // namespace renkei::store
