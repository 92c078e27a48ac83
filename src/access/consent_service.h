// Card consent (issue "Access policy", legal basis 1; DESIGN.md §4): the card reader's JWS,
// signed by the patient's card key, becomes a stored FHIR Consent that opens a 24-hour view for
// that facility and the consented categories; the patient can revoke it at once in the portal.
#pragma once

#include <string_view>

#include "audit/audit_log.h"
#include "auth/card.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::access {

// A compact JWS from a card reader is a few hundred bytes; anything larger is refused (413).
inline constexpr size_t kMaxCardAssertionBytes = 8 * 1024;

class ConsentService {
 public:
  // cards verifies the reader's assertions (signature, facility, staleness) and spends their
  // nonces (replays refused); every attempt is audited.
  ConsentService(store::Store& store, audit::AuditLog& audit, auth::CardVerifier& cards,
                 const Clock& clock, Limits limits = {});

  // Records the consent in `jws`, given at who's facility (any staff of a hospital, clinic,
  // dental clinic or pharmacy: the reception runs the reader). Returns the stored Consent.
  // Card problems: kUnauthenticated (bad, stale, replayed) or kForbidden (another facility's);
  // purpose other than TREAT: kBusinessRule; unknown or no category: kInvalid; assertion
  // larger than kMaxCardAssertionBytes: kTooLarge. Audited (create/Consent/TREAT) in the write
  // transaction on success, through the audit log otherwise.
  Result<json::object> RecordCardConsent(const Principal& who, std::string_view jws);

  // The patient themself revokes one of their consents, effective at once (idempotent).
  // Another patient's or an unknown consent: kNotFound; anyone but a patient: kForbidden.
  // Audited (update/Consent/PATRQT).
  Result<json::object> Revoke(const Principal& who, std::string_view consent_id);

  // POST /fhir/Consent/$card (Parameters: card = the JWS) -> 201 + Consent, Location;
  // POST /fhir/Consent/{id}/$revoke -> 200 + Consent. The handlers refer to this service,
  // which must outlive the table.
  RouteTable Routes();

 private:
  Response HandleCard(Request& req);
  Response HandleRevoke(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  auth::CardVerifier& cards_;
  const Clock& clock_;
  Limits limits_;
};

}  // namespace renkei::access
