// What a module registers to have a FHIR resource type served by ResourceService: how to
// validate, index and own it, and who may read and write it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/decision.h"
#include "core/json.h"
#include "core/principal.h"
#include "core/status.h"
#include "fhir/search_params.h"
#include "fhir/validation.h"
#include "store/store.h"

namespace renkei::registry {

// The store-side context of one write (or one bulk load): the transaction, the principal and
// a memo for lookups repeated across the resources of one request (insurer ids...).
struct WriteContext {
  store::Transaction& tx;
  const Principal& who;
  std::map<std::string, std::string, std::less<>> memo;
};

// What the access decision needs to know of one stored row of a patient-owned kind.
struct ItemInfo {
  access::Category category = access::Category::kDemographics;
  std::string item_id;               // "Type/id"
  std::string registering_facility;  // facility (Coverage: insurer number) that registered it
  bool uninformed = false;           // JP-CLINS UNINFORMED flag, with its date
  std::string uninformed_date;
  bool undelivered = false;  // JP-CLINS UNDELIVERED (not-to-provide) flag
};

struct ResourceKind {
  std::string type;
  // Owned by a patient (Patient, Coverage, clinical data): reads ask the patient read policy
  // and are audited once per patient.
  bool patient_owned = false;
  // Pure checks of the resource (paths start with type). Unset: FHIR JSON shape only.
  std::function<void(const json::object&, fhir::IssueCollector&)> validate;
  // Checks needing the store (referenced resources exist, payor resolves); may add index
  // terms that need those lookups. Optional.
  std::function<Status(WriteContext&, const json::object&, fhir::IssueCollector&,
                       std::vector<store::IndexTerm>&)>
      resolve;
  // Search terms of the resource (the engine adds _id and _lastUpdated). Unset: none.
  std::function<std::vector<store::IndexTerm>(const json::object&)> index;
  // The owning patient's id for patient-owned kinds ("" otherwise); called after the id is set.
  std::function<std::string(const json::object&)> patient_of;
  std::vector<fhir::SearchParamDef> search_params;
  // May who write this resource (create/update)? kForbidden with the reason otherwise.
  // Unset: only the ministry writes.
  std::function<Status(WriteContext&, const json::object&)> write_policy;
  // Kinds NOT owned by a patient (directory data): may who read this stored row? Returns the
  // purpose of use or kForbidden. Unset: any authenticated principal. Patient-owned kinds are
  // always decided by access::Decide (read_access.h), never by this.
  std::function<Result<std::string>(const Principal&, store::Transaction&,
                                    const store::ResourceRow&)>
      read_policy;
  // Patient-owned kinds: the access category of the kind's items, and (optional) what the
  // decision needs to know of one stored row (default: the category and "Type/id").
  access::Category access_category = access::Category::kDemographics;
  std::function<Result<ItemInfo>(store::Transaction&, const store::ResourceRow&)> item_of;
  // Patient-owned kinds: the search parameter naming the owning patient (Patient "_id",
  // Coverage "beneficiary"), and one that identifies patients when it is absent (Patient
  // "identifier"); a care provider's search must use one of them (read_access.h).
  std::string owner_param;
  std::string lookup_param;
  // May who search this type at all (checked before running a search)? Unset:
  // CheckPatientSearch for patient-owned kinds, anyone otherwise.
  std::function<Status(const Principal&)> search_policy;
  // Criteria added to an insurer's searches (COVERAGE) so that pages and totals cover only
  // what it may read (its own Coverage). Returning nullopt means who can match nothing.
  // Optional; the access decision still checks every row.
  std::function<Result<std::optional<std::vector<store::Criterion>>>(const Principal&,
                                                                     store::Transaction&)>
      search_scope;
  // Audit category written for this type; the type when empty.
  std::string audit_category;
  // Purpose of use recorded for writes (registry maintenance and insurer loads: HOPERAT).
  std::string write_purpose = "HOPERAT";
};

}  // namespace renkei::registry
