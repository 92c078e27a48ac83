// Storing validated JP-CLINS registrations on the generic resource store (store/store.h):
// the bundle identifier is the unit of replacement (JP-FHIR.md "JP-CLINS 5-item registration
// bundle"): sending it again replaces everything registered under it, and a Patient-only
// bundle deletes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clinical/registration_bundle.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::clinical {

// Search parameters indexed for every registered item, besides _id and _lastUpdated:
//   bundle-identifier  token (system http://jpfhir.jp/fhir/clins/bundle-identifier)
//   (no "patient" term: the row's patient_id is the patient-first key every search uses)
//   code, category     token (system|code; AllergyIntolerance.category without system)
//   facility           token (the sender's medical institution number)
//   _tag               token (JP_ehrshrs_indication flags: LTS, UNINFORMED, UNDELIVERED)
//   date               instant: Condition onset, Observation effective, allergy recordedDate
//   visibility         clinical::VisibilityTerms (item_access.h)
inline constexpr std::string_view kParamBundleIdentifier = "bundle-identifier";

struct RegistrationOutcome {
  size_t removed = 0;            // items that were registered under the identifier before
  std::vector<std::string> ids;  // ids given to the new items, in entry order
};

// Applies a validated bundle for the registry patient patient_id inside tx: every current item
// registered under the bundle identifier (of any item type, any patient) gets a deleted
// version (a read then answers 410), then each resource of the bundle is written with a new
// id, its subject/patient pointing at Patient/patient_id. All or nothing is the
// transaction's: the caller commits tx only when this returns ok.
Result<RegistrationOutcome> ApplyRegistration(store::Transaction& tx,
                                              const RegistrationBundle& bundle,
                                              std::string_view patient_id, TimePoint now);

// The current items registered under a bundle identifier, of every item type.
Result<std::vector<store::ResourceRow>> FindRegistered(store::Transaction& tx,
                                                       std::string_view bundle_identifier);

// The index terms of one stored item (the resource as stored, after ApplyRegistration's
// rewrite).
std::vector<store::IndexTerm> ItemTerms(const json::object& stored, ItemType type,
                                        const RegistrationBundle& bundle, TimePoint now);

}  // namespace renkei::clinical
