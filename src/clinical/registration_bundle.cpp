#include "clinical/registration_bundle.h"

#include <fmt/format.h>

#include <set>

#include "clinical/clins_codes.h"
#include "clinical/registration_items.h"
#include "fhir/validation.h"

namespace renkei::clinical {

using fhir::Child;
using fhir::Index;
using fhir::IssueCollector;

std::string_view ToString(ItemType type) {
  switch (type) {
    case ItemType::kAllergyIntolerance:
      return "AllergyIntolerance";
    case ItemType::kCondition:
      return "Condition";
    case ItemType::kObservation:
      return "Observation";
  }
  return "";
}

std::optional<ItemType> ParseItemType(std::string_view text) {
  for (ItemType t : {ItemType::kAllergyIntolerance, ItemType::kCondition, ItemType::kObservation})
    if (ToString(t) == text) return t;
  return std::nullopt;
}

namespace {

// What the Patient entry contributes to the checks of the other entries.
struct PatientFacts {
  std::string full_url;
  std::string id;
  std::string insured_id;
};

void CheckProfile(const json::object& bundle, IssueCollector& c) {
  // The real example declares ".../JP_Bundle_CLINS|1": a canonical with a version suffix
  // names the same profile.
  const json::object* meta = json::GetObject(bundle, "meta");
  const json::array* profiles = meta ? json::GetArray(*meta, "profile") : nullptr;
  if (profiles != nullptr) {
    for (const auto& p : *profiles) {
      if (!p.is_string()) continue;
      std::string_view s = p.get_string();
      if (s == kBundleProfile || (s.starts_with(kBundleProfile) && s[kBundleProfile.size()] == '|'))
        return;
    }
  }
  RuleIssue(c, "Bundle.meta.profile", rule::kBundleProfile,
            fmt::format("meta.profile must include {}", kBundleProfile));
}

std::optional<ItemType> CheckResourceTag(const json::object& bundle, IssueCollector& c) {
  const json::object* meta = json::GetObject(bundle, "meta");
  const json::array* tags = meta ? json::GetArray(*meta, "tag") : nullptr;
  std::vector<size_t> found;
  if (tags != nullptr) {
    for (size_t i = 0; i < tags->size(); ++i) {
      if ((*tags)[i].is_object() &&
          json::GetString((*tags)[i].get_object(), "system") == kBundleResourceTypeSystem)
        found.push_back(i);
    }
  }
  if (found.size() != 1) {
    RuleIssue(c, "Bundle.meta.tag", rule::kBundleResourceTag,
              "meta.tag must name exactly one resource type (BundleResourceType_CS)");
    return std::nullopt;
  }
  std::string path = Index("Bundle.meta.tag", found[0]);
  auto code = json::GetString((*tags)[found[0]].get_object(), "code");
  auto type = code ? ParseItemType(*code) : std::nullopt;
  if (!type) {
    RuleIssue(c, Child(path, "code"), rule::kBundleResourceTag,
              "the resource type must be AllergyIntolerance, Condition or Observation");
  }
  return type;
}

std::optional<BundleIdentifier> CheckIdentifier(const json::object& bundle, std::string_view sender,
                                                IssueCollector& c) {
  const json::object* identifier = json::GetObject(bundle, "identifier");
  if (identifier == nullptr || json::GetString(*identifier, "system") != kBundleIdentifierSystem) {
    RuleIssue(c, "Bundle.identifier", rule::kBundleIdentifier,
              fmt::format("an identifier with system {} is required", kBundleIdentifierSystem));
    return std::nullopt;
  }
  BundleIdentifier out;
  auto value = json::GetString(*identifier, "value");
  if (!value || !ParseBundleIdentifier(*value, out.facility_code, out.year, out.local_id)) {
    RuleIssue(
        c, "Bundle.identifier.value", rule::kBundleIdentifier,
        "the bundle identifier must be facility(10)^year(20[2-3]x)^localid([A-Za-z0-9-]{1,36})");
    return std::nullopt;
  }
  out.value = std::string(*value);
  if (out.facility_code != sender) {
    RuleIssue(c, "Bundle.identifier.value", rule::kSenderFacility,
              "the facility of the bundle identifier is not the sending facility");
  }
  return out;
}

void CheckNames(const json::object& resource, const std::string& path, IssueCollector& c) {
  const json::array* names = json::GetArray(resource, "name");
  if (names == nullptr) return;
  auto check = [&](const json::value& v, const std::string& p) {
    if (v.is_string() && HasFullWidthSpace(v.get_string()))
      RuleIssue(c, p, rule::kNameFullWidthSpace,
                "names are written without full-width spaces (U+3000)");
  };
  for (size_t i = 0; i < names->size(); ++i) {
    if (!(*names)[i].is_object()) continue;
    const auto& name = (*names)[i].get_object();
    std::string np = Index(Child(path, "name"), i);
    for (std::string_view key : {"text", "family"})
      if (const json::value* v = json::Find(name, key)) check(*v, Child(np, key));
    if (const json::array* given = json::GetArray(name, "given"))
      for (size_t k = 0; k < given->size(); ++k) check((*given)[k], Index(Child(np, "given"), k));
  }
}

std::optional<PatientFacts> CheckPatient(const json::object& entry, const std::string& path,
                                         std::string_view sender, RegistrationBundle& out,
                                         IssueCollector& c) {
  const json::object& patient = entry.at("resource").get_object();
  if (json::GetString(patient, "resourceType") != "Patient") {
    RuleIssue(c, Child(path, "resourceType"), rule::kFirstEntryPatient,
              "the first entry must be the Patient");
    return std::nullopt;
  }
  PatientFacts facts;
  facts.full_url = std::string(json::GetString(entry, "fullUrl").value_or(""));
  facts.id = std::string(json::GetString(patient, "id").value_or(""));
  bool insured = false;
  bool insured_malformed = false;
  if (const json::array* ids = json::GetArray(patient, "identifier")) {
    for (size_t i = 0; i < ids->size(); ++i) {
      if (!(*ids)[i].is_object()) continue;
      const auto& id = (*ids)[i].get_object();
      std::string ip = Index(Child(path, "identifier"), i);
      auto system = json::GetString(id, "system").value_or("");
      auto value = json::GetString(id, "value");
      if (system == kInsuredPersonSystem) {
        if (!value || !IsInsuredPersonId(*value)) {
          insured_malformed = true;
          RuleIssue(c, Child(ip, "value"), rule::kInsuredPersonId,
                    "the insured-person identifier must be insurer(8):symbol:number:branch(2)");
        } else if (!insured) {
          insured = true;
          facts.insured_id = std::string(*value);
        }
      } else if (system.starts_with(kPatientLocalIdSystemPrefix)) {
        // urn:oid:1.2.392.100495.20.3.51.1 + the facility's 10 digits (JP-FHIR.md).
        if (system.substr(kPatientLocalIdSystemPrefix.size()) != sender) {
          RuleIssue(c, Child(ip, "system"), rule::kLocalIdFacility,
                    "the facility-local patient id must be issued by the sending facility");
        } else if (value) {
          out.patient_local_id = std::string(*value);
        }
      }
    }
  }
  if (!insured && !insured_malformed) {
    RuleIssue(c, Child(path, "identifier"), rule::kInsuredPersonId,
              "the Patient must carry the insured-person identifier (JP_Insurance_memberID)");
  }
  CheckNames(patient, path, c);
  out.insured_person_id = facts.insured_id;
  out.patient = patient;
  return facts;
}

// Every literal reference in the resource (contained resources included) is either local
// ("#id" naming a contained resource) or the bundle's Patient: only the Patient is
// referenced across entries (JP-FHIR.md).
void CheckReferences(const json::value& v, const std::string& path,
                     const std::set<std::string>& local, const PatientFacts& patient,
                     IssueCollector& c) {
  if (v.is_array()) {
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) CheckReferences(a[i], Index(path, i), local, patient, c);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& kv : v.get_object()) {
    std::string p = Child(path, kv.key());
    if (kv.key() == "reference" && kv.value().is_string()) {
      std::string_view ref = kv.value().get_string();
      bool ok =
          (ref.starts_with('#') && (ref.size() == 1 || local.count(std::string(ref.substr(1))))) ||
          (!patient.full_url.empty() && ref == patient.full_url) ||
          (!patient.id.empty() && ref == "Patient/" + patient.id);
      if (!ok)
        RuleIssue(c, p, rule::kReferenceScope,
                  "only the bundle's Patient or a contained resource ('#id') may be referenced");
      continue;
    }
    CheckReferences(kv.value(), p, local, patient, c);
  }
}

// Condition.subject / Observation.subject / AllergyIntolerance.patient names the Patient,
// by reference (checked by CheckReferences) or by the insured-person identifier.
void CheckSubject(const json::object& resource, ItemType type, const std::string& path,
                  const PatientFacts& patient, IssueCollector& c) {
  std::string_view key = type == ItemType::kAllergyIntolerance ? "patient" : "subject";
  std::string sp = Child(path, key);
  const json::object* subject = json::GetObject(resource, key);
  if (subject == nullptr) {
    RuleIssue(c, sp, rule::kSubjectPatient, fmt::format("{} must reference the Patient", key));
    return;
  }
  if (json::GetString(*subject, "reference")) return;
  const json::object* identifier = json::GetObject(*subject, "identifier");
  if (identifier != nullptr && json::GetString(*identifier, "system") == kInsuredPersonSystem &&
      json::GetString(*identifier, "value") == patient.insured_id)
    return;
  RuleIssue(
      c, sp, rule::kSubjectPatient,
      fmt::format("{} must reference the Patient or carry its insured-person identifier", key));
}

void CheckInstitution(const json::object& resource, const std::string& path,
                      std::string_view sender, IssueCollector& c) {
  const json::array* extensions = json::GetArray(resource, "extension");
  bool found = false;
  if (extensions != nullptr) {
    for (size_t i = 0; i < extensions->size(); ++i) {
      if (!(*extensions)[i].is_object()) continue;
      const auto& ext = (*extensions)[i].get_object();
      if (json::GetString(ext, "url") != kInstitutionNumberExtension) continue;
      found = true;
      std::string vp = Child(Index(Child(path, "extension"), i), "valueIdentifier");
      const json::object* id = json::GetObject(ext, "valueIdentifier");
      auto value = id ? json::GetString(*id, "value") : std::nullopt;
      if (id == nullptr || json::GetString(*id, "system") != kFacilitySystem || !value ||
          !IsClinsFacilityCode(*value)) {
        RuleIssue(c, vp, rule::kInstitutionNumber,
                  "the institution number is a valueIdentifier of the medical-institution-no "
                  "system with 10 digits");
      } else if (*value != sender) {
        RuleIssue(c, Child(vp, "value"), rule::kSenderFacility,
                  "the institution number is not the sending facility");
      }
    }
  }
  if (!found) {
    RuleIssue(c, Child(path, "extension"), rule::kInstitutionNumber,
              "the JP_eCS_InstitutionNumber extension is required on every non-Patient resource");
  }
}

Flags CheckFlags(const json::object& resource, ItemType type, bool infection,
                 const std::string& path, IssueCollector& c) {
  Flags flags;
  const json::object* meta = json::GetObject(resource, "meta");
  const json::array* tags = meta ? json::GetArray(*meta, "tag") : nullptr;
  if (tags == nullptr) return flags;
  for (size_t i = 0; i < tags->size(); ++i) {
    if (!(*tags)[i].is_object()) continue;
    const auto& tag = (*tags)[i].get_object();
    if (json::GetString(tag, "system") != kFlagSystem) continue;
    std::string tp = Index(Child(Child(path, "meta"), "tag"), i);
    auto code = json::GetString(tag, "code").value_or("");
    if (code == "LTS") {
      // LTS on allergies, conditions and the designated infection tests only.
      if (type == ItemType::kObservation && !infection) {
        RuleIssue(c, tp, rule::kFlagPlacement,
                  "LTS is allowed on allergies, conditions and designated infection tests only");
      }
      flags.lts = true;
    } else if (code == "UNINFORMED" || code == "UNDELIVERED") {
      if (type != ItemType::kCondition) {
        RuleIssue(c, tp, rule::kFlagPlacement,
                  fmt::format("{} is allowed on conditions only", code));
      }
      (code == "UNINFORMED" ? flags.uninformed : flags.undelivered) = true;
    } else {
      RuleIssue(c, Child(tp, "code"), rule::kFlagCode,
                "the flag must be LTS, UNINFORMED or UNDELIVERED");
    }
  }
  return flags;
}

std::set<std::string> ContainedIds(const json::object& resource, const std::string& path,
                                   IssueCollector& c) {
  std::set<std::string> ids;
  const json::array* contained = json::GetArray(resource, "contained");
  if (contained == nullptr) return ids;
  for (size_t i = 0; i < contained->size(); ++i) {
    if (!(*contained)[i].is_object()) continue;
    const auto& r = (*contained)[i].get_object();
    if (auto id = json::GetString(r, "id")) ids.insert(std::string(*id));
    if (json::GetString(r, "resourceType") == "Practitioner")
      CheckNames(r, Index(Child(path, "contained"), i), c);
  }
  return ids;
}

}  // namespace

Result<RegistrationBundle> ValidateRegistrationBundle(const json::object& bundle,
                                                      std::string_view sender_facility_code,
                                                      size_t body_bytes) {
  if (body_bytes > kMaxRegistrationBundleBytes) {
    return Error(ErrorCode::kTooLarge, fmt::format("a registration bundle is limited to {} bytes",
                                                   kMaxRegistrationBundleBytes));
  }
  return ValidateRegistrationBundle(bundle, sender_facility_code);
}

Result<RegistrationBundle> ValidateRegistrationBundle(const json::object& bundle,
                                                      std::string_view sender) {
  IssueCollector c;
  fhir::CheckResourceShape(bundle, "Bundle", c);
  if (json::GetString(bundle, "resourceType") != "Bundle")
    return c.ToStatus("Bundle is not valid").error();

  RegistrationBundle out;
  if (json::GetString(bundle, "type") != "collection")
    RuleIssue(c, "Bundle.type", rule::kBundleType, "Bundle.type must be collection");
  CheckProfile(bundle, c);
  std::optional<ItemType> item_type = CheckResourceTag(bundle, c);
  std::optional<BundleIdentifier> identifier = CheckIdentifier(bundle, sender, c);

  const json::array* entries = json::GetArray(bundle, "entry");
  if (entries == nullptr || entries->empty()) {
    RuleIssue(c, "Bundle.entry", rule::kFirstEntryPatient,
              "the bundle must start with the Patient entry");
    return c.ToStatus("Registration bundle is not valid").error();
  }
  bool entries_ok = true;
  for (size_t i = 0; i < entries->size(); ++i) {
    const json::value& e = (*entries)[i];
    if (!e.is_object() || json::GetObject(e.get_object(), "resource") == nullptr) {
      c.Invalid(Child(Index("Bundle.entry", i), "resource"), "each entry must hold a resource");
      entries_ok = false;
    }
  }
  if (!entries_ok) return c.ToStatus("Registration bundle is not valid").error();

  std::optional<PatientFacts> patient =
      CheckPatient((*entries)[0].get_object(), "Bundle.entry[0].resource", sender, out, c);

  for (size_t i = 1; i < entries->size(); ++i) {
    const json::object& resource = (*entries)[i].get_object().at("resource").get_object();
    std::string path = Child(Index("Bundle.entry", i), "resource");
    auto type_text = json::GetString(resource, "resourceType").value_or("");
    std::optional<ItemType> type = ParseItemType(type_text);
    if (!type || (item_type && *type != *item_type)) {
      RuleIssue(c, Child(path, "resourceType"), rule::kEntryResourceType,
                item_type ? fmt::format("every entry after the Patient must be a {}",
                                        ToString(*item_type))
                          : std::string("entries after the Patient must be of the tagged type"));
      continue;
    }
    if (!item_type) continue;  // the tag is wrong: the entries cannot be judged by type

    RegisteredResource r;
    r.entry_index = i;
    r.type = *type;
    r.id = std::string(json::GetString(resource, "id").value_or(""));
    EntryContext ctx{resource, path};
    std::set<std::string> local = ContainedIds(resource, path, c);
    if (patient) {
      CheckReferences(resource, path, local, *patient, c);
      CheckSubject(resource, *type, path, *patient, c);
    }
    CheckInstitution(resource, path, sender, c);
    switch (*type) {
      case ItemType::kCondition:
        CheckEncounterAndDepartment(ctx, c);
        CheckCondition(ctx, c);
        break;
      case ItemType::kObservation:
        CheckEncounterAndDepartment(ctx, c);
        r.infection = CheckObservation(ctx, c);
        break;
      case ItemType::kAllergyIntolerance:
        CheckAllergy(ctx, c);
        break;
    }
    r.flags = CheckFlags(resource, *type, r.infection, path, c);
    r.resource = resource;
    out.resources.push_back(std::move(r));
  }
  // Flags belong to the items; the Patient carries none.
  if (patient) {
    const json::object* meta = json::GetObject(out.patient, "meta");
    if (const json::array* tags = meta ? json::GetArray(*meta, "tag") : nullptr) {
      for (size_t i = 0; i < tags->size(); ++i)
        if ((*tags)[i].is_object() &&
            json::GetString((*tags)[i].get_object(), "system") == kFlagSystem)
          RuleIssue(c, Index("Bundle.entry[0].resource.meta.tag", i), rule::kFlagPlacement,
                    "flags are not allowed on the Patient");
    }
  }

  RK_TRY(c.ToStatus("Registration bundle is not valid"));
  out.identifier = std::move(*identifier);
  out.item_type = *item_type;
  return out;
}

}  // namespace renkei::clinical
