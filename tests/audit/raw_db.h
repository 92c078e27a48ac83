// Raw SQL against the database behind a test store, through the engine's own client library
// (sqlite3 C API, libpq) and not through renkei: what someone tampering with the database
// file or server could do.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "support/test_db.h"

namespace renkei::testing {

class RawDb {
 public:
  virtual ~RawDb() = default;
  // Runs statements; fails the current test on error.
  virtual void Exec(std::string_view sql) = 0;
  // The first column of the first row as text ("" when there is none).
  virtual std::string QueryOne(std::string_view sql) = 0;

  // url as TestDatabase::url(): "sqlite:PATH" or a libpq connection string.
  static std::unique_ptr<RawDb> Open(Engine engine, std::string_view url);
};

}  // namespace renkei::testing
