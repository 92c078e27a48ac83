#include "raw_exec.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <string>

namespace renkei::registry::testing {

std::string RawExec(renkei::testing::Engine engine, std::string_view url, std::string_view sql) {
  const std::string statement(sql);
  if (engine == renkei::testing::Engine::kSqlite) {
    std::string path(url);
    if (path.starts_with("sqlite:")) path.erase(0, 7);
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      std::string err = db ? sqlite3_errmsg(db) : "cannot open";
      sqlite3_close(db);
      return err;
    }
    sqlite3_busy_timeout(db, 5000);
    char* message = nullptr;
    std::string err;
    if (sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      err = message ? message : "sqlite error";
    }
    sqlite3_free(message);
    sqlite3_close(db);
    return err;
  }
  std::string conninfo(url);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return err;
  }
  PGresult* res = PQexec(conn, statement.c_str());
  std::string err;
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    err = PQerrorMessage(conn);
  }
  PQclear(res);
  PQfinish(conn);
  return err;
}

}  // namespace renkei::registry::testing
