// The rules, in the order they are applied. Each cites where it comes from so that a reader can
// check it against DOMAIN.md / DESIGN.md and the issue "Access policy" (its legal bases 1-7 and
// "Beyond the national system"). Every reason is a static string: no allocation per call.
#include "access/decision.h"

#include <algorithm>
#include <array>

namespace renkei::access {
namespace {

constexpr std::array<std::string_view, kCategoryCount> kCategoryNames = {
    "demographics",   "coverage",        "diagnoses",        "infections",
    "surgery",        "drug_allergies",  "other_allergies",  "lab_results",
    "prescriptions",  "checkup_results", "referral_letters", "discharge_summaries",
    "access_history", "visits",
};

Decision Deny(std::string_view reason, uint8_t masks = kMaskNone) {
  return Decision{false, {}, reason, masks};
}
Decision Permit(std::string_view basis, uint8_t masks) {
  return Decision{true, basis, {}, masks};
}

template <typename Strings>
bool Contains(const Strings& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const auto& s) { return s == value; });
}

// The consent group that opens a category at the card reader (DOMAIN.md §2 item table, §3:
// "surgery information, clinical and medication information, checkup information"). Registry
// data needed to identify the patient (demographics, coverage) open with any consent (0 here
// means "any group"); the access history is never opened by a consent.
constexpr uint8_t kAnyGroup = 0;
constexpr uint8_t kNoGroup = 0xff;
uint8_t GroupOf(Category c) {
  switch (c) {
    case Category::kDemographics:
    case Category::kCoverage:
      return kAnyGroup;
    case Category::kSurgery:
    case Category::kDiagnoses:
    case Category::kInfections:
      return kConsentSurgery;
    case Category::kDrugAllergies:
    case Category::kOtherAllergies:
    case Category::kLabResults:
    case Category::kPrescriptions:
    case Category::kVisits:  // claims-derived clinical history (DOMAIN.md §1)
    case Category::kReferralLetters:
    case Category::kDischargeSummaries:
      return kConsentClinical;
    case Category::kCheckupResults:
      return kConsentCheckup;
    case Category::kAccessHistory:
      return kNoGroup;
  }
  return kNoGroup;
}

// Care providers: the facilities that treat patients and may hold a card reader consent or
// view in a disaster (DOMAIN.md §1). Insurers, the ministry and research bodies never view
// identified clinical data through this door.
bool IsCareProvider(FacilityType t) {
  return t == FacilityType::kHospital || t == FacilityType::kClinic ||
         t == FacilityType::kDentalClinic || t == FacilityType::kPharmacy;
}

// What a pharmacy needs (issue, legal basis 2): medication, allergies and lab results, plus the
// registry data that identify the patient; not diagnoses, documents or checkups.
bool PharmacistMayView(Category c) {
  switch (c) {
    case Category::kDemographics:
    case Category::kCoverage:
    case Category::kPrescriptions:
    case Category::kDrugAllergies:
    case Category::kOtherAllergies:
    case Category::kLabResults:
      return true;
    default:
      return false;
  }
}

// The ambulance crew's limited set (issue, legal basis 4; DOMAIN.md §1 マイナ救急): diagnoses,
// current medication, allergies, infections, recent facilities visited, and the identity
// they confirmed with the card.
bool AmbulanceMayView(Category c) {
  switch (c) {
    case Category::kDemographics:
    case Category::kDiagnoses:
    case Category::kPrescriptions:
    case Category::kDrugAllergies:
    case Category::kOtherAllergies:
    case Category::kInfections:
    case Category::kVisits:
      return true;
    default:
      return false;
  }
}

// Qualified staff only (DOMAIN.md §3; Safety Management Guideline 6.0; issue legal basis 2):
// physicians and dentists view clinical information; pharmacists what a pharmacy needs;
// nurses only where the facility enabled it; clerks never (eligibility only).
std::string_view StaffRefusal(const Actor& actor, Category c, const AccessFacts& facts) {
  switch (actor.qualification) {
    case Qualification::kPhysician:
    case Qualification::kDentist:
      return {};
    case Qualification::kPharmacist:
      if (PharmacistMayView(c)) return {};
      return "pharmacists see medication, allergies and lab results only (not diagnoses, "
             "referral letters, discharge summaries or checkups)";
    case Qualification::kNurse:
      if (facts.nurses_may_view) return {};
      return "nurses may view only where the facility has enabled it";
    case Qualification::kClerk:
      return "clerks may verify eligibility but never view clinical information";
    case Qualification::kParamedic:
      return "paramedics view only as an ambulance crew of a fire department";
    case Qualification::kNone:
      break;
  }
  return "only qualified staff may view patient information";
}

// Legal basis 1 (TREAT): an active card consent of this patient for this facility covering the
// category. When none matches, the reason names the closest miss.
Decision DecideTreat(const AccessRequest& r, const AccessFacts& facts) {
  const uint8_t needed = GroupOf(r.item.category);
  std::string_view miss = "no card consent from this patient for this facility";
  int miss_rank = 0;
  auto note = [&](int rank, std::string_view reason) {
    if (rank > miss_rank) {
      miss_rank = rank;
      miss = reason;
    }
  };
  for (const CardConsent& c : facts.consents) {
    if (c.facility_code != r.actor.facility_code) continue;
    const bool covers = needed == kAnyGroup ? c.groups != 0 : (c.groups & needed) == needed;
    if (c.revoked && c.revoked_at <= facts.now) {
      note(2, "the patient revoked the card consent for this facility");
      continue;
    }
    if (facts.now < c.signed_at || facts.now >= c.signed_at + kConsentWindow) {
      note(1, "the card consent for this facility is not open (it lasts 24 hours after signing)");
      continue;
    }
    if (!covers) {
      note(3, "the patient's card consent does not cover this category");
      continue;
    }
    return Permit("TREAT", kMaskNone);
  }
  return Deny(miss);
}

// Legal basis 3 (ETREAT, DOMAIN.md §1 救急時医療情報閲覧): emergency hospitals only (clinics and
// pharmacies refused), physicians only, with a stated reason and the declaration that consent
// cannot be obtained.
Decision DecideEmergency(const AccessRequest& r) {
  if (r.actor.facility_type != FacilityType::kHospital || !r.actor.emergency_hospital) {
    return Deny("emergency viewing is open only to hospitals receiving emergency patients");
  }
  if (r.actor.qualification != Qualification::kPhysician) {
    return Deny("only physicians may use emergency viewing");
  }
  if (r.purpose.reason.empty() || !r.purpose.consent_cannot_be_obtained) {
    return Deny(
        "emergency viewing needs a stated reason and the declaration that consent "
        "cannot be obtained");
  }
  return Permit("ETREAT", kMaskNone);
}

// Legal basis 4 (ETREAT, DOMAIN.md §1 マイナ救急): paramedics of a fire department, with verbal
// consent recorded or the declaration that it could not be obtained, limited item set.
Decision DecideAmbulance(const AccessRequest& r) {
  if (r.actor.facility_type != FacilityType::kFireDepartment ||
      r.actor.qualification != Qualification::kParamedic) {
    return Deny("ambulance viewing is open only to paramedics of a fire department");
  }
  if (!r.purpose.verbal_consent && !r.purpose.consent_cannot_be_obtained) {
    return Deny(
        "ambulance viewing needs verbal consent or the declaration that it could not "
        "be obtained");
  }
  if (!AmbulanceMayView(r.item.category)) {
    return Deny(
        "ambulance crews see diagnoses, current medication, allergies, infections and "
        "recent facilities only");
  }
  return Permit("ETREAT",
                r.item.category == Category::kPrescriptions ? kMaskCurrentMedication : kMaskNone);
}

// Legal basis 5 (DISASTER, DOMAIN.md §1 災害時モード): a care provider whose prefecture is in a
// declaration whose period [start, end) contains now; verbal consent or the declaration that
// it could not be obtained. Declarations end by themselves (end is exclusive).
Decision DecideDisaster(const AccessRequest& r, const AccessFacts& facts) {
  if (!r.purpose.verbal_consent && !r.purpose.consent_cannot_be_obtained) {
    return Deny(
        "disaster viewing needs verbal consent or the declaration that it could not be "
        "obtained");
  }
  bool region = false;
  for (const DisasterDeclaration& d : facts.declarations) {
    if (!Contains(d.prefectures, r.actor.prefecture)) continue;
    region = true;
    if (d.start <= facts.now && facts.now < d.end) return Permit("DISASTER", kMaskNone);
  }
  return Deny(region ? "no disaster declaration for this region is in force now"
                     : "the facility is outside every declared disaster region");
}

// Legal basis 6 (PATRQT, DOMAIN.md §1 マイナポータル, §2): the patient sees their own data except
// referral letters, discharge summaries and items flagged UNINFORMED; and (rule 7) not items
// flagged not-to-provide. Their own hidden items are theirs to see.
Decision DecidePatient(const AccessRequest& r) {
  if (r.purpose.purpose != Purpose::kPatientRequest) {
    return Deny("patients read their own information as PATRQT only");
  }
  if (r.actor.patient_id.empty() || r.actor.patient_id != r.patient_id) {
    return Deny("patients may read only their own information");
  }
  if (r.item.category == Category::kReferralLetters ||
      r.item.category == Category::kDischargeSummaries) {
    return Deny("referral letters and discharge summaries are not shown in the patient portal");
  }
  if (r.item.uninformed) return Deny("this item is not yet disclosed to the patient");
  if (r.item.undelivered) return Deny("the registering facility marked this item not-to-provide");
  return Permit("PATRQT", kMaskNone);
}

// Registry data only: the demographics and coverage that identify a person and their insurance.
bool IsRegistryCategory(Category c) {
  return c == Category::kDemographics || c == Category::kCoverage;
}

// HOPERAT (DESIGN.md §4 roles): the ministry maintains the national registry of people and
// their coverage. It is not a care provider and has no basis to view clinical information.
Decision DecideOperations(const AccessRequest& r) {
  if (r.actor.facility_type != FacilityType::kMinistry) {
    return Deny("registry operations (HOPERAT) are the ministry's purpose only");
  }
  if (!IsRegistryCategory(r.item.category)) {
    return Deny("the ministry maintains demographics and coverage only, not clinical information");
  }
  return Permit("HOPERAT", kMaskNone);
}

// COVERAGE (DOMAIN.md §1 online eligibility: insurers register the people they insure): an
// insurer reads the demographics of the people it insures, the Coverage it pays and the
// checkup reports naming it as the insurer (issue 5 "Checkup report": visible to the patient's
// insurer; as for Coverage, registering_facility carries the insurer number the report names);
// nothing else clinical, nobody else's.
Decision DecideCoverage(const AccessRequest& r, const AccessFacts& facts) {
  if (r.actor.facility_type != FacilityType::kInsurer) {
    return Deny("the COVERAGE purpose is an insurer's only");
  }
  bool insures = false;
  switch (r.item.category) {
    case Category::kCoverage:
    case Category::kCheckupResults:
      insures = r.item.registering_facility == r.actor.facility_code;
      break;
    case Category::kDemographics:
      insures = Contains(facts.insurers, r.actor.facility_code);
      break;
    default:
      break;
  }
  if (!insures) {
    return Deny(
        "insurers may read only the demographics, coverage and checkup reports of the people "
        "they insure");
  }
  return Permit("COVERAGE", kMaskNone);
}

// "Beyond the national system" (DESIGN.md §5): the patient's instructions bind every other
// facility and every purpose. Emergency and disaster access do not reveal hidden items and
// say that some are hidden; the same holds for opt-out, allow and block lists, each being the
// patient's explicit instruction about exactly that facility.
std::string_view RestrictionRefusal(const AccessRequest& r, const PatientRestrictions& p) {
  if (p.opted_out) return "the patient has opted out of sharing";
  if (Contains(p.blocked_facilities, r.actor.facility_code)) {
    return "the patient has blocked this facility";
  }
  if (!p.allowed_facilities.empty() && !Contains(p.allowed_facilities, r.actor.facility_code)) {
    return "the patient allows only other listed facilities";
  }
  return {};
}

}  // namespace

std::string_view ToString(Category c) {
  return kCategoryNames[static_cast<size_t>(c)];
}

bool ParseCategory(std::string_view text, Category& out) {
  for (size_t i = 0; i < kCategoryNames.size(); ++i) {
    if (kCategoryNames[i] == text) {
      out = static_cast<Category>(i);
      return true;
    }
  }
  return false;
}

uint8_t ParseConsentGroup(std::string_view w) {
  if (w == "all") return kConsentAll;
  if (w == "surgery" || w == "diagnoses" || w == "infections") return kConsentSurgery;
  if (w == "clinical" || w == "medication" || w == "allergies" || w == "labs") {
    return kConsentClinical;
  }
  if (w == "checkup") return kConsentCheckup;
  return 0;
}

std::vector<std::string_view> ConsentGroupWords(uint8_t groups) {
  if ((groups & kConsentAll) == kConsentAll) return {"all"};
  std::vector<std::string_view> out;
  if (groups & kConsentSurgery) out.push_back("surgery");
  if (groups & kConsentClinical) out.push_back("clinical");
  if (groups & kConsentCheckup) out.push_back("checkup");
  return out;
}

Actor ActorOf(const Principal& who) {
  Actor a;
  if (who.kind == PrincipalKind::kPatient) {
    a.kind = ActorKind::kPatient;
    a.patient_id = who.subject;
    return a;
  }
  a.kind = who.facility_type == FacilityType::kResearch ? ActorKind::kResearcher
                                                        : ActorKind::kPractitioner;
  a.facility_code = who.facility_code;
  a.facility_type = who.facility_type;
  a.prefecture = who.prefecture;
  a.emergency_hospital = who.emergency_hospital;
  a.qualification =
      who.kind == PrincipalKind::kPractitioner ? who.qualification : Qualification::kNone;
  return a;
}

namespace {
// A facility code no actor has: the addressee of a document sent to another facility.
constexpr std::string_view kElsewhere = "-";
}  // namespace

SearchScope ScopeFor(const Actor& actor, std::string_view patient_id, const PurposeClaim& purpose,
                     const AccessFacts& facts) {
  SearchScope scope;
  AccessRequest r;
  r.actor = actor;
  r.patient_id = patient_id;
  r.purpose = purpose;
  // Facts without the hidden items: they are excluded item by item, not by category.
  const bool has_hidden = !facts.restrictions.hidden_item_ids.empty();
  for (int i = 0; i < kCategoryCount; ++i) {
    r.item = ItemFacts{};
    r.item.category = static_cast<Category>(i);
    if (Decision d = Decide(r, facts); d.permit) {
      scope.categories |= static_cast<uint16_t>(1u << i);
      scope.masks |= d.masks & kMaskHiddenNotice;
    }
    if (!actor.facility_code.empty()) {
      r.item.registering_facility = actor.facility_code;
      if (Decide(r, facts).permit) scope.own_categories |= static_cast<uint16_t>(1u << i);
      r.item.registering_facility = {};
    }
    // Documents addressed elsewhere, and consented documents addressed to the actor.
    r.item.addressee = kElsewhere;
    if (Decide(r, facts).permit) scope.addressed_elsewhere |= static_cast<uint16_t>(1u << i);
    r.item.addressee = actor.facility_code;
    r.item.document_consent = true;
    const bool consented = !actor.facility_code.empty() && Decide(r, facts).permit;
    if (consented) scope.consented_documents |= static_cast<uint16_t>(1u << i);
    const bool plain = (scope.categories & (1u << i)) != 0;
    if (plain || !consented) {
      r.item.addressee = {};
      r.item.document_consent = false;
    }
    if (plain || consented) {
      r.item.undelivered = true;
      if (!Decide(r, facts).permit) scope.exclude_undelivered = true;
      r.item.undelivered = false;
      r.item.uninformed = true;
      if (!Decide(r, facts).permit) scope.exclude_uninformed = true;
      r.item.uninformed = false;
      if (has_hidden) {
        r.item.item_id = facts.restrictions.hidden_item_ids.front();
        if (!Decide(r, facts).permit) scope.hidden_item_ids = &facts.restrictions.hidden_item_ids;
      }
    }
  }
  return scope;
}

bool InScope(const SearchScope& scope, std::string_view actor_facility, const ItemFacts& item) {
  const uint16_t bit = static_cast<uint16_t>(1u << static_cast<int>(item.category));
  const bool own =
      !item.registering_facility.empty() && item.registering_facility == actor_facility;
  if (own) {
    if (!(scope.own_categories & bit)) return false;
    // The own facility's items: only the patient's own view drops UNINFORMED ones (the patient
    // has no facility, so this branch is for practitioners, for whom the flag is a mask).
    return true;
  }
  bool category = (scope.categories & bit) != 0;
  if (!item.addressee.empty()) {
    if (item.addressee != actor_facility) {
      category = (scope.addressed_elsewhere & bit) != 0;
    } else if (item.document_consent) {
      category = category || (scope.consented_documents & bit) != 0;
    }
  }
  if (!category) return false;
  if (item.undelivered && scope.exclude_undelivered) return false;
  if (item.uninformed && scope.exclude_uninformed) return false;
  if (scope.hidden_item_ids != nullptr && !item.item_id.empty() &&
      Contains(*scope.hidden_item_ids, item.item_id)) {
    return false;
  }
  return true;
}

bool ConsentIsActive(const CardConsent& c, std::string_view facility_code, TimePoint now) {
  if (c.facility_code != facility_code) return false;
  if (c.revoked && c.revoked_at <= now) return false;
  return c.signed_at <= now && now < c.signed_at + kConsentWindow;
}

namespace {
thread_local uint64_t decisions_made = 0;
}  // namespace

uint64_t DecisionsMadeOnThisThread() {
  return decisions_made;
}

Decision Decide(const AccessRequest& r, const AccessFacts& facts) {
  ++decisions_made;
  // Research (HRESCH) works on de-identified extracts in research/ only (DESIGN.md §5).
  if (r.actor.kind == ActorKind::kResearcher || r.purpose.purpose == Purpose::kResearch) {
    return Deny("research uses de-identified extracts only, never identified patient data");
  }
  if (r.actor.kind == ActorKind::kPatient) return DecidePatient(r);

  // From here on: a practitioner at a facility.
  const Purpose purpose = r.purpose.purpose;
  if (purpose == Purpose::kPatientRequest) return Deny("PATRQT is the patient's own purpose");
  // Registry purposes: the patient's restrictions are about sharing care information between
  // facilities, which these are not.
  if (purpose == Purpose::kOperations) return DecideOperations(r);
  if (purpose == Purpose::kCoverage) return DecideCoverage(r, facts);
  if (r.item.category == Category::kAccessHistory) {
    return Deny("the access history is shown to the patient only");
  }

  // Who may view for this purpose (issue legal bases 2-5).
  Decision basis;
  switch (purpose) {
    case Purpose::kAmbulance:
      basis = DecideAmbulance(r);
      if (!basis.permit) return basis;
      break;
    case Purpose::kEmergency:
      basis = DecideEmergency(r);
      if (!basis.permit) return basis;
      break;
    case Purpose::kTreat:
    case Purpose::kDisaster: {
      if (!IsCareProvider(r.actor.facility_type)) {
        return Deny("only hospitals, clinics and pharmacies view patient information");
      }
      if (auto refusal = StaffRefusal(r.actor, r.item.category, facts); !refusal.empty()) {
        return Deny(refusal);
      }
      break;
    }
    case Purpose::kPatientRequest:
    case Purpose::kResearch:
    case Purpose::kOperations:
    case Purpose::kCoverage:
      break;  // handled above
  }

  const uint8_t uninformed_mask = r.item.uninformed ? kMaskUninformedFlag : kMaskNone;

  // The registering facility's own item: consent governs viewing information held at OTHER
  // facilities (DOMAIN.md §1, §2 "consent governs viewing"), and neither the not-to-provide
  // flag nor the patient's restrictions (aimed at other facilities) apply to it.
  if (!r.item.registering_facility.empty() &&
      r.item.registering_facility == r.actor.facility_code) {
    return Permit(basis.permit ? basis.basis : std::string_view("TREAT"), uninformed_mask);
  }

  // Documents sent to one facility (issue 5 "Referral letter": only the addressee may read
  // it), whatever the purpose.
  const bool addressed = !r.item.addressee.empty();
  if (addressed && r.item.addressee != r.actor.facility_code) {
    return Deny("only the addressee facility may read this document");
  }

  // The legal basis for a consent- or region-gated purpose.
  if (purpose == Purpose::kTreat) {
    if (addressed && r.item.document_consent) {
      // Viewing consent patterns 1 and 2 of the national service: the patient consented to
      // this document at the referring facility or in the portal.
      basis = Permit("TREAT", kMaskNone);
    } else {
      basis = DecideTreat(r, facts);
      // Pattern 3: pending until the patient consents at the addressee's card reader.
      if (!basis.permit && addressed) {
        return Deny(
            "the document is pending the patient's consent (at the referring facility, in the "
            "portal, or at this facility's card reader)");
      }
      if (!basis.permit) return basis;
    }
  } else if (purpose == Purpose::kDisaster) {
    basis = DecideDisaster(r, facts);
    if (!basis.permit) return basis;
  }

  // Rule 7: not-to-provide items are shown to no other facility, whatever the purpose. Like the
  // restrictions below, checked once a basis exists, so a caller without one learns nothing.
  if (r.item.undelivered) return Deny("the registering facility marked this item not-to-provide");

  // The patient's restrictions, checked after a basis exists so that a caller without one
  // learns nothing about them.
  const PatientRestrictions& p = facts.restrictions;
  if (auto refusal = RestrictionRefusal(r, p); !refusal.empty()) return Deny(refusal);
  const bool urgent = purpose != Purpose::kTreat;
  const uint8_t hidden_notice = urgent && !p.hidden_item_ids.empty() ? kMaskHiddenNotice : 0;
  if (!r.item.item_id.empty() && Contains(p.hidden_item_ids, r.item.item_id)) {
    return Deny("some items are hidden at the patient's request", kMaskHiddenNotice);
  }
  return Permit(basis.basis, basis.masks | uninformed_mask | hidden_notice);
}

}  // namespace renkei::access
