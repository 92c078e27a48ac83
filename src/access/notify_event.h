// How an emergency or disaster access is shown outside the audit search: to the patient in a
// notification (no clinical data, no identifiers beyond the facility and practitioner) and to
// the ministry's privacy officer in the review. Both start from audit::ToAuditEvent.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::access {

// Registry Organization names by facility code, looked up once per code in one transaction.
class FacilityNames {
 public:
  explicit FacilityNames(store::Transaction& tx) : tx_(tx) {}
  // The registered name, or "" when no Organization carries the code.
  Result<std::string> Of(const std::string& code);

 private:
  store::Transaction& tx_;
  std::map<std::string, std::string, std::less<>> names_;
};

// Names the facility agent (the one identified by its code) of an AuditEvent, as the access
// history does; nothing when name is empty.
void NameFacilityAgent(json::object& event, std::string_view name);

// Adds the access-mark extension ("emergency" for ETREAT, "disaster" for DISASTER).
void MarkUrgentAccess(json::object& event, std::string_view purpose);

// What the entry's detail says about the access: the stated reason ("reason") and the consent
// situation ("consent": verbal or cannot-obtain). Empty when absent or not JSON.
struct AccessNote {
  std::string reason;
  std::string consent;
};
AccessNote AccessNoteOf(std::string_view detail);

// The AuditEvent sent to the patient: time, facility (code and name), practitioner and
// qualification, category, purpose and outcome. Without the detail (a stated reason may be
// clinical) and without the patient entity (the endpoint is the patient's own).
json::object NotificationEvent(const store::AuditRow& row, std::string_view facility_name);

// The notification body: a FHIR R4 Bundle of type history with that one AuditEvent.
std::string NotificationBundle(const store::AuditRow& row, std::string_view facility_name,
                               TimePoint now);

}  // namespace renkei::access
