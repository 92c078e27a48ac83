// The electronic prescription flow over HTTP (issue 4): the medication check, prescribing,
// receiving at a pharmacy (and handing back), dispensing (also of paper prescriptions) and
// cancelling. Every write commits its data, its audit entry and its idempotency key in one
// write transaction; checks are audited before the answer leaves. src/prescription/README.md.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "auth/card.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "prescription/check.h"
#include "prescription/drug_master.h"
#include "prescription/master_store.h"
#include "prescription/records.h"
#include "store/store.h"

namespace renkei::prescription {

// Largest request bodies: a check (candidates and parameters), a prescription Bundle or a
// dispensing (kTooLarge beyond; the http layer refuses them before reading).
inline constexpr size_t kMaxCheckBodyBytes = 1024 * 1024;
inline constexpr size_t kMaxPrescriptionBodyBytes = 4 * 1024 * 1024;
// Length of the access code (引換番号), drawn from kAccessCodeAlphabet: 31^10 ≈ 2^49.5 codes.
inline constexpr size_t kAccessCodeLength = 10;
// Letters and digits that cannot be mistaken for each other when read aloud or typed
// (no 0/O, 1/I/L).
inline constexpr std::string_view kAccessCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

// A response a service method produced: status and FHIR body (Parameters).
struct Answer {
  int status = 200;
  json::object body;
};

class PrescriptionService {
 public:
  // master is kept in step with the stored master (MasterRefresher, checked at most every
  // few seconds); defaults are used while the store holds none. cards verifies card
  // assertions a pharmacy presents with an access code. The service must outlive Routes().
  PrescriptionService(store::Store& store, audit::AuditLog& audit, auth::CardVerifier& cards,
                      const Clock& clock, MasterHolder& master, MasterDefaults defaults,
                      Limits limits = {});

  // Loads the master in force now (call on start and after `load-master` in-process).
  Status RefreshMaster();

  // POST /fhir/MedicationRequest/$check     Parameters -> 200 Parameters (alerts)
  // POST /fhir/MedicationRequest/$prescribe Bundle or Parameters{signature} -> 201 Parameters
  // POST /fhir/MedicationRequest/$receive   Parameters{accessCode, insuredNumber|card} -> 200
  // POST /fhir/MedicationRequest/$release   Parameters{prescriptionId} -> 200 (hand back)
  // POST /fhir/MedicationRequest/$cancel    Parameters{prescriptionId} -> 200
  // POST /fhir/MedicationDispense/$dispense Parameters{prescriptionId?, patient?, dispense*}
  //                                         -> 201 Parameters (dispensing id, alerts)
  // GET  /fhir/MedicationRequest?patient=…, GET /fhir/MedicationDispense?patient=…
  //      (date, code, facility, prescription, _count, paging) -> searchset
  RouteTable Routes();

  // The handlers, callable without sockets (tests, the lead's wiring).
  Response HandleCheck(Request& req);
  Response HandlePrescribe(Request& req);
  Response HandleReceive(Request& req);
  Response HandleRelease(Request& req);
  Response HandleCancel(Request& req);
  Response HandleDispense(Request& req);
  // GET /fhir/MedicationRequest, /fhir/MedicationDispense (type): a patient's items through
  // access::ScopeFor (history_search.cpp); 403 when nothing may be shown.
  Response HandleSearch(Request& req, std::string_view type);

 private:
  struct Details {
    bool allowed = false;
    std::string purpose;  // the decision's basis, or the claimed purpose when denied
  };
  struct CheckRun {
    CheckResult result;
    std::string purpose;
  };

  Result<std::shared_ptr<const DrugMaster>> Master();
  // May details of the patient's prescriptions be shown to who (access::Decide)?
  Result<Details> DecideDetails(store::Transaction& tx, const Request& req, const Principal& who,
                                std::string_view patient_id, TimePoint now);
  // Loads history and decides inside tx, then runs the check on resolved items.
  Result<CheckRun> RunCheckIn(store::Transaction& tx, const Request& req, const Principal& who,
                              const DrugMaster& master, std::string_view patient_id,
                              const std::vector<ItemInput>& items, bool include_own_facility,
                              std::string_view exclude_prescription_id, TimePoint now);
  // Runs fn in a write transaction under the request's X-Request-Id: a retry with the same
  // key and body answers the stored answer without running fn again; another body under the
  // same key is kConflict.
  Result<Answer> WriteOnce(const Request& req, const Principal& who, std::string_view op,
                           const std::function<Result<Answer>(store::Transaction&)>& fn);

  Result<Answer> Check(const Request& req, const Principal& who);
  Result<Answer> Prescribe(const Request& req, const Principal& who);
  Result<Answer> Receive(const Request& req, const Principal& who);
  Result<Answer> Release(const Request& req, const Principal& who);
  Result<Answer> Cancel(const Request& req, const Principal& who);
  Result<Answer> Dispense(const Request& req, const Principal& who);
  // Refused attempts are audited too (outcome denied/error), without data.
  void AuditRefusal(const Principal& who, std::string_view patient_id, std::string_view action,
                    const Error& e);

  store::Store& store_;
  audit::AuditLog& audit_;
  auth::CardVerifier& cards_;
  const Clock& clock_;
  MasterHolder& master_;
  MasterRefresher refresher_;
  Limits limits_;
};

}  // namespace renkei::prescription
