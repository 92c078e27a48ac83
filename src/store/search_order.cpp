#include "store/search_order.h"

#include "core/crypto.h"
#include "store/sql_store.h"

namespace renkei::store::internal {

Order OrderOf(const SearchQuery& q) {
  if (q.sort_param == "_id") return {OrderKey::kId, q.sort_descending, ""};
  if (q.sort_param == "_lastUpdated") return {OrderKey::kUpdated, q.sort_descending, ""};
  if (!q.sort_param.empty()) return {OrderKey::kTerm, q.sort_descending, q.sort_param};
  if (q.newest_first) return {OrderKey::kUpdated, true, ""};
  return {OrderKey::kId, false, ""};
}

namespace {

void AppendCounted(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
}

// Reads "<n>:<n bytes>" at pos (advanced past it); nullopt when malformed.
std::optional<std::string> TakeCounted(std::string_view raw, size_t& pos) {
  size_t colon = raw.find(':', pos);
  if (colon == std::string_view::npos || colon == pos || colon - pos > 9) return std::nullopt;
  size_t n = 0;
  for (size_t i = pos; i < colon; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(raw[i] - '0');
  }
  if (raw.size() - (colon + 1) < n) return std::nullopt;
  pos = colon + 1 + n;
  return std::string(raw.substr(colon + 1, n));
}

}  // namespace

std::string EncodeCursor(const Order& order, const ResourceRow& last,
                         const std::optional<std::string>& value) {
  std::string raw;
  switch (order.key) {
    case OrderKey::kId:
      raw = (order.descending ? "I:" : "i:") + last.id;
      break;
    case OrderKey::kUpdated:
      raw = (order.descending ? "t:" : "T:") + std::to_string(Micros(last.last_updated)) + ":" +
            last.id;
      break;
    case OrderKey::kTerm:
      raw = order.descending ? "sd:" : "sa:";
      AppendCounted(raw, order.param);
      if (value) {
        raw += 'v';
        AppendCounted(raw, *value);
      } else {
        raw += 'n';
      }
      raw += last.id;
      break;
  }
  return crypto::Base64UrlEncode(raw);
}

Result<Cursor> DecodeCursor(std::string_view text, const Order& order) {
  auto bad = Error(ErrorCode::kInvalid, "invalid paging cursor (or one from another _sort)");
  auto decoded = crypto::Base64UrlDecode(text);
  if (!decoded || decoded->size() < 2) return bad;
  const std::string_view raw = *decoded;
  Cursor c;
  switch (order.key) {
    case OrderKey::kId:
      if (raw.substr(0, 2) != (order.descending ? "I:" : "i:")) return bad;
      c.id = std::string(raw.substr(2));
      break;
    case OrderKey::kUpdated: {
      if (raw.substr(0, 2) != (order.descending ? "t:" : "T:")) return bad;
      size_t colon = raw.find(':', 2);
      if (colon == std::string_view::npos || colon == 2) return bad;
      std::string num(raw.substr(2, colon - 2));
      for (char ch : num) {
        if ((ch < '0' || ch > '9') && ch != '-') return bad;
      }
      try {
        c.micros = std::stoll(num);
      } catch (...) {
        return bad;
      }
      c.id = std::string(raw.substr(colon + 1));
      break;
    }
    case OrderKey::kTerm: {
      if (raw.substr(0, 3) != (order.descending ? "sd:" : "sa:")) return bad;
      size_t pos = 3;
      auto param = TakeCounted(raw, pos);
      if (!param || *param != order.param || pos >= raw.size()) return bad;
      if (raw[pos] == 'v') {
        ++pos;
        c.value = TakeCounted(raw, pos);
        if (!c.value) return bad;
      } else if (raw[pos] == 'n') {
        ++pos;
      } else {
        return bad;
      }
      c.id = std::string(raw.substr(pos));
      break;
    }
  }
  if (c.id.empty()) return bad;
  return c;
}

}  // namespace renkei::store::internal
