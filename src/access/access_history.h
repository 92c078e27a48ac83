// The patient's access history (issue "Access policy", legal basis 6; DOMAIN.md §1
// マイナポータル): every access to their data by others, newest first, with date and time,
// facility name, qualification, category and legal basis; emergency and disaster accesses
// marked. Asked through the one door (category access_history, PATRQT) and audited before the
// answer leaves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::access {

// Extension on each AuditEvent of the history: "emergency" (ETREAT) or "disaster" (DISASTER).
inline constexpr std::string_view kAccessMarkExtension =
    "http://renkei.jp/fhir/StructureDefinition/access-mark";
inline constexpr size_t kMaxHistoryPage = 200;

struct HistoryEntry {
  store::AuditRow row;
  std::string facility_name;  // the registered Organization's name; "" when not registered
  std::string_view mark;      // "emergency", "disaster" or ""
};

struct HistoryPage {
  std::vector<HistoryEntry> entries;
  int64_t next_before_seq = 0;  // 0 when there is no further page
};

class AccessHistoryService {
 public:
  AccessHistoryService(store::Store& store, audit::AuditLog& audit, const Clock& clock);

  // The history of who (a patient) in pages of count (1..kMaxHistoryPage) entries older than
  // before_seq (0: from the newest). The patient's own actions are left out. Anyone else:
  // kForbidden with the decision's reason. Audited (read/access_history/PATRQT) before return.
  Result<HistoryPage> History(const Principal& who, size_t count, int64_t before_seq);

  // GET /fhir/AuditEvent/$access-history?_count=&_cursor= -> searchset of AuditEvent.
  RouteTable Routes();

 private:
  Response Handle(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace renkei::access
