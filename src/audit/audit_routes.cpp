#include "audit/audit_routes.h"

#include <fmt/format.h>

#include <charconv>

#include "audit/audit_event.h"
#include "core/ids.h"
#include "core/limits.h"
#include "fhir/operation_outcome.h"

namespace renkei::audit {
namespace {

constexpr std::string_view kResourceType = "AuditEvent";

struct AuditSearch {
  store::AuditFilter filter;
  // The query as received (minus _cursor), re-emitted in the paging links.
  std::vector<std::pair<std::string, std::string>> echo;
};

Issue ParamIssue(std::string_view param, std::string text) {
  Issue i;
  i.expression = std::string(param);
  i.text = std::move(text);
  return i;
}

bool ParsePositive(std::string_view text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out > 0;
}

// The token's code: "system|code" -> "code".
std::string_view TokenCode(std::string_view v) {
  size_t bar = v.find('|');
  return bar == std::string_view::npos ? v : v.substr(bar + 1);
}

// Applies one date parameter (FHIR search prefixes, http://hl7.org/fhir/R4/search.html#prefix).
// A value without a time stands for its whole day (or month/year).
bool ApplyDate(std::string_view value, store::AuditFilter& f) {
  std::string_view prefix = "eq";
  if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0]))) {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  std::optional<TimePoint> start = ParseDateTime(value);
  if (!start) return false;
  // The end of the period the value names (exclusive).
  TimePoint end = *start + std::chrono::microseconds(1);
  if (value.find('T') == std::string_view::npos) {
    auto days = std::chrono::floor<std::chrono::days>(*start);
    std::chrono::year_month_day ymd(days);
    if (value.size() == 4) {
      end = std::chrono::sys_days(ymd + std::chrono::years(1));
    } else if (value.size() == 7) {
      end = std::chrono::sys_days(ymd + std::chrono::months(1));
    } else {
      end = std::chrono::sys_days(days + std::chrono::days(1));
    }
  }
  const TimePoint last = end - std::chrono::microseconds(1);  // inclusive end
  auto tighten_since = [&](TimePoint t) {
    if (!f.since || t > *f.since) f.since = t;
  };
  auto tighten_until = [&](TimePoint t) {
    if (!f.until || t < *f.until) f.until = t;
  };
  if (prefix == "eq") {
    tighten_since(*start);
    tighten_until(last);
  } else if (prefix == "ge") {
    tighten_since(*start);
  } else if (prefix == "gt") {
    tighten_since(end);
  } else if (prefix == "le") {
    tighten_until(last);
  } else if (prefix == "lt") {
    tighten_until(*start - std::chrono::microseconds(1));
  } else {
    return false;
  }
  return true;
}

Result<AuditSearch> ParseSearch(const Request& req) {
  const Limits limits;
  AuditSearch s;
  s.filter.count = limits.default_page_size;
  std::vector<Issue> issues;
  for (const auto& [name, value] : req.query) {
    if (name != "_cursor") s.echo.emplace_back(name, value);
    if (name == "patient") {
      std::string_view id = value;
      if (id.starts_with("Patient/")) id.remove_prefix(8);
      if (!IsValidFhirId(id)) {
        issues.push_back(ParamIssue("patient", "patient must be a Patient id or Patient/<id>"));
      } else {
        s.filter.patient_id = std::string(id);
      }
    } else if (name == "date") {
      if (!ApplyDate(value, s.filter)) {
        issues.push_back(ParamIssue(
            "date", "date must be a FHIR dateTime with an optional eq/ge/gt/le/lt prefix"));
      }
    } else if (name == "agent") {
      std::string_view code = TokenCode(value);
      if (code.empty()) {
        issues.push_back(ParamIssue("agent", "agent must be a facility code"));
      } else {
        s.filter.facility_code = std::string(code);
      }
    } else if (name == "purpose") {
      std::string_view code = TokenCode(value);
      if (code.empty()) {
        issues.push_back(ParamIssue("purpose", "purpose must be a PurposeOfUse code"));
      } else {
        s.filter.purpose = std::string(code);
      }
    } else if (name == "_count") {
      int64_t n = 0;
      if (!ParsePositive(value, n)) {
        issues.push_back(ParamIssue("_count", "_count must be a positive integer"));
      } else {
        // Larger pages are cut to the limit, as FHIR search allows.
        s.filter.count = std::min<size_t>(static_cast<size_t>(n), limits.max_page_size);
      }
    } else if (name == "_cursor") {
      int64_t seq = 0;
      if (!ParsePositive(value, seq)) {
        issues.push_back(ParamIssue("_cursor", "_cursor must be a cursor from a next link"));
      } else {
        s.filter.before_seq = seq;
      }
    } else {
      issues.push_back(ParamIssue(name, fmt::format("unknown search parameter '{}'", name)));
    }
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kInvalid, "invalid AuditEvent search", std::move(issues));
  }
  return s;
}

std::string PercentEncode(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string SearchUrl(const Request& req, const AuditSearch& s, int64_t cursor) {
  std::string url = req.base_url + "/fhir/AuditEvent";
  char sep = '?';
  for (const auto& [name, value] : s.echo) {
    url += sep;
    url += PercentEncode(name) + "=" + PercentEncode(value);
    sep = '&';
  }
  if (cursor > 0) {
    url += sep;
    url += "_cursor=" + std::to_string(cursor);
  }
  return url;
}

json::object Link(std::string_view relation, std::string url) {
  json::object l;
  l["relation"] = relation;
  l["url"] = std::move(url);
  return l;
}

Response Search(store::Store& store, AuditLog& log, const Clock& clock, Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  auto parsed = ParseSearch(req);
  const std::string patient_id =
      parsed.ok() && parsed->filter.patient_id ? *parsed->filter.patient_id : std::string();
  if (who.facility_type != FacilityType::kMinistry) {
    Status s = log.Record(EntryFor(who, patient_id, "search", kResourceType, "HOPERAT", "denied"));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, "only the ministry may search the audit log"));
  }
  if (!parsed.ok()) {
    Status s = log.Record(EntryFor(who, "", "search", kResourceType, "HOPERAT", "error"));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
    return fhir::ErrorResponse(parsed.error());
  }
  AuditSearch& search = *parsed;
  const size_t page = search.filter.count;
  store::AuditFilter probe = search.filter;
  probe.count = page + 1;  // one more tells whether a next page exists
  auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
      store, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(probe); });
  if (!rows.ok()) {
    (void)log.Record(EntryFor(who, patient_id, "search", kResourceType, "HOPERAT", "error"));
    return fhir::ErrorResponse(rows.error());
  }
  const bool more = rows->size() > page;
  if (more) rows->resize(page);

  // The search is audited before any entry leaves (DESIGN.md §3.1).
  AuditEntry entry = EntryFor(who, patient_id, "search", kResourceType, "HOPERAT");
  entry.detail = fmt::format("{{\"returned\":{}}}", rows->size());
  Status recorded = log.Record(std::move(entry));
  if (!recorded.ok()) return fhir::ErrorResponse(recorded.error());

  json::array entries;
  for (const store::AuditRow& row : *rows) {
    json::object e;
    e["fullUrl"] = req.base_url + "/fhir/AuditEvent/" + std::to_string(row.seq);
    e["resource"] = ToAuditEvent(row);
    json::object mode;
    mode["mode"] = "match";
    e["search"] = std::move(mode);
    entries.emplace_back(std::move(e));
  }
  json::array links;
  links.emplace_back(Link("self", SearchUrl(req, search, search.filter.before_seq)));
  if (more) links.emplace_back(Link("next", SearchUrl(req, search, rows->back().seq)));
  json::object meta;
  meta["lastUpdated"] = FormatInstant(clock.Now());
  json::object bundle;
  bundle["resourceType"] = "Bundle";
  bundle["id"] = NewId();
  bundle["meta"] = std::move(meta);
  bundle["type"] = "searchset";
  bundle["link"] = std::move(links);
  bundle["entry"] = std::move(entries);
  return Response::Json(200, json::Serialize(bundle));
}

}  // namespace

RouteTable AuditRoutes(store::Store& store, AuditLog& log, const Clock& clock) {
  RouteTable routes;
  Route search;
  search.method = Method::kGet;
  search.pattern = "/fhir/AuditEvent";
  search.interaction = Interaction::kSearchType;
  search.resource_type = std::string(kResourceType);
  search.auth = AuthRequirement::kToken;
  // Entries name patients, but the ministry's oversight role (not consent) governs them.
  search.returns_patient_data = false;
  search.summary = "Search the access log (ministry only); paged newest first";
  search.handler = [&store, &log, &clock](Request& req) { return Search(store, log, clock, req); };
  routes.push_back(std::move(search));
  return routes;
}

}  // namespace renkei::audit
