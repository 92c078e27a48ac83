// The sweeper's candidate searches, one "pass" per rule and store type, and the reading of a
// candidate's facts for rules.h. Internal to the retention module.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "retention/rules.h"
#include "store/store.h"

namespace renkei::retention::internal {

enum class PassKind : uint8_t {
  kItem,                  // Condition / AllergyIntolerance / infection Observation
  kLab,                   // lab Observation (dated or undated)
  kDocumentPrescription,  // DocumentMedicationRequest
  kReferralRetrieved,     // DocumentBundle referral with a `retrieved` term
  kReferralUnretrieved,   // DocumentBundle referral without one
  kCheckup,               // DocumentBundle checkup report
  kPrescriptionRecord,    // MedicationRequest / MedicationDispense (issue 4)
  kPrescriptionBundle,    // prescription Bundle (issue 4)
};

// One search over one store type. Its criteria hold the age bound of the rule
// (LatestExpiredAnchor), so that only records old enough to expire are ever read.
struct Pass {
  PassKind kind = PassKind::kItem;
  std::string type;
  std::vector<store::Criterion> criteria;
  // The rule's anchor bound at now: a row the search returns has its anchor term at or before
  // it (the fallback fact of a document whose stored state cannot be read).
  TimePoint bound{};
};

// Every pass at now, in the order a run takes them.
std::vector<Pass> Passes(TimePoint now);

// Ranks computed once per transaction: (patient, lab item) and patient (document
// prescriptions) -> id -> 1-based rank, newest first.
struct RankCache {
  size_t max_ranked = 5000;  // SweepOptions::max_ranked
  std::map<std::string, std::map<std::string, int>> ranks;
};

// The facts of a candidate row for Evaluate, reading what the rule needs (the row's JSON, the
// patient's other results) in tx.
Result<RecordFacts> FactsOf(store::Transaction& tx, const Pass& pass, const store::ResourceRow& row,
                            RankCache& cache);

// The attachment hashes (sha256 hex) a stored DocumentBundle refers to: every "url" of the form
// "Binary/<64 hex digits>" anywhere in it.
std::vector<std::string> AttachmentHashes(const json::value& document);

}  // namespace renkei::retention::internal
