// The access module's routes, for the composition root to join into the server's table.
#pragma once

#include "access/access_history.h"
#include "access/consent_service.h"
#include "access/facts_service.h"
#include "core/request.h"

namespace renkei::access {

// POST /fhir/Consent/$card, POST /fhir/Consent/{id}/$revoke (consents), POST
// /fhir/Consent/$restrictions, POST /fhir/Basic/$declare-disaster (facts), GET
// /fhir/AuditEvent/$access-history (history). The services must outlive the table.
RouteTable AccessRoutes(ConsentService& consents, FactsService& facts,
                        AccessHistoryService& history);

}  // namespace renkei::access
