// Writing the other facts of the decision: the patient's own restrictions (DESIGN.md §5,
// "Beyond the national system") and the ministry's disaster declarations (DOMAIN.md §1
// 災害時モード). Both are audited in the transaction that stores them.
#pragma once

#include <string_view>

#include "access/decision.h"
#include "access/facts_store.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::access {

// At most this many facilities in an allow or block list, and hidden items (kTooLarge beyond).
inline constexpr size_t kMaxRestrictionEntries = 100;

// Parameters of $restrictions: optOut (valueBoolean), allow / block (valueString, a 10-digit
// facility code, repeated), hide (valueString "Type/id", repeated). kInvalid listing every bad
// parameter; kTooLarge when a list exceeds kMaxRestrictionEntries.
Result<PatientRestrictions> ParseRestrictions(std::string_view body, const Limits& limits);
// Parameters of $declare-disaster: prefecture (valueString "01".."47", repeated, at least
// one), start and end (valueDateTime, end after start). kInvalid otherwise.
Result<DisasterDeclaration> ParseDeclaration(std::string_view body, const Limits& limits);

class FactsService {
 public:
  FactsService(store::Store& store, audit::AuditLog& audit, const Clock& clock, Limits limits = {});

  // The patient themself replaces their restrictions (effective at once). Anyone else:
  // kForbidden. Returns the stored Consent. Audited (update/Consent/PATRQT).
  Result<json::object> SetRestrictions(const Principal& who, const PatientRestrictions& r);

  // The ministry declares a disaster. Anyone else: kForbidden. Returns the stored Basic.
  // Audited (create/DisasterDeclaration/HOPERAT).
  Result<json::object> DeclareDisaster(const Principal& who, const DisasterDeclaration& d);

  // A declaration made here is seen at once by the reads using this cache.
  void SetDeclarationCache(DeclarationCache* cache) { declarations_ = cache; }

  // POST /fhir/Consent/$restrictions -> 200 + Consent;
  // POST /fhir/Basic/$declare-disaster -> 201 + Basic. The service must outlive the table.
  RouteTable Routes();

 private:
  Response HandleRestrictions(Request& req);
  Response HandleDeclare(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
  DeclarationCache* declarations_ = nullptr;
};

}  // namespace renkei::access
