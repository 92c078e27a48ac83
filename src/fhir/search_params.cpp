#include "fhir/search_params.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/clock.h"
#include "core/text.h"
#include "fhir/validation.h"

namespace renkei::fhir {
namespace {

Error BadParam(std::string_view name, std::string message) {
  return Error(ErrorCode::kInvalid, fmt::format("search parameter '{}': {}", name, message),
               {Issue{Issue::Severity::kError, "invalid", std::string(name),
                      fmt::format("search parameter '{}': {}", name, message)}});
}

// Splits on unescaped sep and removes the FHIR search escapes (\, \| \$ \\).
std::vector<std::string> SplitEscaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back().push_back(s[++i]);
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// Index of the first unescaped ch, or npos.
size_t FindUnescaped(std::string_view s, char ch) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == ch) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string Unescape(std::string_view s) {
  return SplitEscaped(s, '\0').front();
}

struct DateRange {
  TimePoint start;
  TimePoint end;        // exclusive
  size_t prefix_chars;  // FormatInstant characters fixed by the precision
};

std::optional<DateRange> ParseDateRange(std::string_view s) {
  auto start = ParseDateTime(s);
  if (!start) return std::nullopt;
  using namespace std::chrono;
  DateRange r{*start, *start, 0};
  if (s.size() == 4 || s.size() == 7 || s.size() == 10) {
    if (!IsFhirDate(s)) return std::nullopt;
    year_month_day ymd(floor<days>(*start));
    if (s.size() == 4) {
      r.end = sys_days(year_month_day(ymd.year() + years(1), month(1), day(1)));
    } else if (s.size() == 7) {
      r.end = sys_days(year_month_day(ymd.year(), ymd.month(), day(1)) + months(1));
    } else {
      r.end = *start + days(1);
    }
    r.prefix_chars = s.size();
    return r;
  }
  size_t t = s.find('T');
  if (t == std::string_view::npos || s.size() < t + 6) return std::nullopt;
  if (s.size() > t + 6 && s[t + 6] == ':') {
    if (s.size() > t + 9 && s[t + 9] == '.') {
      r.end = *start + milliseconds(1);
      r.prefix_chars = 23;
    } else {
      r.end = *start + seconds(1);
      r.prefix_chars = 19;
    }
  } else {
    r.end = *start + minutes(1);
    r.prefix_chars = 16;
  }
  return r;
}

Status AddDate(std::string_view name, const std::vector<std::string>& values, SearchCriterion& c) {
  bool first = true;
  for (const auto& raw : values) {
    std::string_view v = raw;
    std::string prefix = "eq";
    if (v.size() >= 2 && std::isalpha(static_cast<unsigned char>(v[0])) &&
        std::isalpha(static_cast<unsigned char>(v[1]))) {
      prefix = std::string(v.substr(0, 2));
      v.remove_prefix(2);
    }
    auto range = ParseDateRange(v);
    if (!range) return BadParam(name, fmt::format("'{}' is not a FHIR date or dateTime", raw));
    SearchOp op;
    std::string value;
    if (prefix == "eq") {
      op = SearchOp::kPrefix;
      value = FormatInstant(range->start).substr(0, range->prefix_chars);
    } else if (prefix == "lt" || prefix == "eb") {
      op = SearchOp::kLt;
      value = FormatInstant(range->start);
    } else if (prefix == "le") {
      op = SearchOp::kLt;
      value = FormatInstant(range->end);
    } else if (prefix == "gt" || prefix == "sa") {
      op = SearchOp::kGe;
      value = FormatInstant(range->end);
    } else if (prefix == "ge") {
      op = SearchOp::kGe;
      value = FormatInstant(range->start);
    } else {
      return BadParam(
          name, fmt::format("prefix '{}' is not supported (eq, lt, le, gt, ge, sa, eb)", prefix));
    }
    if (!first && op != c.op) {
      return BadParam(name, "comma-separated dates must use one kind of comparison");
    }
    c.op = op;
    c.values.push_back(std::move(value));
    first = false;
  }
  return Ok();
}

Status AddToken(const SearchParamDef& def, const std::vector<std::string>& values,
                SearchCriterion& c) {
  bool first = true;
  for (const auto& raw : values) {
    size_t bar = FindUnescaped(raw, '|');
    bool has_system = bar != std::string::npos;
    std::string system = has_system ? Unescape(std::string_view(raw).substr(0, bar)) : "";
    std::string code = Unescape(has_system ? std::string_view(raw).substr(bar + 1) : raw);
    SearchOp op = SearchOp::kEq;
    if (code.empty()) {
      if (!has_system || system.empty()) return BadParam(def.name, "a token needs a code");
      // "system|": any code of that system, i.e. a criterion without values.
      if (values.size() > 1) return BadParam(def.name, "'system|' cannot be combined with ','");
      c.has_system = true;
      c.system = std::move(system);
      return Ok();
    }
    if (def.fold_token_value) {
      code = text::SearchKey(code);
    }
    if (!first && (has_system != c.has_system || system != c.system || op != c.op)) {
      return BadParam(def.name, "comma-separated tokens must share one system");
    }
    c.has_system = has_system;
    c.system = std::move(system);
    c.op = op;
    c.values.push_back(std::move(code));
    first = false;
  }
  return Ok();
}

// _sort (FHIR search §3.1.1.5.9): one order, not a comma-separated list. "date" / "-date"
// only where the type defines a date parameter named "date" (its clinical date); the error
// names the orders this type allows.
Status ParseSort(std::string_view value, const std::vector<SearchParamDef>& params,
                 SearchRequest& out) {
  const bool has_date = std::any_of(params.begin(), params.end(), [](const SearchParamDef& d) {
    return d.name == "date" && d.kind == SearchParamKind::kDate;
  });
  out.newest_first = false;
  out.sort_param.clear();
  out.sort_descending = false;
  if (value == "-_lastUpdated") {
    out.newest_first = true;
  } else if (value == "_lastUpdated") {
    out.sort_param = "_lastUpdated";
  } else if (value == "_id") {
    // the default order
  } else if (has_date && (value == "date" || value == "-date")) {
    out.sort_param = "date";
    out.sort_descending = value == "-date";
  } else {
    return BadParam("_sort", fmt::format("'{}' is not a supported order; supported: {}", value,
                                         has_date ? "date, -date, _lastUpdated, -_lastUpdated, _id"
                                                  : "_lastUpdated, -_lastUpdated, _id"));
  }
  return Ok();
}

}  // namespace

const std::vector<SearchParamDef>& CommonSearchParams() {
  static const std::vector<SearchParamDef> kCommon = {
      {"_id", SearchParamKind::kToken, "", false, "Logical id of the resource"},
      {"_lastUpdated", SearchParamKind::kDate, "", false, "When the resource last changed"},
  };
  return kCommon;
}

bool PrefersLenient(std::string_view prefer) {
  return prefer.find("handling=lenient") != std::string_view::npos;
}

Result<SearchRequest> ParseSearch(const QueryParams& query,
                                  const std::vector<SearchParamDef>& params, const Limits& limits,
                                  bool lenient) {
  SearchRequest out;
  out.count = limits.default_page_size;
  for (const auto& [full_name, value] : query) {
    size_t colon = full_name.find(':');
    std::string name = full_name.substr(0, colon);
    std::string modifier = colon == std::string::npos ? "" : full_name.substr(colon + 1);
    if (name == "_count") {
      int64_t n = -1;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n < 0) {
        return BadParam(name, "must be a non-negative integer");
      }
      if (n == 0) {
        out.total_only = true;
        out.count = 1;
      } else {
        out.count = std::min(static_cast<size_t>(n), limits.max_page_size);
      }
      continue;
    }
    if (name == "_cursor") {
      out.cursor = value;
      continue;
    }
    if (name == "_format") {
      if (value != "json" && value != "application/fhir+json" && value != "application/json") {
        return BadParam(name, "only json is served");
      }
      continue;
    }
    if (name == "_pretty") continue;
    if (name == "_summary") {
      if (value != "count") return BadParam(name, "only _summary=count is supported");
      out.total_only = true;
      out.count = 1;
      out.echo.emplace_back(full_name, value);
      continue;
    }
    if (name == "_total") {
      if (value == "none") {
        out.include_total = false;
      } else if (value == "accurate" || value == "estimate") {
        out.include_total = true;
      } else {
        return BadParam(name, "must be none, estimate or accurate");
      }
      out.echo.emplace_back(full_name, value);
      continue;
    }
    if (name == "_sort") {
      RK_TRY(ParseSort(value, params, out));
      out.echo.emplace_back(full_name, value);
      continue;
    }
    const SearchParamDef* def = nullptr;
    for (const auto& d : params)
      if (d.name == name) def = &d;
    for (const auto& d : CommonSearchParams())
      if (d.name == name) def = &d;
    if (def == nullptr) {
      if (lenient) continue;
      return BadParam(name, "unknown search parameter");
    }
    if (value.empty()) continue;  // FHIR: a parameter without a value is ignored

    SearchCriterion c;
    c.param = def->name;
    std::vector<std::string> values = SplitEscaped(value, ',');
    // Keep escapes for tokens (a '|' inside a code), unescaped for everything else.
    std::vector<std::string> raw_values;
    {
      std::string cur;
      for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          cur += value[i];
          cur += value[++i];
        } else if (value[i] == ',') {
          raw_values.push_back(std::move(cur));
          cur.clear();
        } else {
          cur += value[i];
        }
      }
      raw_values.push_back(std::move(cur));
    }
    for (const auto& v : values)
      if (v.empty()) return BadParam(full_name, "empty value in a comma-separated list");

    switch (def->kind) {
      case SearchParamKind::kToken:
        if (!modifier.empty()) {
          return BadParam(full_name, fmt::format("modifier ':{}' is not supported", modifier));
        }
        RK_TRY(AddToken(*def, raw_values, c));
        break;
      case SearchParamKind::kString:
        if (modifier.empty()) {
          c.op = SearchOp::kPrefix;
        } else if (modifier == "exact") {
          c.op = SearchOp::kEq;  // exact after kana/width folding
        } else {
          return BadParam(full_name, fmt::format("modifier ':{}' is not supported", modifier));
        }
        for (const auto& v : values) {
          std::string key = text::SearchKey(v);
          if (key.empty()) return BadParam(full_name, "the value has no searchable characters");
          c.values.push_back(std::move(key));
        }
        break;
      case SearchParamKind::kReference: {
        if (!modifier.empty() && modifier != def->target_type) {
          return BadParam(full_name, fmt::format("modifier ':{}' is not supported", modifier));
        }
        c.op = SearchOp::kEq;
        for (const auto& v : values) {
          std::string ref = v;
          if (ref.find('/') == std::string::npos) {
            if (def->target_type.empty()) return BadParam(full_name, "use Type/id");
            ref = def->target_type + "/" + ref;
          } else {
            // Absolute URLs: keep the last two segments ([base]/Type/id).
            size_t last = ref.rfind('/');
            size_t prev = ref.rfind('/', last - 1);
            if (prev != std::string::npos) ref = ref.substr(prev + 1);
          }
          auto parsed = ParseReference(ref);
          if (!parsed) return BadParam(full_name, fmt::format("'{}' is not a reference", v));
          if (!def->target_type.empty() && parsed->first != def->target_type) {
            return BadParam(full_name, fmt::format("must refer to a {}", def->target_type));
          }
          c.values.push_back(std::move(ref));
        }
        break;
      }
      case SearchParamKind::kDate:
        if (!modifier.empty()) {
          return BadParam(full_name, fmt::format("modifier ':{}' is not supported", modifier));
        }
        RK_TRY(AddDate(full_name, values, c));
        break;
    }
    out.criteria.push_back(std::move(c));
    out.echo.emplace_back(full_name, value);
  }
  return out;
}

std::string PageQuery(const SearchRequest& search, std::string_view cursor) {
  QueryParams params = search.echo;
  params.emplace_back("_count", search.total_only ? "0" : std::to_string(search.count));
  if (!cursor.empty()) params.emplace_back("_cursor", std::string(cursor));
  return BuildQueryString(params);
}

}  // namespace renkei::fhir
