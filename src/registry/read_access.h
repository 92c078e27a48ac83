// Reads of patient-owned data through the one door (access::Decide, issue "Access policy"):
// every read, vread, history and search of a patient-owned kind asks the decision with the
// facts of that patient, and searches are narrowed BEFORE the query runs (to one named patient
// or, for the ministry and an insurer's own Coverage, by criteria), so that totals and paging
// count only what the caller may see.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "access/decision.h"
#include "access/facts_store.h"
#include "access/purpose_claim.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/status.h"
#include "registry/resource_kind.h"
#include "store/store.h"

namespace renkei::registry {

// A search of a patient-owned kind by a care provider or an insurer names at most this many
// patients (`_id=a,b,...`, `beneficiary=...`, or an identifier matching them).
inline constexpr size_t kMaxPatientsPerSearch = 10;

// One request's reads: who, on which claimed basis, at which instant, in which transaction,
// and the facts of each patient decided so far (loaded once per patient per request).
class ReadContext {
 public:
  // declarations: the server's cache of live disaster declarations (nullptr: read them).
  ReadContext(store::Transaction& tx, const Principal& who, access::ClaimedPurpose claim,
              TimePoint now, access::DeclarationCache* declarations = nullptr);

  store::Transaction& tx() { return tx_; }
  const Principal& who() const { return who_; }
  const access::ClaimedPurpose& claim() const { return claim_; }
  TimePoint now() const { return now_; }

  // access::Decide for one stored row of a patient-owned kind.
  Result<access::Decision> DecideRow(const ResourceKind& kind, const store::ResourceRow& row);
  // access::Decide for "any item of this kind" of patient_id (no registering facility, no
  // flags): what a search must hold before it runs.
  Result<access::Decision> DecideKind(const ResourceKind& kind, std::string_view patient_id);

 private:
  Result<const access::AccessFacts*> FactsOf(std::string_view patient_id);
  access::Decision Decide(std::string_view patient_id, const ItemInfo& item,
                          const access::AccessFacts& facts) const;

  store::Transaction& tx_;
  const Principal& who_;
  access::ClaimedPurpose claim_;
  TimePoint now_;
  access::DeclarationCache* declarations_;
  std::map<std::string, access::AccessFacts, std::less<>> facts_;
};

// The claim of req (headers X-Purpose-Of-Use, X-Access-Reason, X-Consent) or the default one
// of who when req is null (conditional-create matches, seeds).
Result<access::ClaimedPurpose> ClaimOf(const Request* req, const Principal& who);

// What PlanPatientSearch decided before the query runs.
struct SearchPlan {
  bool match_nothing = false;  // e.g. the identifier names no patient; total 0
  // Set when the caller has no basis for a patient the search names: answer this error
  // (403) after auditing a denied entry for denied_patient.
  std::optional<Error> denied;
  std::string denied_patient;
};

// Narrows q (a search of the patient-owned kind) to what ctx may see:
// - a patient: their own records only (q.patient_id);
// - the ministry (HOPERAT): every patient's registry data;
// - an insurer (COVERAGE) on a kind with search_scope: the scope's criteria;
// - everyone else: the search must name its patients through kind.owner_param (or, when
//   absent, kind.lookup_param resolved first, in the same transaction), at most
//   kMaxPatientsPerSearch, and each must be permitted (else `denied`).
// kInvalid when a care provider's search names no patient or too many.
Result<SearchPlan> PlanPatientSearch(ReadContext& ctx, const ResourceKind& kind,
                                     store::SearchQuery& q);

// The audit entry of a decided read: the decision's basis (or the claimed purpose when denied),
// and, for urgent purposes, the stated reason and the consent declaration in its detail.
audit::AuditEntry ReadAuditEntry(const Principal& who, const access::ClaimedPurpose& claim,
                                 std::string_view patient_id, std::string_view action,
                                 std::string_view category, std::string_view basis, bool denied);

}  // namespace renkei::registry
