// One SQLite connection (sqlite3 C API) with its cache of prepared statements.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "store/sql.h"
#include "store/sqlite/sqlite_database.h"

namespace renkei::store::sqlite {

// Opens a connection to path with the store's pragmas: the writer switches the file to WAL;
// readers are query_only. memory: path is ":memory:" (no WAL, no mmap).
Result<std::unique_ptr<sql::Connection>> OpenConnection(const std::string& path, bool writer,
                                                        bool memory, const Options& options);

// True while conn (made by OpenConnection) is inside a transaction.
bool InTransaction(sql::Connection& conn);

// Takes checkpoints off the writer's commits: SQLite no longer copies the WAL into the
// database inside whichever COMMIT crosses its threshold. Instead `after_commit(wal_pages)` is
// called after every commit of `writer` (on the committing thread; it must not block); when it
// returns true, the writer runs a PASSIVE checkpoint there and then, as SQLite would have.
// `after_commit` must outlive the connection.
Status DeferCheckpoints(sql::Connection& writer, std::function<bool(int)>* after_commit);

// A PASSIVE checkpoint on conn: copies the WAL frames no reader still needs into the database
// without ever waiting for the writer or the readers.
Status CheckpointPassive(sql::Connection& conn);

}  // namespace renkei::store::sqlite
