// The one door for patient data (DESIGN.md §3.1, §5; issue "Access policy"): a pure function
// that, given who asks, for which item of which patient, for what purpose, and the facts that
// hold now (card consents, disaster declarations, the patient's restrictions), says permit or
// deny, the legal basis (HL7 PurposeOfUse) and what to mask. No I/O, no allocation: callers
// load the facts (facts_store.h) and write the audit entry before data leaves.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/principal.h"

namespace renkei::access {

// What kind of patient data is read. The six items and three documents of DOMAIN.md §2, plus
// the registry data (demographics, coverage), the claims-derived history (surgery, visits) of
// DOMAIN.md §1 and the patient's access history.
enum class Category : uint8_t {
  kDemographics,
  kCoverage,
  kDiagnoses,
  kInfections,
  kSurgery,
  kDrugAllergies,
  kOtherAllergies,
  kLabResults,
  kPrescriptions,
  kCheckupResults,
  kReferralLetters,
  kDischargeSummaries,
  kAccessHistory,
  kVisits,  // recent facilities visited (claims-derived), shown to ambulance crews
};
inline constexpr int kCategoryCount = 14;

// Stable spellings ("demographics", "drug_allergies", ...) for data files and audit.
std::string_view ToString(Category c);
bool ParseCategory(std::string_view text, Category& out);

// The consent groups a patient chooses at the card reader (DOMAIN.md §3), as a bit set.
enum ConsentGroup : uint8_t {
  kConsentSurgery = 1,   // surgery + diagnoses + infections
  kConsentClinical = 2,  // clinical + medication + allergies + lab results
  kConsentCheckup = 4,   // specific health checkup results
  kConsentAll = 7,
};
// Maps one card-reader category word to its group: "all"; "surgery", "diagnoses",
// "infections"; "clinical", "medication", "allergies", "labs"; "checkup". 0 when unknown.
uint8_t ParseConsentGroup(std::string_view word);
// The canonical words of a group set ("all", or any of "surgery", "clinical", "checkup").
std::vector<std::string_view> ConsentGroupWords(uint8_t groups);

// Who asks. Views into the caller's strings (the Principal); nothing is copied.
enum class ActorKind : uint8_t { kPractitioner, kPatient, kResearcher };
struct Actor {
  ActorKind kind = ActorKind::kPractitioner;
  std::string_view facility_code;  // 10-digit medical institution code
  FacilityType facility_type = FacilityType::kClinic;
  std::string_view prefecture;  // "01".."47"
  bool emergency_hospital = false;
  Qualification qualification = Qualification::kNone;
  std::string_view patient_id;  // kPatient: the logged-in patient
};

// The actor for a verified principal: a patient, a researcher (research facilities) or a
// practitioner at a facility (system principals too: they have no qualification, so the
// decision refuses them). Views into who's strings: who must outlive the Actor.
Actor ActorOf(const Principal& who);

// The purpose the caller claims, with what each purpose requires it to state.
enum class Purpose : uint8_t {
  kTreat,           // TREAT: card consent at the reader
  kEmergency,       // ETREAT: emergency hospital, physician, reason + "consent cannot be obtained"
  kAmbulance,       // ETREAT: fire-department paramedic, verbal consent or declaration
  kDisaster,        // DISASTER: facility inside a declared region and period
  kPatientRequest,  // PATRQT: the patient themself
  kResearch,        // HRESCH: research/ only, never identified data
  kOperations,      // HOPERAT: the ministry maintaining the registry (demographics, coverage)
  kCoverage,        // COVERAGE: an insurer reading the records of the people it insures
};
struct PurposeClaim {
  Purpose purpose = Purpose::kTreat;
  std::string_view reason;                  // emergency: the stated reason (required)
  bool consent_cannot_be_obtained = false;  // the practitioner's declaration
  bool verbal_consent = false;              // ambulance/disaster: verbal consent recorded
};

// The item read and its flags as the registering facility set them (DOMAIN.md §2).
struct ItemFacts {
  Category category = Category::kDemographics;
  std::string_view item_id;               // e.g. "Condition/abc"; empty for the record itself
  std::string_view registering_facility;  // facility code that registered the item (for
                                          // Coverage: the paying insurer's number)
  bool uninformed = false;                // 未告知: not yet told to the patient
  std::string_view uninformed_date;       // the flag's date, shown with the item
  bool undelivered = false;               // not-to-provide: only the registering facility
  // Documents sent to one facility (referral letters and the discharge summaries they carry):
  // the addressee's facility code; only it (besides the author) may read them.
  std::string_view addressee;
  // The patient consented to this one document (at the referring facility, or later in the
  // portal): opens it to the addressee on TREAT without a card consent.
  bool document_consent = false;
};

struct AccessRequest {
  Actor actor;
  std::string_view patient_id;
  ItemFacts item;
  PurposeClaim purpose;
};

// A consent given at a card reader; active from signed_at for 24 hours unless revoked.
struct CardConsent {
  std::string facility_code;
  uint8_t groups = 0;  // ConsentGroup bits
  TimePoint signed_at{};
  bool revoked = false;
  TimePoint revoked_at{};  // revocation takes effect at this instant (the portal: at once)
};

// A disaster declared by the ministry: these prefectures, from start until end (exclusive).
struct DisasterDeclaration {
  std::vector<std::string> prefectures;
  TimePoint start{};
  TimePoint end{};
};

// What the patient chose beyond the national system (DESIGN.md §5).
struct PatientRestrictions {
  bool opted_out = false;
  std::vector<std::string> allowed_facilities;  // non-empty: only these other facilities
  std::vector<std::string> blocked_facilities;
  std::vector<std::string> hidden_item_ids;  // hidden from every other facility
};

// Everything the decision depends on besides the request. The caller loads it per patient.
struct AccessFacts {
  std::vector<CardConsent> consents;  // this patient's consents (any facility)
  std::vector<DisasterDeclaration> declarations;
  PatientRestrictions restrictions;
  bool nurses_may_view = false;  // the requesting facility's setting
  // The insurer numbers paying the patient's Coverage: loaded only for insurer actors, whose
  // COVERAGE basis reaches exactly the people they insure.
  std::vector<std::string> insurers;
  TimePoint now{};
};

// How long a card consent opens the view (DOMAIN.md §2: "open for 24 hours after consent").
inline constexpr std::chrono::hours kConsentWindow{24};

// What the response must do besides returning the item (bit set).
enum Mask : uint8_t {
  kMaskNone = 0,
  kMaskUninformedFlag = 1,     // show the UNINFORMED flag with its date next to the item
  kMaskHiddenNotice = 2,       // say "some items are hidden at the patient's request"
  kMaskCurrentMedication = 4,  // ambulance: current medication only
};

struct Decision {
  bool permit = false;
  std::string_view basis;   // HL7 PurposeOfUse: TREAT, ETREAT, DISASTER, PATRQT; empty on deny
  std::string_view reason;  // why (human-readable, for the 403 OperationOutcome and audit)
  uint8_t masks = kMaskNone;
};

// The decision. basis and reason point at static strings (never at the request), so the
// Decision outlives its inputs. Rules and their sources are in decision.cpp, in order.
Decision Decide(const AccessRequest& request, const AccessFacts& facts);

// What a search of one patient's items may return, so that a search service can put it into
// its query (the issue: consent is enforced inside queries, so that totals and paging reveal
// nothing). Computed from Decide itself, one call per category, so the two cannot disagree:
// an item is returned exactly when Decide would permit reading it.
struct SearchScope {
  uint16_t categories = 0;           // bit 1 << Category: items registered by other facilities
  uint16_t own_categories = 0;       // items the actor's own facility registered
  bool exclude_undelivered = false;  // drop not-to-provide items of other facilities
  bool exclude_uninformed = false;   // drop UNINFORMED items (the patient's own view)
  // Documents addressed to one facility (ItemFacts.addressee): the categories still returned
  // when addressed to another facility, and those the patient's consent to a document opens
  // when addressed to the actor's facility.
  uint16_t addressed_elsewhere = 0;
  uint16_t consented_documents = 0;
  // Items the patient hid from other facilities (nullptr when none apply): drop them unless
  // the actor's facility registered them.
  const std::vector<std::string>* hidden_item_ids = nullptr;
  // kMaskHiddenNotice when the answer must say that some items are hidden at the patient's
  // request (emergency, ambulance, disaster); per-item masks still come from Decide.
  uint8_t masks = kMaskNone;
};
SearchScope ScopeFor(const Actor& actor, std::string_view patient_id, const PurposeClaim& purpose,
                     const AccessFacts& facts);
// Whether an item falls inside the scope (the rule a query implements; used by tests to prove
// ScopeFor agrees with Decide).
bool InScope(const SearchScope& scope, std::string_view actor_facility, const ItemFacts& item);

// How many decisions Decide has made on the calling thread. Route handlers run on the calling
// thread, so a test can prove that a handler asked the decision (the route-table walk).
uint64_t DecisionsMadeOnThisThread();

// True when the consent is active for this facility at `now` (signed at most 24 hours ago,
// strictly: at exactly 24:00 it has closed; not revoked at or before now).
bool ConsentIsActive(const CardConsent& consent, std::string_view facility_code, TimePoint now);

}  // namespace renkei::access
