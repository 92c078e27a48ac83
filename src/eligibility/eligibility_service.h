// Online eligibility verification (オンライン資格確認, DOMAIN.md §1): a facility confirms a
// patient's health-insurance coverage by the card (a card-signed assertion from the reader) or
// by the numbers of the paper eligibility certificate (資格確認書), and insurers load their
// coverages in bulk.
#pragma once

#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "auth/card.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "eligibility/coverage_import.h"
#include "eligibility/coverage_status.h"
#include "eligibility/import_parse.h"
#include "eligibility/verify_request.h"
#include "store/store.h"

namespace renkei::eligibility {

// The answer of $verify-eligibility.
struct Verification {
  Eligibility reason = Eligibility::kUnknown;
  std::string date;                      // the service date it was judged on (YYYY-MM-DD)
  std::optional<json::object> coverage;  // the deciding Coverage, when found
  std::optional<json::object> patient;   // the insured person, when found
};

class EligibilityService {
 public:
  // cards verifies card assertions (and spends their nonces); audit records every attempt.
  EligibilityService(store::Store& store, audit::AuditLog& audit, auth::CardVerifier& cards,
                     const Clock& clock, Limits limits = {});

  // Verifies eligibility for who (a practitioner at a hospital, clinic, dental clinic or
  // pharmacy; clerks included). Card problems (bad, replayed, stale, another facility's) are
  // kUnauthenticated; other principals kForbidden. Audited (verify/COVERAGE/Coverage) in every
  // case; a result is returned only after its audit entry is committed.
  Result<Verification> Verify(const Principal& who, const VerifyRequest& request);

  // Loads NDJSON (one Patient or Coverage per line) for the insurer who, all or nothing:
  // Patients upserted by insured-person identifier, Coverages by identifier, beneficiaries
  // given by identifier resolved. kInvalid/kBusinessRule list every bad line as "line[N]";
  // coverages of another insurer or a non-insurer principal: kForbidden.
  Result<ImportSummary> Import(const Principal& who, std::string_view ndjson);

  // POST /fhir/Coverage/$verify-eligibility and POST /fhir/Coverage/$import (in this order;
  // max_body_bytes kMaxImportBytes). The handlers refer to this service, which must outlive
  // the table.
  RouteTable Routes();

  // The Parameters answers of the two operations.
  static json::object ToParameters(const Verification& v);
  static json::object ToParameters(const ImportSummary& s);

 private:
  Result<Verification> VerifyUnaudited(const Principal& who, const VerifyRequest& request,
                                       std::string& patient_id);
  Response HandleVerify(Request& req);
  Response HandleImport(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  auth::CardVerifier& cards_;
  const Clock& clock_;
  Limits limits_;
};

}  // namespace renkei::eligibility
