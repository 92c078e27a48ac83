#include "access/privacy_review.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "access/notify_event.h"
#include "audit/audit_event.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/routes.h"
#include "fhir/url.h"

namespace renkei::access {
namespace {

constexpr std::string_view kPattern = "/fhir/AuditEvent/$urgent-access-review";
// The two bases on which records open without the patient's consent at the reader (DOMAIN.md
// §1: emergency and disaster), hence the ones a privacy officer reviews.
constexpr std::string_view kUrgentPurposes[] = {"ETREAT", "DISASTER"};

Issue ParamIssue(std::string_view param, std::string text) {
  Issue i;
  i.expression = std::string(param);
  i.text = std::move(text);
  return i;
}

bool ParsePositive(std::string_view text, int64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

Status CheckQuery(const ReviewQuery& q, const Limits& limits) {
  if (q.end <= q.start) return Error(ErrorCode::kInvalid, "end must be after start");
  if (q.end - q.start > kMaxReviewPeriod) {
    return Error(ErrorCode::kInvalid, fmt::format("a review covers at most {} days; split the "
                                                  "period",
                                                  kMaxReviewPeriod.count()));
  }
  if (q.count == 0 || q.count > limits.max_page_size) {
    return Error(ErrorCode::kInvalid, fmt::format("_count must be 1..{}", limits.max_page_size));
  }
  return Ok();
}

// The AuditEvent of one reviewed entry: the audit search's view (audit::ToAuditEvent), the
// facility named and the access marked as the patient's access history does, and the reason
// and consent situation the reading service recorded.
json::object ReviewEvent(const ReviewEntry& e) {
  json::object ev = audit::ToAuditEvent(e.row);
  NameFacilityAgent(ev, e.facility_name);
  MarkUrgentAccess(ev, e.row.purpose);
  AccessNote note = AccessNoteOf(e.row.detail);
  json::value& ext_value = ev["extension"];
  if (!ext_value.is_array()) ext_value = json::array{};
  json::array& ext = ext_value.as_array();
  if (!note.reason.empty()) {
    ext.push_back(json::object{{"url", kAccessReasonExtension}, {"valueString", note.reason}});
  }
  if (!note.consent.empty()) {
    ext.push_back(json::object{{"url", kAccessConsentExtension}, {"valueCode", note.consent}});
  }
  return ev;
}

}  // namespace

PrivacyReviewService::PrivacyReviewService(store::Store& store, audit::AuditLog& audit,
                                           const Clock& clock, Limits limits)
    : store_(store), audit_(audit), clock_(clock), limits_(limits) {}

Result<ReviewPage> PrivacyReviewService::Review(const Principal& who, const ReviewQuery& query) {
  if (who.facility_type != FacilityType::kMinistry) {
    RK_TRY(audit_.Record(audit::EntryFor(who, "", "search", "audit", "HOPERAT", "denied")));
    return Error(ErrorCode::kForbidden, "only the ministry reviews emergency and disaster access");
  }
  if (Status s = CheckQuery(query, limits_); !s.ok()) {
    RK_TRY(audit_.Record(audit::EntryFor(who, "", "search", "audit", "HOPERAT", "error")));
    return s.error();
  }
  auto page = store::RunInTransactionWithResult<ReviewPage>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<ReviewPage> {
        // FindAudit filters by one purpose: the newest count + 1 of the union lie within the
        // newest count + 1 of each purpose, so two bounded scans merged by seq give the page
        // and tell whether another follows.
        std::vector<store::AuditRow> rows;
        for (std::string_view purpose : kUrgentPurposes) {
          store::AuditFilter f;
          f.purpose = std::string(purpose);
          f.since = query.start;
          f.until = query.end - std::chrono::microseconds(1);  // end is exclusive
          f.before_seq = query.before_seq;
          f.count = query.count + 1;
          RK_ASSIGN_OR_RETURN(std::vector<store::AuditRow> part, tx.FindAudit(f));
          std::move(part.begin(), part.end(), std::back_inserter(rows));
        }
        std::sort(rows.begin(), rows.end(),
                  [](const store::AuditRow& a, const store::AuditRow& b) { return a.seq > b.seq; });
        ReviewPage out;
        const bool more = rows.size() > query.count;
        if (more) rows.resize(query.count);
        FacilityNames names(tx);
        for (store::AuditRow& row : rows) {
          ReviewEntry e;
          RK_ASSIGN_OR_RETURN(e.facility_name, names.Of(row.facility_code));
          e.row = std::move(row);
          out.entries.push_back(std::move(e));
        }
        if (more) out.next_before_seq = out.entries.back().row.seq;
        return out;
      });
  if (!page.ok()) {
    (void)audit_.Record(audit::EntryFor(who, "", "search", "audit", "HOPERAT", "error"));
    return page;
  }
  // Audited before any entry leaves (DESIGN.md §3.1).
  audit::AuditEntry entry = audit::EntryFor(who, "", "search", "audit", "HOPERAT");
  entry.detail = fmt::format(R"({{"review":"urgent-access","returned":{}}})", page->entries.size());
  RK_TRY(audit_.Record(std::move(entry)));
  return page;
}

Response PrivacyReviewService::Handle(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  ReviewQuery q;
  q.count = limits_.default_page_size;
  std::vector<Issue> issues;
  bool has_start = false;
  bool has_end = false;
  fhir::QueryParams echo;
  for (const auto& [name, value] : req.query) {
    if (name != "_cursor") echo.emplace_back(name, value);
    if (name == "start" || name == "end") {
      auto t = ParseDateTime(value);
      if (!t) {
        issues.push_back(ParamIssue(name, name + " must be a FHIR date or dateTime"));
      } else if (name == "start") {
        q.start = *t;
        has_start = true;
      } else {
        q.end = *t;
        has_end = true;
      }
    } else if (name == "_count") {
      int64_t n = 0;
      if (!ParsePositive(value, n)) {
        issues.push_back(ParamIssue("_count", "_count must be a positive integer"));
      } else {
        // Larger pages are cut to the limit, as FHIR search allows.
        q.count = std::min<size_t>(static_cast<size_t>(n), limits_.max_page_size);
      }
    } else if (name == "_cursor") {
      if (!ParsePositive(value, q.before_seq)) {
        issues.push_back(ParamIssue("_cursor", "_cursor must be a cursor from a next link"));
      }
    } else {
      issues.push_back(ParamIssue(name, fmt::format("unknown parameter '{}'", name)));
    }
  }
  if (!has_start) issues.push_back(ParamIssue("start", "start is required"));
  if (!has_end) issues.push_back(ParamIssue("end", "end is required"));
  // Refusals come before parameter problems: a hospital learns nothing about the operation.
  if (!issues.empty() && req.principal->facility_type == FacilityType::kMinistry) {
    Status s =
        audit_.Record(audit::EntryFor(*req.principal, "", "search", "audit", "HOPERAT", "error"));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
    return fhir::ErrorResponse(
        Error(ErrorCode::kInvalid, "invalid review parameters", std::move(issues)));
  }
  if (!issues.empty()) {
    q = ReviewQuery{};  // Review refuses the principal before looking at the query
  }
  auto page = Review(*req.principal, q);
  if (!page.ok()) return fhir::ErrorResponse(page.error());

  std::vector<fhir::BundleEntryOut> entries;
  for (const ReviewEntry& e : page->entries) {
    fhir::BundleEntryOut out;
    out.full_url = fmt::format("{}/fhir/AuditEvent/{}", req.base_url, e.row.seq);
    out.resource_json = json::Serialize(ReviewEvent(e));
    out.search_mode = "match";
    entries.push_back(std::move(out));
  }
  const std::string self =
      fmt::format("{}{}?{}", req.base_url, kPattern, fhir::BuildQueryString(echo));
  const std::string next = page->next_before_seq == 0
                               ? std::string()
                               : fmt::format("{}&_cursor={}", self, page->next_before_seq);
  // No total: the review pages by seq and counts nothing.
  return Response::Json(200, fhir::SearchSetBundle(std::nullopt, self, next, entries));
}

RouteTable PrivacyReviewService::Routes() {
  // Entries name patients, but the ministry's oversight role (not consent) governs them, as
  // for the audit search (audit/audit_routes.cpp).
  return {fhir::TypeOperation(
      Method::kGet, "AuditEvent", "$urgent-access-review",
      "Privacy-officer review of emergency and disaster accesses in a period (ministry)",
      [this](Request& req) { return Handle(req); }, {.returns_patient_data = false})};
}

}  // namespace renkei::access
