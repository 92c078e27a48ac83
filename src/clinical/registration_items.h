// Per-item rules of the JP-CLINS registration bundle (internal to clinical/): what each of
// Condition, Observation and AllergyIntolerance must carry beyond the bundle-wide rules.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "fhir/validation.h"

namespace renkei::clinical {

// One non-Patient entry being checked. path is "Bundle.entry[i].resource".
struct EntryContext {
  const json::object& resource;
  std::string path;
};

// Contained Encounter referenced by Resource.encounter, and the department extension
// (Conditions and Observations).
void CheckEncounterAndDepartment(const EntryContext& e, fhir::IssueCollector& c);
// Disease code (standard disease master), onset, abatement and clinical status.
void CheckCondition(const EntryContext& e, fhir::IssueCollector& c);
// Performer, local lab code and a JLAC code. Returns true when the Observation is coded as
// one of the designated infection tests.
bool CheckObservation(const EntryContext& e, fhir::IssueCollector& c);
// Drug allergies coded YCM/GCM; other allergies J-FAGY or text.
void CheckAllergy(const EntryContext& e, fhir::IssueCollector& c);

}  // namespace renkei::clinical
