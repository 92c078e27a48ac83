#include "access/notify_event.h"

#include "access/access_history.h"
#include "audit/audit_event.h"
#include "core/ids.h"
#include "fhir/bundle.h"

namespace renkei::access {

Result<std::string> FacilityNames::Of(const std::string& code) {
  auto it = names_.find(code);
  if (it != names_.end()) return it->second;
  // Any identifier system: medical institution numbers and renkei's codes of other bodies.
  store::SearchQuery q;
  q.type = "Organization";
  q.criteria.push_back({"identifier", store::MatchOp::kEq, false, "", {code}});
  q.count = 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx_.Search(q));
  std::string name;
  if (!page.rows.empty()) {
    RK_ASSIGN_OR_RETURN(json::object org, json::ParseObject(page.rows[0].json, Limits{}));
    name = std::string(json::GetString(org, "name").value_or(""));
  }
  names_.emplace(code, name);
  return name;
}

void NameFacilityAgent(json::object& event, std::string_view name) {
  if (name.empty()) return;
  json::value* agents = event.if_contains("agent");
  if (agents == nullptr || !agents->is_array()) return;
  for (json::value& a : agents->get_array()) {
    if (!a.is_object()) continue;
    const json::object* who = json::GetObject(a.get_object(), "who");
    if (who && json::GetObject(*who, "identifier")) a.get_object()["name"] = name;
  }
}

void MarkUrgentAccess(json::object& event, std::string_view purpose) {
  std::string_view mark = purpose == "ETREAT"     ? "emergency"
                          : purpose == "DISASTER" ? "disaster"
                                                  : "";
  if (mark.empty()) return;
  event["extension"] =
      json::array{json::object{{"url", kAccessMarkExtension}, {"valueCode", mark}}};
}

AccessNote AccessNoteOf(std::string_view detail) {
  AccessNote note;
  if (detail.empty()) return note;
  auto parsed = json::ParseObject(detail, Limits{});
  if (!parsed.ok()) return note;
  note.reason = std::string(json::GetString(*parsed, "reason").value_or(""));
  note.consent = std::string(json::GetString(*parsed, "consent").value_or(""));
  return note;
}

json::object NotificationEvent(const store::AuditRow& row, std::string_view facility_name) {
  store::AuditRow shown = row;
  shown.detail.clear();
  json::object ev = audit::ToAuditEvent(shown);
  NameFacilityAgent(ev, facility_name);
  MarkUrgentAccess(ev, row.purpose);
  // Keep only the category entity: the patient knows whose record it is.
  if (json::value* entities = ev.if_contains("entity"); entities && entities->is_array()) {
    json::array kept;
    for (json::value& e : entities->get_array()) {
      if (e.is_object() && !e.get_object().contains("what")) kept.push_back(std::move(e));
    }
    if (kept.empty()) {
      ev.erase("entity");
    } else {
      ev["entity"] = std::move(kept);
    }
  }
  return ev;
}

std::string NotificationBundle(const store::AuditRow& row, std::string_view facility_name,
                               TimePoint now) {
  fhir::BundleEntryOut e;
  e.full_url = "urn:uuid:" + NewId();
  e.resource_json = json::Serialize(NotificationEvent(row, facility_name));
  e.request_method = "POST";
  e.request_url = "AuditEvent";
  e.response_status = "201 Created";
  return fhir::BundleJson("history", std::nullopt, {}, {e}, FormatInstant(now));
}

}  // namespace renkei::access
