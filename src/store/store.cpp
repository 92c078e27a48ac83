#include "store/store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <thread>

#include "store/postgres/pg_database.h"
#include "store/sql_store.h"
#include "store/sqlite/sqlite_database.h"

namespace renkei::store {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// libpq keyword form: "host=... dbname=..." (the first word is a keyword followed by '=').
bool IsKeywordConninfo(std::string_view url) {
  size_t i = 0;
  while (i < url.size() && std::isspace(static_cast<unsigned char>(url[i]))) ++i;
  size_t start = i;
  while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) || url[i] == '_')) {
    ++i;
  }
  while (i < url.size() && url[i] == ' ') ++i;
  return i > start && i < url.size() && url[i] == '=';
}

}  // namespace

Result<std::unique_ptr<Store>> Open(std::string_view url, int pool_size) {
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://") ||
      IsKeywordConninfo(url)) {
    RK_ASSIGN_OR_RETURN(auto db, postgres::OpenDatabase(url, pool_size));
    return MakeSqlStore(std::move(db));
  }
  std::string_view location = url;
  if (StartsWith(location, "sqlite:")) location.remove_prefix(7);
  RK_ASSIGN_OR_RETURN(auto parsed, sqlite::ParseLocation(location));
  RK_ASSIGN_OR_RETURN(auto db, sqlite::OpenDatabase(parsed.first, pool_size, parsed.second));
  return MakeSqlStore(std::move(db));
}

Status RunInTransaction(Store& store, TxMode mode, const std::function<Status(Transaction&)>& fn,
                        int max_attempts) {
  // Back-off: full jitter over an exponentially growing window, 1 ms doubling up to 100 ms
  // (with the default 8 attempts the total wait stays well under a second).
  constexpr auto kBase = std::chrono::microseconds(1000);
  constexpr auto kCap = std::chrono::microseconds(100000);
  thread_local std::minstd_rand rng(std::random_device{}());
  if (max_attempts < 1) max_attempts = 1;
  std::optional<Error> last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    Status s = [&]() -> Status {
      RK_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> tx, store.Begin(mode));
      RK_TRY(fn(*tx));
      return tx->Commit();
    }();
    if (s.ok()) return s;
    if (s.error().code() != ErrorCode::kRetryable) return s;
    last = std::move(s).error();
    if (attempt == max_attempts) break;
    auto window = std::min(kCap, kBase * (int64_t{1} << std::min(attempt - 1, 20)));
    std::uniform_int_distribution<int64_t> pick(0, window.count());
    std::this_thread::sleep_for(std::chrono::microseconds(pick(rng)));
  }
  return Error(ErrorCode::kUnavailable, "database busy after " + std::to_string(max_attempts) +
                                            " attempts: " + last->message());
}

}  // namespace renkei::store
