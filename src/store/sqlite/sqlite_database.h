// SQLite engine of the store: one writer connection guarded by a mutex (write transactions
// hold it from BEGIN IMMEDIATE to COMMIT/ROLLBACK) and a pool of WAL reader connections.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "store/sql.h"

namespace renkei::store::sqlite {

struct Options {
  // true: synchronous=FULL, the WAL is fsynced at every commit, so an acknowledged write
  // survives power loss. false: synchronous=NORMAL, it survives a crash of the process
  // (kill -9) but the last commits may be lost on power loss; about 3x the commit rate.
  bool sync_every_commit = true;
  // Page cache of the one writer connection, in MiB (`writer_cache_mb=N`, 16..4096): the
  // inner and hot leaf pages of the index b-trees the writer inserts into at random keys.
  int writer_cache_mb = 128;
};

// Parses "PATH[?synchronous=full|normal][&writer_cache_mb=N]" (the part of a "sqlite:" URL
// after the scheme).
// kInvalid for an empty path or an unknown option.
Result<std::pair<std::string, Options>> ParseLocation(std::string_view location);

// Opens (creating if needed) the database file at path, or a private in-memory database
// when path is ":memory:" (then one shared connection serves reads and writes).
// readers: the most reader connections opened at once (at least 1). Does not migrate.
Result<std::unique_ptr<sql::Database>> OpenDatabase(std::string_view path, int readers,
                                                    const Options& options = {});

}  // namespace renkei::store::sqlite
