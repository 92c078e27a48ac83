// The JP-CLINS 5-item registration bundle (電子カルテ情報共有サービス, JP-FHIR.md "JP-CLINS
// 5-item registration bundle"): validation as a pure function over parsed JSON, returning the
// facts the registration service stores, or one error carrying every issue found.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace renkei::clinical {

// A submission larger than this is refused before any rule is checked (JP-FHIR.md).
inline constexpr size_t kMaxRegistrationBundleBytes = 10 * 1024 * 1024;

// The one resource type a registration bundle carries (Bundle.meta.tag).
enum class ItemType { kAllergyIntolerance, kCondition, kObservation };
// "AllergyIntolerance", "Condition", "Observation".
std::string_view ToString(ItemType type);
// The inverse of ToString; nullopt for any other text.
std::optional<ItemType> ParseItemType(std::string_view text);

// The flags of one resource (meta.tag, system JP_ehrshrs_indication).
struct Flags {
  bool lts = false;          // LTS: long-term storage
  bool uninformed = false;   // UNINFORMED: not yet told to the patient
  bool undelivered = false;  // UNDELIVERED: not provided to other facilities
};

// The bundle identifier `facility^year^localid`, the unit of replacement.
struct BundleIdentifier {
  std::string value;          // as sent, e.g. "1318814790^2024^0123-IDa-203949583949"
  std::string facility_code;  // 10 digits
  int year = 0;
  std::string local_id;
};

// One registered resource (an entry after the Patient).
struct RegisteredResource {
  size_t entry_index = 0;  // position in Bundle.entry (>= 1)
  ItemType type = ItemType::kCondition;
  std::string id;  // Resource.id, empty when absent
  Flags flags;
  // Observations only: coded with a JP-CLINS infection code system (the designated
  // infection tests, which alone among Observations may carry LTS).
  bool infection = false;
  json::object resource;  // the resource as sent
};

// The facts of a valid registration bundle.
struct RegistrationBundle {
  BundleIdentifier identifier;
  ItemType item_type = ItemType::kCondition;
  std::string insured_person_id;                // JP_Insurance_memberID value, as sent
  std::optional<std::string> patient_local_id;  // urn:oid:...20.3.51.1<facility> value
  json::object patient;                         // entry[0].resource
  std::vector<RegisteredResource> resources;    // empty: the bundle deletes its identifier
  // A Patient-only bundle deletes everything registered under its identifier.
  bool is_deletion() const { return resources.empty(); }
};

// Validates a registration bundle sent by the facility sender_facility_code (10 digits).
// Every problem is reported in one error (kInvalid when some JSON is malformed, else
// kBusinessRule); each issue has its element path and its text starts with the rule id in
// brackets, e.g. "[renkei:flag-placement] ...". No I/O.
Result<RegistrationBundle> ValidateRegistrationBundle(const json::object& bundle,
                                                      std::string_view sender_facility_code);
// As above, and first refuses (kTooLarge) a submission of more than
// kMaxRegistrationBundleBytes; body_bytes is the size of the request body.
Result<RegistrationBundle> ValidateRegistrationBundle(const json::object& bundle,
                                                      std::string_view sender_facility_code,
                                                      size_t body_bytes);

}  // namespace renkei::clinical
