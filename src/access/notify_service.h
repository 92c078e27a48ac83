// The patient's subscriptions to notifications of emergency and disaster accesses (issue
// "Access policy", beyond the national system): create, list and deactivate FHIR R4
// Subscriptions with a rest-hook channel. Delivery is notify_deliverer.h's.
#pragma once

#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::access {

struct SubscriptionOptions {
  // Active subscriptions one patient may hold at once; one more is refused (422).
  size_t max_per_patient = 5;
  // Plain http endpoints (loopback tests, closed networks); https only when false.
  bool allow_http_endpoints = false;
};

class SubscriptionService {
 public:
  SubscriptionService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                      Limits limits = {}, SubscriptionOptions options = {});

  // Stores the patient's new Subscription (validated, all issues at once; status becomes
  // active). Anyone but a patient: kForbidden; over max_per_patient: kBusinessRule. Audited
  // (create/Subscription/PATRQT) in the write transaction.
  Result<json::object> Create(const Principal& who, const json::object& subscription);

  // The patient's own subscriptions, active and off, newest first (at most
  // max_per_patient active ones plus the last kMaxListed in all). Decided through the one
  // door (access_history category, PATRQT) and audited (search/Subscription/PATRQT).
  Result<std::vector<json::object>> List(const Principal& who);

  // Turns the patient's subscription off, at once and for good (idempotent). Another
  // patient's or an unknown id: kNotFound. Audited (update/Subscription/PATRQT).
  Result<json::object> Deactivate(const Principal& who, std::string_view id);

  // POST /fhir/Subscription -> 201 + Subscription; GET /fhir/Subscription -> searchset;
  // POST /fhir/Subscription/{id}/$deactivate -> 200 + Subscription. This service must outlive
  // the table.
  RouteTable Routes();

  static constexpr size_t kMaxListed = 100;

 private:
  Response HandleCreate(Request& req);
  Response HandleList(Request& req);
  Response HandleDeactivate(Request& req);
  Status Refuse(const Principal& who, std::string_view action);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
  SubscriptionOptions options_;
};

}  // namespace renkei::access
