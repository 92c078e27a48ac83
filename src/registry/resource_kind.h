// What a module registers to have a FHIR resource type served by ResourceService: how to
// validate, index and own it, and who may read and write it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // May who read this stored row? Returns the purpose of use for the audit entry
  // (TREAT, COVERAGE, HOPERAT, PATRQT...) or kForbidden with the reason. Unset:
  // DecidePatientRead for patient-owned kinds, any authenticated principal otherwise.
  std::function<Result<std::string>(const Principal&, store::Transaction&,
                                    const store::ResourceRow&)>
      read_policy;
  // May who search this type at all (checked before running a search)? Unset:
  // CheckPatientSearch for patient-owned kinds, anyone otherwise.
  std::function<Status(const Principal&)> search_policy;
  // Criteria added to every search by who (so that pages and totals cover only what who may
  // read, e.g. an insurer's own Coverage). Returning nullopt means who can match nothing.
  // Optional; the read policy still checks every row.
  std::function<Result<std::optional<std::vector<store::Criterion>>>(const Principal&,
                                                                     store::Transaction&)>
      search_scope;
  // Audit category written for this type; the type when empty.
  std::string audit_category;
  // Purpose of use recorded for writes (registry maintenance and insurer loads: HOPERAT).
  std::string write_purpose = "HOPERAT";
};

}  // namespace renkei::registry
