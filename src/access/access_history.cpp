#include "access/access_history.h"

#include <fmt/format.h>

#include <charconv>
#include <map>

#include "access/decision.h"
#include "audit/audit_event.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/routes.h"

namespace renkei::access {
namespace {

// Emergency and disaster accesses are shown prominently (issue, legal bases 3 and 6).
std::string_view MarkOf(std::string_view purpose) {
  if (purpose == "ETREAT") return "emergency";
  if (purpose == "DISASTER") return "disaster";
  return {};
}

// The name of the facility with this code, from the registry's Organization (any identifier
// system: medical institution numbers and renkei's codes of other bodies).
Result<std::string> FacilityName(store::Transaction& tx, const std::string& code) {
  store::SearchQuery q;
  q.type = "Organization";
  q.criteria.push_back({"identifier", store::MatchOp::kEq, false, "", {code}});
  q.count = 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  if (page.rows.empty()) return std::string();
  RK_ASSIGN_OR_RETURN(json::object org, json::ParseObject(page.rows[0].json, Limits{}));
  return std::string(json::GetString(org, "name").value_or(""));
}

}  // namespace

AccessHistoryService::AccessHistoryService(store::Store& store, audit::AuditLog& audit,
                                           const Clock& clock)
    : store_(store), audit_(audit), clock_(clock) {}

Result<HistoryPage> AccessHistoryService::History(const Principal& who, size_t count,
                                                  int64_t before_seq) {
  // The one door: only the patient, for their own history (PATRQT).
  AccessRequest r;
  r.actor = ActorOf(who);
  r.patient_id = who.subject;
  r.item.category = Category::kAccessHistory;
  r.purpose.purpose = Purpose::kPatientRequest;
  AccessFacts facts;
  facts.now = clock_.Now();
  Decision d = Decide(r, facts);
  if (!d.permit) return Error(ErrorCode::kForbidden, std::string(d.reason));
  if (count == 0 || count > kMaxHistoryPage) {
    return Error(ErrorCode::kInvalid, fmt::format("_count must be 1..{}", kMaxHistoryPage));
  }

  auto page = store::RunInTransactionWithResult<HistoryPage>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<HistoryPage> {
        HistoryPage out;
        std::map<std::string, std::string> names;
        store::AuditFilter f;
        f.patient_id = who.subject;
        f.count = count;
        int64_t cursor = before_seq;
        for (;;) {
          f.before_seq = cursor;
          RK_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, tx.FindAudit(f));
          for (store::AuditRow& row : rows) {
            cursor = row.seq;
            // The patient's own portal actions are not accesses by others.
            if (row.qualification == "patient") continue;
            if (out.entries.size() == count) {
              out.next_before_seq = out.entries.back().row.seq;
              return out;
            }
            auto it = names.find(row.facility_code);
            if (it == names.end()) {
              RK_ASSIGN_OR_RETURN(std::string name, FacilityName(tx, row.facility_code));
              it = names.emplace(row.facility_code, std::move(name)).first;
            }
            HistoryEntry e;
            e.facility_name = it->second;
            e.mark = MarkOf(row.purpose);
            e.row = std::move(row);
            out.entries.push_back(std::move(e));
          }
          if (rows.size() < f.count) return out;
        }
      });
  if (!page.ok()) return page;
  // Audited before the history leaves (DESIGN.md §3.1).
  RK_TRY(audit_.Record(audit::EntryFor(who, who.subject, "read", "access_history", "PATRQT")));
  return page;
}

Response AccessHistoryService::Handle(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  size_t count = 50;
  int64_t before = 0;
  for (const auto& [name, value] : req.query) {
    const char* end = value.data() + value.size();
    if (name == "_count") {
      auto [p, ec] = std::from_chars(value.data(), end, count);
      if (ec != std::errc() || p != end) {
        return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "_count must be a number"));
      }
    } else if (name == "_cursor") {
      auto [p, ec] = std::from_chars(value.data(), end, before);
      if (ec != std::errc() || p != end || before <= 0) {
        return fhir::ErrorResponse(
            Error(ErrorCode::kInvalid, "_cursor must be a cursor from a next link"));
      }
    } else {
      return fhir::ErrorResponse(
          Error(ErrorCode::kInvalid, fmt::format("unknown parameter '{}'", name)));
    }
  }
  auto page = History(*req.principal, count, before);
  if (!page.ok()) return fhir::ErrorResponse(page.error());
  std::vector<fhir::BundleEntryOut> entries;
  for (const HistoryEntry& e : page->entries) {
    json::object ev = audit::ToAuditEvent(e.row);
    if (!e.facility_name.empty()) {
      if (auto* agents = ev.if_contains("agent"); agents && agents->is_array()) {
        for (auto& a : agents->get_array()) {
          // The facility agent is the one identified by its code.
          const json::object* who =
              a.is_object() ? json::GetObject(a.get_object(), "who") : nullptr;
          if (who && json::GetObject(*who, "identifier")) a.get_object()["name"] = e.facility_name;
        }
      }
    }
    if (!e.mark.empty()) {
      ev["extension"] =
          json::array{json::object{{"url", kAccessMarkExtension}, {"valueCode", e.mark}}};
    }
    fhir::BundleEntryOut out;
    out.full_url = fmt::format("{}/fhir/AuditEvent/{}", req.base_url, e.row.seq);
    out.resource_json = json::Serialize(ev);
    out.search_mode = "match";
    entries.push_back(std::move(out));
  }
  const std::string self =
      fmt::format("{}/fhir/AuditEvent/$access-history?_count={}", req.base_url, count);
  const std::string next = page->next_before_seq == 0
                               ? std::string()
                               : fmt::format("{}&_cursor={}", self, page->next_before_seq);
  // No total: FindAudit counts nothing, and a total is not needed to page newest first.
  return Response::Json(200, fhir::SearchSetBundle(std::nullopt, self, next, entries));
}

RouteTable AccessHistoryService::Routes() {
  // Decided by access::Decide (category access_history).
  return {fhir::TypeOperation(
      Method::kGet, "AuditEvent", "$access-history",
      "The patient's access history: who viewed their data, when and on what basis",
      [this](Request& req) { return Handle(req); })};
}

}  // namespace renkei::access
