#include "store/sql.h"

#include <utility>

namespace renkei::store::sql {

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr && conn_ != nullptr) db_->Release(conn_, mode_);
    db_ = std::exchange(o.db_, nullptr);
    conn_ = std::exchange(o.conn_, nullptr);
    mode_ = o.mode_;
  }
  return *this;
}

Lease::~Lease() {
  if (db_ != nullptr && conn_ != nullptr) db_->Release(conn_, mode_);
}

std::string DollarToQuestion(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // inside '...' or "..." when set
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote re-enters on the next character
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

std::string ValuesRows(size_t rows, size_t columns) {
  std::string s;
  for (size_t i = 0; i < rows; ++i) {
    s += i > 0 ? ", (" : "(";
    for (size_t k = 1; k <= columns; ++k) {
      if (k > 1) s += ", ";
      s += "$" + std::to_string(i * columns + k);
    }
    s += ")";
  }
  return s;
}

std::string PrefixUpperBound(std::string_view prefix) {
  // U+10FFFF is the largest code point; in UTF-8 (F4 8F BF BF) it sorts after every other
  // character, so prefix + U+10FFFF bounds all strings that start with prefix (a stored value
  // containing U+10FFFF itself, a noncharacter, is the only exception).
  std::string out(prefix);
  out += "\xF4\x8F\xBF\xBF";
  return out;
}

}  // namespace renkei::store::sql
