// PostgreSQL engine of the store over libpq: a pool of connections, each with its own cache
// of prepared statements.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "store/sql.h"

namespace renkei::store::postgres {

// Connects to conninfo (a "postgresql://" URL or a libpq keyword string such as
// "host=/run/postgresql dbname=renkei"); pool_size connections at most (opened on demand,
// the first one now to report a bad address early). Does not migrate.
Result<std::unique_ptr<sql::Database>> OpenDatabase(std::string_view conninfo, int pool_size);

}  // namespace renkei::store::postgres
