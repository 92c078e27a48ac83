// One SQLite connection (sqlite3 C API) with its cache of prepared statements.
#pragma once

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

}  // namespace renkei::store::sqlite
