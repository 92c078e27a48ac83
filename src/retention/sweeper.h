// The retention sweeper (issue 5 "Retention", issue 4 "History and retention"): one run finds
// the records the rules (rules.h) declare expired with bounded store searches and deletes each
// by writing a deleted version (a later read answers 410 Gone), in batches of one write
// transaction each, with one audit entry per deleted record in the same transaction. Runs are
// idempotent and safe while the server serves requests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "audit/audit_log.h"
#include "clinical/document_store.h"
#include "clinical/item_service.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/principal.h"
#include "core/status.h"
#include "retention/rules.h"
#include "store/store.h"

namespace renkei::retention {

// Store row types the sweeper reads besides the registered items (Condition,
// AllergyIntolerance, Observation) and the prescription records (prescription/records.h):
// the documents and their prescriptions, as the document store writes them.
inline constexpr std::string_view kDocumentBundleType = clinical::kDocumentBundleType;
inline constexpr std::string_view kDocumentPrescriptionType = clinical::kDocumentMedicationType;
// Composition type codes (LOINC) of the document kinds, indexed as the `doc-type` term.
inline constexpr std::string_view kReferralDocType = "57133-1";
inline constexpr std::string_view kCheckupDocType = "53576-5";

// The principal audit entries of the sweeper name: a system principal "retention" of no
// facility (audit qualification "system").
Principal RetentionPrincipal();

struct SweepOptions {
  // Candidate records examined per write transaction (a deletion batch is at most this big).
  size_t batch_size = 200;
  // Write transactions per run, all rules together: one run stays bounded; the next run
  // continues (SweepReport::complete says whether this one reached the end).
  size_t max_batches = 500;
  // Results of one lab item of a patient (or document prescriptions of a patient) ranked at
  // most for the "last 3" rules; beyond it their rank is unknown and they are kept (a warning
  // is logged). A patient's steady state is far below it: only a backlog can exceed it.
  size_t max_ranked = 5000;
  // Who the audit entries name (RetentionPrincipal() unless the deployment gives the operating
  // organisation's code).
  Principal principal = RetentionPrincipal();
  // Called after the commit for each attachment hash (sha256 hex) of a deleted DocumentBundle
  // that no current DocumentBundle references any more; may be empty.
  std::function<void(std::string_view sha256)> release_blob;
};

struct SweepReport {
  int64_t deleted = 0;   // records given a deleted version
  int64_t examined = 0;  // candidates the searches returned
  int64_t batches = 0;   // write transactions committed
  int64_t blobs_released = 0;
  bool complete = true;  // false when max_batches stopped the run before every rule finished
  // Deletions per (store type, rule id).
  std::map<std::pair<std::string, std::string>, int64_t> by_type_rule;

  // Deletions of one store type by one rule (0 when none).
  int64_t Deleted(std::string_view type, Rule rule) const;
};

// {"deleted":n,"examined":n,"batches":n,"blobsReleased":n,"complete":b,
//  "byRule":[{"type":"Condition","rule":"item-5y","deleted":n},...]}: what
// `renkei retention run` prints.
json::object ToJson(const SweepReport& report);

// One run at `now` (the clock used for decisions; audit entries take the AuditLog's clock).
// Errors: a store error that outlived RunInTransaction's retries; batches committed before it
// stay committed (a later run continues).
Result<SweepReport> Sweep(store::Store& store, audit::AuditLog& audit, TimePoint now,
                          const SweepOptions& options);

}  // namespace renkei::retention
