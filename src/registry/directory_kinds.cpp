// Organization, Practitioner and PractitionerRole: the directory of facilities and staff
// (DESIGN.md §4 "Identity").
#include <fmt/format.h>

#include <algorithm>

#include "core/principal.h"
#include "core/text.h"
#include "registry/identifiers.h"
#include "registry/kind_helpers.h"
#include "registry/patient_read_policy.h"
#include "registry/registry_kinds.h"

namespace renkei::registry {

using fhir::Child;
using fhir::Index;
using fhir::IssueCollector;
using fhir::SearchParamKind;

namespace {

bool IsMedicalFacility(FacilityType t) {
  return t == FacilityType::kHospital || t == FacilityType::kClinic ||
         t == FacilityType::kDentalClinic || t == FacilityType::kPharmacy;
}

// The point-table digit (3rd of the institution code) each facility type must carry:
// 1 medical, 3 dental, 4 pharmacy (DESIGN.md §4).
char PointTableOf(FacilityType t) {
  switch (t) {
    case FacilityType::kDentalClinic:
      return '3';
    case FacilityType::kPharmacy:
      return '4';
    default:
      return '1';
  }
}

std::optional<std::string_view> PrefectureOf(const json::object& r) {
  const json::object* ext = FindExtension(r, kPrefectureExtension);
  if (ext == nullptr) return std::nullopt;
  const json::object* coding = json::GetObject(*ext, "valueCoding");
  if (coding == nullptr) return std::nullopt;
  return json::GetString(*coding, "code");
}

void ValidateOrganization(const json::object& r, IssueCollector& c) {
  const std::string root = "Organization";
  fhir::CheckResourceShape(r, root, c);
  ValidateExtensions(r, root, c);
  ValidateIdentifiers(r, root, c);
  fhir::RequireString(r, "name", root, c);
  if (auto active = json::Find(r, "active"); active && !active->is_bool()) {
    c.Invalid(Child(root, "active"), "active must be a boolean");
  }

  FacilityType type{};
  auto code = CodeIn(r, "type", kFacilityTypeSystem);
  bool has_type = code && ParseFacilityType(*code, type);
  if (!has_type) {
    c.Invalid(Child(root, "type"),
              fmt::format("a coding in {} is required: hospital, clinic, dental-clinic, pharmacy, "
                          "fire-department, insurer, ministry or research",
                          kFacilityTypeSystem));
  }

  auto prefecture = PrefectureOf(r);
  if (FindExtension(r, kPrefectureExtension) != nullptr) {
    bool ok = prefecture && AllDigits(*prefecture, 2) && *prefecture >= "01" && *prefecture <= "47";
    if (!ok) c.Invalid(Child(root, "extension"), "the prefecture must be a code 01..47");
  }
  if (const json::object* em = FindExtension(r, kEmergencyHospitalExtension)) {
    if (!json::GetBool(*em, "valueBoolean")) {
      c.Invalid(Child(root, "extension"), "the emergency-hospital extension takes valueBoolean");
    } else if (has_type && type != FacilityType::kHospital) {
      c.Rule(Child(root, "extension"), "only hospitals receive emergency patients");
    }
  }
  if (const json::object* nurses = FindExtension(r, kNursesMayViewExtension)) {
    if (!json::GetBool(*nurses, "valueBoolean")) {
      c.Invalid(Child(root, "extension"), "the nurses-may-view extension takes valueBoolean");
    } else if (has_type && type != FacilityType::kHospital && type != FacilityType::kClinic) {
      c.Rule(Child(root, "extension"), "only hospitals and clinics let nurses view");
    }
  }
  if (!has_type) return;

  if (IsMedicalFacility(type)) {
    auto no = IdentifierValue(r, kInstitutionNoSystem);
    if (!no) {
      c.Invalid(Child(root, "identifier"),
                fmt::format("a medical facility needs an identifier in {}", kInstitutionNoSystem));
    } else if (!IsValidInstitutionNo(*no)) {
      c.Invalid(Child(root, "identifier"),
                "the institution code is 10 digits: prefecture 01-47, point table 1/3/4, 7 digits");
    } else {
      if ((*no)[2] != PointTableOf(type)) {
        c.Rule(Child(root, "identifier"),
               fmt::format("a {} has point table {} in its institution code", ToString(type),
                           PointTableOf(type)));
      }
      if (prefecture && *prefecture != no->substr(0, 2)) {
        c.Rule(Child(root, "extension"),
               "the prefecture differs from the first two digits of the institution code");
      }
    }
    if (!prefecture) c.Invalid(Child(root, "extension"), "the prefecture extension is required");
  } else if (type == FacilityType::kInsurer) {
    auto no = IdentifierValue(r, kInsurerNumberSystem);
    if (!no || !AllDigits(*no, 8)) {
      c.Invalid(
          Child(root, "identifier"),
          fmt::format("an insurer needs an 8-digit insurer number in {}", kInsurerNumberSystem));
    }
  } else {
    auto no = IdentifierValue(r, kFacilityCodeSystem);
    if (!no || !AllDigits(*no, 10) || no->substr(0, 2) > "47") {
      c.Invalid(Child(root, "identifier"),
                fmt::format("a {} needs a 10-digit code in {} (prefecture or 00 first)",
                            ToString(type), kFacilityCodeSystem));
    }
  }
}

std::vector<store::IndexTerm> IndexOrganization(const json::object& r) {
  std::vector<store::IndexTerm> terms;
  IndexIdentifiers(r, terms);
  if (auto code = CodeIn(r, "type", kFacilityTypeSystem)) {
    terms.push_back({"type", std::string(kFacilityTypeSystem), std::string(*code)});
  }
  if (auto name = json::GetString(r, "name")) {
    std::string key = text::SearchKey(*name);
    if (!key.empty()) terms.push_back({"name", "", std::move(key)});
  }
  if (auto pref = PrefectureOf(r)) {
    terms.push_back({"prefecture", std::string(kPrefectureSystem), std::string(*pref)});
  }
  return terms;
}

void ValidateQualificationConcept(const json::object& holder, std::string_view key,
                                  const std::string& path, IssueCollector& c) {
  auto code = CodeIn(holder, key, kQualificationSystem);
  Qualification q{};
  if (!code || !ParseQualification(*code, q) || q == Qualification::kNone) {
    c.Invalid(Child(path, key),
              fmt::format("a coding in {} is required: physician, dentist, pharmacist, nurse, "
                          "paramedic or clerk",
                          kQualificationSystem));
  }
}

void ValidatePractitioner(const json::object& r, IssueCollector& c) {
  const std::string root = "Practitioner";
  fhir::CheckResourceShape(r, root, c);
  ValidateExtensions(r, root, c);
  ValidateIdentifiers(r, root, c);
  ValidateHumanNames(r, root, c, true);
  if (auto reg = IdentifierValue(r, kMedicalRegistrationSystem)) {
    if (reg->empty() || reg->size() > 10 ||
        !std::all_of(reg->begin(), reg->end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      c.Invalid(Child(root, "identifier"), "the medical registration number is 1-10 digits");
    }
  }
  const json::array* quals = fhir::OptionalArray(r, "qualification", root, c);
  if (quals == nullptr) {
    if (json::Find(r, "qualification") == nullptr) {
      c.Invalid(Child(root, "qualification"), "at least one qualification is required");
    }
    return;
  }
  for (size_t i = 0; i < quals->size(); ++i) {
    std::string p = Index(Child(root, "qualification"), i);
    if (!(*quals)[i].is_object()) {
      c.Invalid(p, "a qualification must be an object");
      continue;
    }
    ValidateQualificationConcept((*quals)[i].get_object(), "code", p, c);
  }
}

std::vector<store::IndexTerm> IndexPractitioner(const json::object& r) {
  std::vector<store::IndexTerm> terms;
  IndexIdentifiers(r, terms);
  IndexHumanNames(r, terms);
  if (const json::array* quals = json::GetArray(r, "qualification")) {
    for (const auto& q : *quals) {
      if (!q.is_object()) continue;
      if (auto code = CodeIn(q.get_object(), "code", kQualificationSystem)) {
        terms.push_back({"qualification", std::string(kQualificationSystem), std::string(*code)});
      }
    }
  }
  return terms;
}

void ValidatePractitionerRole(const json::object& r, IssueCollector& c) {
  const std::string root = "PractitionerRole";
  fhir::CheckResourceShape(r, root, c);
  ValidateExtensions(r, root, c);
  ValidateIdentifiers(r, root, c);
  RequireReference(r, "practitioner", "Practitioner", root, c);
  RequireReference(r, "organization", "Organization", root, c);
  if (auto active = json::Find(r, "active"); active && !active->is_bool()) {
    c.Invalid(Child(root, "active"), "active must be a boolean");
  }
  ValidateQualificationConcept(r, "code", root, c);
}

// The role's qualification must be one the practitioner holds, and both ends must exist.
Status ResolvePractitionerRole(WriteContext& ctx, const json::object& r, IssueCollector& c,
                               std::vector<store::IndexTerm>&) {
  auto pr = fhir::ParseReference(ReferenceAt(r, "practitioner").value_or(""));
  auto org = fhir::ParseReference(ReferenceAt(r, "organization").value_or(""));
  if (org) {
    RK_ASSIGN_OR_RETURN(auto row, ctx.tx.ReadCurrent("Organization", org->second));
    if (!row || row->deleted) c.Rule("PractitionerRole.organization", "no such Organization");
  }
  if (!pr) return Ok();
  RK_ASSIGN_OR_RETURN(auto row, ctx.tx.ReadCurrent("Practitioner", pr->second));
  if (!row || row->deleted) {
    c.Rule("PractitionerRole.practitioner", "no such Practitioner");
    return Ok();
  }
  auto role = CodeIn(r, "code", kQualificationSystem);
  if (!role) return Ok();
  auto practitioner = json::ParseObject(row->json, Limits{});
  if (!practitioner.ok()) return Error(ErrorCode::kInternal, "a stored Practitioner is not JSON");
  for (const auto& term : IndexPractitioner(*practitioner)) {
    if (term.param == "qualification" && term.value == *role) return Ok();
  }
  c.Rule("PractitionerRole.code", "the practitioner does not hold this qualification");
  return Ok();
}

std::vector<store::IndexTerm> IndexPractitionerRole(const json::object& r) {
  std::vector<store::IndexTerm> terms;
  IndexIdentifiers(r, terms);
  if (auto ref = ReferenceAt(r, "practitioner"))
    terms.push_back({"practitioner", "", std::string(*ref)});
  if (auto ref = ReferenceAt(r, "organization"))
    terms.push_back({"organization", "", std::string(*ref)});
  if (auto code = CodeIn(r, "code", kQualificationSystem)) {
    terms.push_back({"role", std::string(kQualificationSystem), std::string(*code)});
  }
  bool active = json::GetBool(r, "active").value_or(true);
  terms.push_back({"active", "", active ? "true" : "false"});
  return terms;
}

ResourceKind DirectoryKind(std::string type) {
  ResourceKind k;
  k.type = std::move(type);
  k.patient_owned = false;
  k.patient_of = [](const json::object&) { return std::string(); };
  k.write_policy = DirectoryWritePolicy;
  k.read_policy = DirectoryReadPolicy;
  return k;
}

}  // namespace

ResourceKind OrganizationKind() {
  ResourceKind k = DirectoryKind("Organization");
  k.validate = ValidateOrganization;
  k.index = IndexOrganization;
  k.search_params = {
      {"identifier", SearchParamKind::kToken, "", true, "Institution code, insurer number or code"},
      {"type", SearchParamKind::kToken, "", false, "Facility type (facility-type CodeSystem)"},
      {"name", SearchParamKind::kString, "", false, "Name (kana/width folded, prefix)"},
      {"prefecture", SearchParamKind::kToken, "", false, "Prefecture code 01..47"},
  };
  return k;
}

ResourceKind PractitionerKind() {
  ResourceKind k = DirectoryKind("Practitioner");
  k.validate = ValidatePractitioner;
  k.index = IndexPractitioner;
  k.search_params = {
      {"identifier", SearchParamKind::kToken, "", true, "Medical registration number or local id"},
      {"name", SearchParamKind::kString, "", false, "Kanji or kana name (folded, prefix)"},
      {"qualification", SearchParamKind::kToken, "", false, "Qualification code"},
  };
  return k;
}

ResourceKind PractitionerRoleKind() {
  ResourceKind k = DirectoryKind("PractitionerRole");
  k.validate = ValidatePractitionerRole;
  k.resolve = ResolvePractitionerRole;
  k.index = IndexPractitionerRole;
  k.search_params = {
      {"practitioner", SearchParamKind::kReference, "Practitioner", false, "The practitioner"},
      {"organization", SearchParamKind::kReference, "Organization", false, "The facility"},
      {"role", SearchParamKind::kToken, "", false, "Qualification acted in"},
      {"active", SearchParamKind::kToken, "", false, "Whether the role is active"},
  };
  return k;
}

std::vector<ResourceKind> RegistryKinds() {
  return {OrganizationKind(), PractitionerKind(), PractitionerRoleKind(), PatientKind(),
          CoverageKind()};
}

}  // namespace renkei::registry
