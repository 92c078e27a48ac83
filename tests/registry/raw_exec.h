// Runs SQL on a test database behind renkei's back (sqlite3 C API or libpq), to break the
// environment on purpose (e.g. make audit appends fail).
#pragma once

#include <string_view>

#include "support/test_db.h"

namespace renkei::registry::testing {

// Executes sql on the database at url (TestDatabase::url()); returns "" or the error text.
std::string RawExec(renkei::testing::Engine engine, std::string_view url, std::string_view sql);

}  // namespace renkei::registry::testing
