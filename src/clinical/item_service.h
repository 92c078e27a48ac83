// The 5 registered items over HTTP (issue "Clinical information sharing"): registration of
// JP-CLINS bundles, read and search of Condition, AllergyIntolerance and Observation, and the
// patient summary. Every read goes through access::Decide; searches and the summary put the
// principal's access::SearchScope into their queries (item_access.h), so that hidden items are
// counted nowhere. Audit entries are durable before data leaves.
//
// Routes:
//   POST /fhir/Bundle/$register-items   a JP-CLINS registration bundle (collection)
//   GET  /fhir/{type}/{id}              read (type: Condition, AllergyIntolerance, Observation)
//   GET  /fhir/{type}?patient=...       search (patient, code, category, date, facility,
//                                       _lastUpdated, _count, _sort, paging)
//   GET  /fhir/Patient/{id}/$summary    what the principal may see, grouped by item
#pragma once

#include <string_view>

#include "access/facts_store.h"
#include "audit/audit_log.h"
#include "clinical/registration_bundle.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::clinical {

// The store type of the prescriptions taken from documents (the 6th item): stored by the
// document service, shown in the summary as MedicationRequest.
inline constexpr std::string_view kDocumentMedicationType = "DocumentMedicationRequest";

// The operation registering a JP-CLINS bundle.
inline constexpr std::string_view kRegisterOperation = "$register-items";

// How many items of one type the summary returns at most (a patient's full lists are far
// smaller; the bound keeps one request bounded).
inline constexpr size_t kMaxSummaryItemsPerType = 500;

class ItemService {
 public:
  // store, audit and clock must outlive the service; declarations may be null (read each time).
  ItemService(store::Store& store, audit::AuditLog& audit, const Clock& clock, Limits limits,
              access::DeclarationCache* declarations = nullptr);

  RouteTable Routes();

  Response HandleRegister(Request& req);
  Response HandleRead(Request& req, ItemType type);
  Response HandleSearch(Request& req, ItemType type);
  Response HandleSummary(Request& req);

 private:
  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
  access::DeclarationCache* declarations_;
};

}  // namespace renkei::clinical
