#include "clinical/document.h"

#include <fmt/format.h>

#include <map>

#include "clinical/clins_codes.h"
#include "fhir/jp_systems.h"
#include "fhir/validation.h"

namespace renkei::clinical {

using fhir::Child;
using fhir::Index;
using fhir::IssueCollector;

namespace {

constexpr std::string_view kDocTypeSystem = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
constexpr std::string_view kSectionSystem =
    "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
constexpr std::string_view kInsurerSystem = fhir::kInsurerNumberSystem;
// JP-FHIR.md "Documents": 910 addressee, 430 medication, 210 attachments,
// 230 PDF.
constexpr std::string_view kSectionAddressee = "910";
constexpr std::string_view kSectionMedication = "430";
constexpr std::string_view kSectionAttachments = "210";
constexpr std::string_view kSectionPdf = "230";

namespace rule_doc {
constexpr std::string_view kBundleType = "renkei:doc-bundle-type";
constexpr std::string_view kIdentifier = "renkei:doc-identifier";
constexpr std::string_view kTimestamp = "renkei:doc-timestamp";
constexpr std::string_view kCompositionFirst = "renkei:doc-composition-first";
constexpr std::string_view kType = "renkei:doc-type";
constexpr std::string_view kStatus = "renkei:doc-status";
constexpr std::string_view kSubject = "renkei:doc-subject";
constexpr std::string_view kAuthor = "renkei:doc-author";
constexpr std::string_view kReference = "renkei:doc-reference";
constexpr std::string_view kAddressee = "renkei:doc-addressee";
constexpr std::string_view kNoAddressee = "renkei:doc-no-addressee";
constexpr std::string_view kNoAttachments = "renkei:doc-no-attachments";
constexpr std::string_view kAttachmentType = "renkei:doc-attachment-type";
}  // namespace rule_doc

struct Entries {
  std::map<std::string, size_t> by_full_url;
  const json::array* list = nullptr;
  const json::object& At(size_t i) const {
    return (*list)[i].get_object().at("resource").get_object();
  }
  std::optional<size_t> Resolve(std::string_view reference) const {
    auto it = by_full_url.find(std::string(reference));
    if (it == by_full_url.end()) return std::nullopt;
    return it->second;
  }
};

std::optional<std::string> FacilityOf(const json::object& organization) {
  const json::array* ids = json::GetArray(organization, "identifier");
  if (ids == nullptr) return std::nullopt;
  for (const auto& v : *ids) {
    if (!v.is_object()) continue;
    if (json::GetString(v.get_object(), "system") != kFacilitySystem) continue;
    auto value = json::GetString(v.get_object(), "value");
    if (value && IsDigits(*value, 10)) return std::string(*value);
  }
  return std::nullopt;
}

// Every literal reference resolves inside the document: a document bundle is self-contained
// (FHIR R4 Bundle, "document"); "#id" references point into contained resources.
void CheckReferences(const json::value& v, const std::string& path, const Entries& entries,
                     IssueCollector& c) {
  if (v.is_array()) {
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) CheckReferences(a[i], Index(path, i), entries, c);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& kv : v.get_object()) {
    std::string p = Child(path, kv.key());
    if (kv.key() == "reference" && kv.value().is_string()) {
      std::string_view ref = kv.value().get_string();
      if (!ref.starts_with('#') && !entries.Resolve(ref))
        RuleIssue(c, p, rule_doc::kReference, "the reference names no entry of the document");
      continue;
    }
    CheckReferences(kv.value(), p, entries, c);
  }
}

struct SectionWalk {
  const Entries& entries;
  ClinicalDocument& out;
  IssueCollector& c;
  std::vector<std::pair<std::string, std::string>> addressee_refs;  // path, reference

  void Walk(const json::object& holder, const std::string& path) {
    const json::array* sections = json::GetArray(holder, "section");
    if (sections == nullptr) return;
    for (size_t i = 0; i < sections->size(); ++i) {
      if (!(*sections)[i].is_object()) continue;
      const auto& section = (*sections)[i].get_object();
      std::string sp = Index(Child(path, "section"), i);
      // Referral and discharge sections use document-section; checkup reports their own
      // section-code system. A document-section code wins, else the first code names it.
      std::string code;
      bool clins_code = false;
      ForEachCoding(json::GetObject(section, "code"),
                    [&](size_t, std::string_view system, std::string_view value) {
                      if (value.empty() || clins_code) return;
                      if (system == kSectionSystem) {
                        code = std::string(value);
                        clins_code = true;
                      } else if (code.empty()) {
                        code = std::string(value);
                      }
                    });
      if (!code.empty()) out.section_codes.push_back(code);
      if (const json::array* refs = json::GetArray(section, "entry")) {
        for (size_t k = 0; k < refs->size(); ++k) {
          if (!(*refs)[k].is_object()) continue;
          auto ref = json::GetString((*refs)[k].get_object(), "reference");
          if (!ref) continue;
          std::string rp = Child(Index(Child(sp, "entry"), k), "reference");
          if (code == kSectionAddressee) addressee_refs.emplace_back(rp, std::string(*ref));
          auto at = entries.Resolve(*ref);
          if (at && code == kSectionMedication &&
              json::GetString(entries.At(*at), "resourceType") == "MedicationRequest")
            out.medication_entries.push_back(*at);
        }
      }
      Walk(section, sp);
    }
  }
};

bool HasSection(const ClinicalDocument& d, std::string_view code) {
  for (const auto& s : d.section_codes)
    if (s == code) return true;
  return false;
}

}  // namespace

std::string_view DocumentTypeCode(DocumentType type) {
  switch (type) {
    case DocumentType::kReferralLetter:
      return "57133-1";
    case DocumentType::kDischargeSummary:
      return "18842-5";
    case DocumentType::kCheckupReport:
      return "53576-5";
  }
  return "";
}

bool IsAllowedAttachmentType(std::string_view content_type) {
  // PDF and key images (DOMAIN.md §2: referral attachments), and a discharge summary as a
  // FHIR document.
  std::string_view base = content_type.substr(0, content_type.find(';'));
  for (std::string_view allowed :
       {"application/pdf", "image/jpeg", "image/png", "application/dicom", "application/fhir+json"})
    if (base == allowed) return true;
  return false;
}

Result<ClinicalDocument> ValidateDocument(const json::object& bundle, DocumentType type) {
  IssueCollector c;
  fhir::CheckResourceShape(bundle, "Bundle", c);
  if (json::GetString(bundle, "resourceType") != "Bundle")
    return c.ToStatus("Bundle is not valid").error();

  ClinicalDocument out;
  out.type = type;
  if (json::GetString(bundle, "type") != "document")
    RuleIssue(c, "Bundle.type", rule_doc::kBundleType, "Bundle.type must be document");
  const json::object* identifier = json::GetObject(bundle, "identifier");
  auto id_system = identifier ? json::GetString(*identifier, "system") : std::nullopt;
  auto id_value = identifier ? json::GetString(*identifier, "value") : std::nullopt;
  if (!id_system || !id_value) {
    RuleIssue(c, "Bundle.identifier", rule_doc::kIdentifier,
              "a document bundle needs an identifier with system and value");
  } else {
    out.identifier_system = std::string(*id_system);
    out.identifier_value = std::string(*id_value);
    std::string f, l;
    int y = 0;
    if (*id_system == kBundleIdentifierSystem && !ParseBundleIdentifier(*id_value, f, y, l))
      RuleIssue(c, "Bundle.identifier.value", rule_doc::kIdentifier,
                "the bundle identifier must be facility(10)^year^localid");
  }
  if (!json::GetString(bundle, "timestamp"))
    RuleIssue(c, "Bundle.timestamp", rule_doc::kTimestamp, "a document bundle needs a timestamp");

  Entries entries;
  entries.list = json::GetArray(bundle, "entry");
  if (entries.list == nullptr || entries.list->empty()) {
    RuleIssue(c, "Bundle.entry", rule_doc::kCompositionFirst,
              "the document must start with its Composition");
    return c.ToStatus("Document is not valid").error();
  }
  bool entries_ok = true;
  for (size_t i = 0; i < entries.list->size(); ++i) {
    const json::value& e = (*entries.list)[i];
    if (!e.is_object() || json::GetObject(e.get_object(), "resource") == nullptr) {
      c.Invalid(Child(Index("Bundle.entry", i), "resource"), "each entry must hold a resource");
      entries_ok = false;
      continue;
    }
    if (auto url = json::GetString(e.get_object(), "fullUrl"))
      entries.by_full_url.emplace(std::string(*url), i);
  }
  if (!entries_ok) return c.ToStatus("Document is not valid").error();

  const json::object& composition = entries.At(0);
  const std::string cp = "Bundle.entry[0].resource";
  if (json::GetString(composition, "resourceType") != "Composition") {
    RuleIssue(c, Child(cp, "resourceType"), rule_doc::kCompositionFirst,
              "the first entry must be the Composition");
    return c.ToStatus("Document is not valid").error();
  }
  bool typed = false;
  ForEachCoding(json::GetObject(composition, "type"),
                [&](size_t, std::string_view system, std::string_view code) {
                  if (system == kDocTypeSystem && code == DocumentTypeCode(type)) typed = true;
                });
  if (!typed)
    RuleIssue(
        c, Child(cp, "type"), rule_doc::kType,
        fmt::format("Composition.type must be {} ({})", DocumentTypeCode(type), kDocTypeSystem));
  auto status = json::GetString(composition, "status").value_or("");
  if (status != "final" && status != "amended")
    RuleIssue(c, Child(cp, "status"), rule_doc::kStatus,
              "Composition.status must be final or amended");
  out.date = std::string(json::GetString(composition, "date").value_or(""));

  // Subject: a Patient entry of the document.
  const json::object* subject = json::GetObject(composition, "subject");
  auto subject_ref = subject ? json::GetString(*subject, "reference") : std::nullopt;
  auto subject_at = subject_ref ? entries.Resolve(*subject_ref) : std::nullopt;
  if (!subject_at || json::GetString(entries.At(*subject_at), "resourceType") != "Patient") {
    RuleIssue(c, Child(cp, "subject"), rule_doc::kSubject,
              "Composition.subject must reference the Patient entry");
  } else {
    out.patient = entries.At(*subject_at);
    if (const json::array* ids = json::GetArray(out.patient, "identifier")) {
      for (const auto& v : *ids)
        if (v.is_object() && json::GetString(v.get_object(), "system") == kInsuredPersonSystem)
          if (auto value = json::GetString(v.get_object(), "value");
              value && IsInsuredPersonId(*value))
            out.insured_person_id = std::string(*value);
    }
  }

  // Author: required; the facility is the first author (else custodian) Organization's.
  const json::array* authors = json::GetArray(composition, "author");
  if (authors == nullptr || authors->empty()) {
    RuleIssue(c, Child(cp, "author"), rule_doc::kAuthor, "Composition.author is required");
  } else {
    std::vector<std::string_view> refs;
    for (const auto& a : *authors)
      if (a.is_object())
        if (auto r = json::GetString(a.get_object(), "reference")) refs.push_back(*r);
    if (const json::object* custodian = json::GetObject(composition, "custodian"))
      if (auto r = json::GetString(*custodian, "reference")) refs.push_back(*r);
    for (std::string_view r : refs) {
      auto at = entries.Resolve(r);
      if (at && json::GetString(entries.At(*at), "resourceType") == "Organization")
        if ((out.author_facility_code = FacilityOf(entries.At(*at)))) break;
    }
  }

  SectionWalk walk{entries, out, c, {}};
  walk.Walk(composition, cp);

  // Attachments: DocumentReference entries with an attachment content type.
  for (size_t i = 1; i < entries.list->size(); ++i) {
    const json::object& r = entries.At(i);
    if (json::GetString(r, "resourceType") != "DocumentReference") continue;
    std::string rp = Child(Index("Bundle.entry", i), "resource");
    if (type == DocumentType::kCheckupReport) {
      RuleIssue(c, Child(rp, "resourceType"), rule_doc::kNoAttachments,
                "a checkup report carries no attachments");
      continue;
    }
    const json::array* content = json::GetArray(r, "content");
    for (size_t k = 0; content && k < content->size(); ++k) {
      const json::object* attachment =
          (*content)[k].is_object() ? json::GetObject((*content)[k].get_object(), "attachment")
                                    : nullptr;
      auto ct = attachment ? json::GetString(*attachment, "contentType") : std::nullopt;
      std::string ap = Child(Index(Child(rp, "content"), k), "attachment.contentType");
      if (!ct || !IsAllowedAttachmentType(*ct)) {
        RuleIssue(
            c, ap, rule_doc::kAttachmentType,
            "attachments are PDF, JPEG, PNG, DICOM or a FHIR document (application/fhir+json)");
        continue;
      }
      out.attachments.push_back(DocumentAttachment{i, std::string(*ct)});
    }
  }
  if (type == DocumentType::kCheckupReport &&
      (HasSection(out, kSectionAttachments) || HasSection(out, kSectionPdf)))
    RuleIssue(c, Child(cp, "section"), rule_doc::kNoAttachments,
              "a checkup report has no attachment sections (210, 230)");

  // Addressee: required on referral letters (section 910 naming an Organization with its
  // facility number); absent elsewhere (DOMAIN.md §2).
  if (type == DocumentType::kReferralLetter) {
    for (const auto& [path, ref] : walk.addressee_refs) {
      auto at = entries.Resolve(ref);
      if (at && json::GetString(entries.At(*at), "resourceType") == "Organization")
        if ((out.addressee_facility_code = FacilityOf(entries.At(*at)))) break;
    }
    if (!out.addressee_facility_code)
      RuleIssue(c, Child(cp, "section"), rule_doc::kAddressee,
                "a referral letter needs an addressee section (910) naming an Organization with "
                "its medical institution number");
  } else if (HasSection(out, kSectionAddressee)) {
    RuleIssue(c, Child(cp, "section"), rule_doc::kNoAddressee,
              "only referral letters have an addressee section (910)");
  }

  // Checkup reports go to the insurer too: its number from the insurer Organization.
  if (type == DocumentType::kCheckupReport) {
    for (size_t i = 1; i < entries.list->size() && !out.insurer_number; ++i) {
      const json::object& r = entries.At(i);
      if (json::GetString(r, "resourceType") != "Organization") continue;
      if (const json::array* ids = json::GetArray(r, "identifier"))
        for (const auto& v : *ids)
          if (v.is_object() && json::GetString(v.get_object(), "system") == kInsurerSystem)
            if (auto value = json::GetString(v.get_object(), "value"); value && IsDigits(*value, 8))
              out.insurer_number = std::string(*value);
    }
  }

  CheckReferences(bundle, "Bundle", entries, c);
  RK_TRY(c.ToStatus("Document is not valid"));
  return out;
}

}  // namespace renkei::clinical
