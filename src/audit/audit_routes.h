// The audit search API: GET /fhir/AuditEvent for the ministry's oversight (DESIGN.md §3.1).
#pragma once

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::audit {

// Routes: GET /fhir/AuditEvent with patient, date (ge/gt/le/lt/eq), agent (facility code),
// purpose, _count and _cursor (paging by seq, newest first). Only ministry principals may
// search (403 otherwise); every search, refused ones included, is itself audited.
RouteTable AuditRoutes(store::Store& store, AuditLog& log, const Clock& clock);

}  // namespace renkei::audit
