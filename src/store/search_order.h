// The order of a store search and its paging cursors (internal to the SQL store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace renkei::store::internal {

// The order of a search: the id, the version time or an index term, and its direction.
enum class OrderKey { kId, kUpdated, kTerm };

struct Order {
  OrderKey key = OrderKey::kId;
  bool descending = false;
  std::string param;  // kTerm: the index term's parameter
};

// The order a query asks for (sort_param, sort_descending, or the older newest_first).
Order OrderOf(const SearchQuery& q);

// Cursors are base64url of the last row's sort key; the prefix names the order, so a cursor
// made under another order is refused rather than silently skipping or repeating rows:
//   "i:<id>" id ascending, "I:<id>" id descending,
//   "t:<micros>:<id>" newest first, "T:<micros>:<id>" oldest first,
//   "s<a|d>:<n>:<param>" then "n" (no term) or "v<n>:<value>", then <id>: by an index term.
// Lengths keep values with any bytes (':' in instants) unambiguous.
struct Cursor {
  int64_t micros = 0;
  std::optional<std::string> value;  // kTerm: the row's sort value; nullopt when it had none
  std::string id;
};

// The cursor after `last` (value: its sort value under a term order, nullopt when it had none).
std::string EncodeCursor(const Order& order, const ResourceRow& last,
                         const std::optional<std::string>& value);

// kInvalid for a malformed cursor or one made under another order.
Result<Cursor> DecodeCursor(std::string_view text, const Order& order);

}  // namespace renkei::store::internal
