// Real databases for tests (DESIGN.md §3.5: no mocks). Every store-backed test gets a fresh,
// private database on each engine and throws it away afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace renkei::testing {

enum class Engine { kSqlite, kPostgres };

// "sqlite" / "postgres", for test names.
std::string EngineName(Engine e);

// Every engine; suites are instantiated over this list (PostgreSQL included always: a test
// binary needing it is declared with renkei_test(... POSTGRES ...)).
std::vector<Engine> AllEngines();

// A fresh, empty (not migrated) database, removed when this object is destroyed.
// kSqlite: a new file in $TMPDIR (or /tmp); kPostgres: a new database with a random name on
// the server named by the environment variable RENKEI_TEST_PG_URL. Throws std::runtime_error
// with a clear message when that variable is unset or the server refuses (GoogleTest reports
// the exception as a failure of the calling test; nothing is skipped).
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  // The URL to pass to store::Open() or to the server's --database flag.
  virtual const std::string& url() const = 0;
};
std::unique_ptr<TestDatabase> MakeTestDatabase(Engine e);

// A migrated Store on a fresh database (MakeTestDatabase); destroying the Store closes its
// connections and then removes the database. pool_size as in store::Open.
std::unique_ptr<store::Store> MakeTestStore(Engine e, int pool_size = 4);

}  // namespace renkei::testing
