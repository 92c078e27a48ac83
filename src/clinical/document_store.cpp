// Documents on the generic store (document_store.h). The state lives in the stored Bundle's
// meta extension so that a read needs one row; the index terms repeat what the inbox, the
// read receipt and the retention sweeper search by.
#include "clinical/document_store.h"

#include <fmt/format.h>

#include <map>

#include "clinical/clins_codes.h"
#include "clinical/item_access.h"
#include "clinical/item_service.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/text.h"
#include "fhir/resource.h"

namespace renkei::clinical {
namespace {

constexpr std::string_view kStateExtension =
    "http://renkei.jp/fhir/StructureDefinition/document-state";
constexpr std::string_view kCoverageSymbolExtension =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSymbol";
constexpr std::string_view kCoverageNumberExtension =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonNumber";
constexpr std::string_view kCoverageBranchExtension =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSubNumber";

std::string_view ExtensionString(const json::object& r, std::string_view url) {
  if (const json::array* exts = json::GetArray(r, "extension")) {
    for (const auto& e : *exts) {
      if (e.is_object() && json::GetString(e.get_object(), "url") == url) {
        return json::GetString(e.get_object(), "valueString").value_or("");
      }
    }
  }
  return {};
}

std::string TypeCode(DocumentType t) {
  return std::string(DocumentTypeCode(t));
}

// Full-width digits to ASCII: the branch number of a checkup report's Coverage is written
// full-width ("０１"), the insured-person identifier wants two ASCII digits (JP-FHIR.md).
std::string AsciiDigits(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    // U+FF10..U+FF19 are EF BC 90..99.
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF &&
        static_cast<unsigned char>(s[i + 1]) == 0xBC &&
        static_cast<unsigned char>(s[i + 2]) >= 0x90 &&
        static_cast<unsigned char>(s[i + 2]) <= 0x99) {
      out.push_back(static_cast<char>('0' + (static_cast<unsigned char>(s[i + 2]) - 0x90)));
      i += 3;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace

access::Category DocumentCategory(DocumentType type) {
  switch (type) {
    case DocumentType::kReferralLetter:
      return access::Category::kReferralLetters;
    case DocumentType::kDischargeSummary:
      return access::Category::kDischargeSummaries;
    case DocumentType::kCheckupReport:
      return access::Category::kCheckupResults;
  }
  return access::Category::kReferralLetters;
}

std::optional<DocumentType> DocumentTypeOfCode(std::string_view code) {
  for (DocumentType t : {DocumentType::kReferralLetter, DocumentType::kDischargeSummary,
                         DocumentType::kCheckupReport}) {
    if (DocumentTypeCode(t) == code) return t;
  }
  return std::nullopt;
}

DocumentState DocumentStateOf(const json::object& stored) {
  DocumentState s;
  for (const auto& [url, v] : fhir::MetaExtensionParts(stored, kStateExtension)) {
    if (url == "type") s.type = DocumentTypeOfCode(v).value_or(DocumentType::kReferralLetter);
    if (url == "author") s.author = v;
    if (url == "submitter") s.submitter = v;
    if (url == "addressee") s.addressee = v;
    if (url == "insurer") s.insurer = v;
    if (url == "status") s.status = v;
    if (url == "submitted") s.submitted = v;
    if (url == "retrieved") s.retrieved = v;
    if (url == "consent") s.consent = v;
    if (url == "consented") s.consented = v;
  }
  return s;
}

void SetDocumentState(json::object& stored, const DocumentState& s) {
  fhir::SetMetaExtensionParts(stored, kStateExtension,
                              {{"type", std::string(DocumentTypeCode(s.type))},
                               {"author", s.author},
                               {"submitter", s.submitter},
                               {"addressee", s.addressee},
                               {"insurer", s.insurer},
                               {"status", s.status},
                               {"submitted", s.submitted},
                               {"retrieved", s.retrieved},
                               {"consent", s.consent},
                               {"consented", s.consented}});
}

std::vector<StoredAttachment> AttachmentsOf(const json::object& stored) {
  std::vector<StoredAttachment> out;
  const json::array* entries = json::GetArray(stored, "entry");
  if (!entries) return out;
  for (const auto& e : *entries) {
    const json::object* r = e.is_object() ? json::GetObject(e.get_object(), "resource") : nullptr;
    if (!r || json::GetString(*r, "resourceType") != "DocumentReference") continue;
    bool summary = false;
    ForEachCoding(json::GetObject(*r, "type"), [&](size_t, std::string_view, std::string_view c) {
      summary = summary || c == DocumentTypeCode(DocumentType::kDischargeSummary);
    });
    const json::array* content = json::GetArray(*r, "content");
    for (size_t k = 0; content && k < content->size(); ++k) {
      const json::object* a = (*content)[k].is_object()
                                  ? json::GetObject((*content)[k].get_object(), "attachment")
                                  : nullptr;
      if (!a) continue;
      std::string_view url = json::GetString(*a, "url").value_or("");
      if (!url.starts_with("Binary/") || !IsBlobName(url.substr(7))) continue;
      StoredAttachment s;
      s.sha256 = std::string(url.substr(7));
      s.content_type = std::string(json::GetString(*a, "contentType").value_or(""));
      s.size = static_cast<size_t>(json::GetInt(*a, "size").value_or(0));
      s.discharge_summary = summary || s.content_type.starts_with("application/fhir+json");
      out.push_back(std::move(s));
    }
  }
  return out;
}

Result<std::vector<StoredAttachment>> MoveAttachments(json::object& bundle,
                                                      const ClinicalDocument& doc, BlobStore& blobs,
                                                      const Limits& limits) {
  std::vector<StoredAttachment> out;
  std::vector<Issue> issues;
  json::array* entries = bundle.if_contains("entry") ? bundle["entry"].if_array() : nullptr;
  std::map<size_t, bool> seen;
  for (const DocumentAttachment& da : doc.attachments) {
    if (seen[da.entry_index] || !entries || da.entry_index >= entries->size()) continue;
    seen[da.entry_index] = true;
    json::object* r = (*entries)[da.entry_index].is_object()
                          ? (*entries)[da.entry_index].get_object()["resource"].if_object()
                          : nullptr;
    json::array* content = r && r->if_contains("content") ? (*r)["content"].if_array() : nullptr;
    for (size_t k = 0; content && k < content->size(); ++k) {
      json::object* a = (*content)[k].is_object()
                            ? (*content)[k].get_object()["attachment"].if_object()
                            : nullptr;
      if (!a) continue;
      const std::string path =
          fmt::format("Bundle.entry[{}].resource.content[{}].attachment", da.entry_index, k);
      std::string content_type(json::GetString(*a, "contentType").value_or(""));
      auto data = json::GetString(*a, "data");
      if (!data) {
        // Renkei fetches nothing from elsewhere: an attachment travels with its letter.
        issues.push_back({Issue::Severity::kError, "required", path + ".data",
                          "an attachment carries its content in data (base64)"});
        continue;
      }
      auto bytes = crypto::Base64Decode(*data);
      if (!bytes) {
        issues.push_back(
            {Issue::Severity::kError, "value", path + ".data", "data is not valid base64"});
        continue;
      }
      const bool fhir_document = content_type.starts_with("application/fhir+json");
      if (fhir_document) {
        // A discharge summary travels as an attachment of its referral letter (issue 5).
        auto parsed = json::ParseObject(*bytes, limits);
        if (!parsed.ok()) {
          issues.push_back(
              {Issue::Severity::kError, "invalid", path + ".data",
               "the attached FHIR document is not valid JSON: " + parsed.error().message()});
          continue;
        }
        auto summary = ValidateDocument(*parsed, DocumentType::kDischargeSummary);
        if (!summary.ok()) {
          for (const Issue& i : summary.error().issues()) {
            issues.push_back(
                {i.severity, i.type, fmt::format("{}.data({})", path, i.expression), i.text});
          }
          if (summary.error().issues().empty()) {
            issues.push_back(
                {Issue::Severity::kError, "invalid", path + ".data", summary.error().message()});
          }
          continue;
        }
      }
      auto put = blobs.Put(content_type, *bytes);
      if (!put.ok()) {
        if (put.error().code() == ErrorCode::kTooLarge) return put.error();
        if (put.error().code() == ErrorCode::kUnavailable) return put.error();
        issues.push_back(
            {Issue::Severity::kError, "value", path + ".contentType", put.error().message()});
        continue;
      }
      a->erase("data");
      (*a)["url"] = "Binary/" + put->sha256;
      (*a)["size"] = static_cast<int64_t>(put->size);
      auto digest = crypto::HexDecode(put->sha256);
      (*a)["hash"] = crypto::Base64Encode(digest.value_or(""));
      out.push_back(StoredAttachment{put->sha256, content_type, put->size, fhir_document});
    }
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kBusinessRule, "the attachments are not valid", std::move(issues));
  }
  return out;
}

std::optional<std::string> DocumentMemberId(const json::object& bundle,
                                            const ClinicalDocument& doc) {
  if (doc.insured_person_id) return doc.insured_person_id;
  // Checkup reports (JP eCheckupGeneral) name the insured person on the insurance Coverage:
  // symbol, number and branch extensions, the insurer by doc.insurer_number.
  if (!doc.insurer_number) return std::nullopt;
  const json::array* entries = json::GetArray(bundle, "entry");
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    const json::object* r = (*entries)[i].is_object()
                                ? json::GetObject((*entries)[i].get_object(), "resource")
                                : nullptr;
    if (!r || json::GetString(*r, "resourceType") != "Coverage") continue;
    std::string_view number = ExtensionString(*r, kCoverageNumberExtension);
    if (number.empty()) continue;
    return fmt::format("{}:{}:{}:{}", *doc.insurer_number,
                       ExtensionString(*r, kCoverageSymbolExtension), number,
                       AsciiDigits(ExtensionString(*r, kCoverageBranchExtension)));
  }
  return std::nullopt;
}

std::vector<store::IndexTerm> DocumentTerms(std::string_view patient_id, const DocumentState& s,
                                            const std::vector<StoredAttachment>& attachments,
                                            TimePoint now) {
  std::vector<store::IndexTerm> terms;
  terms.push_back({"patient", "", fmt::format("Patient/{}", patient_id)});
  terms.push_back({std::string(kParamDocType), "", TypeCode(s.type)});
  terms.push_back({std::string(kParamAuthor), "", s.author});
  if (!s.addressee.empty()) terms.push_back({std::string(kParamAddressee), "", s.addressee});
  if (!s.insurer.empty()) terms.push_back({std::string(kParamInsurer), "", s.insurer});
  if (!s.status.empty()) terms.push_back({std::string(kParamStatus), "", s.status});
  terms.push_back({std::string(kParamSubmitted), "", s.submitted});
  if (!s.retrieved.empty()) terms.push_back({std::string(kParamRetrieved), "", s.retrieved});
  for (const StoredAttachment& a : attachments) {
    terms.push_back({std::string(kParamAttachment), "", a.sha256});
  }
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});
  ItemVisibility v;
  v.category = DocumentCategory(s.type);
  v.registering_facility = s.author;
  for (auto& t : VisibilityTerms(v)) terms.push_back(std::move(t));
  return terms;
}

namespace {

// One DocumentMedicationRequest row from a medication-section entry: the prescriptions item
// (issue 5 "taken from the medication sections of registered documents").
Status StoreMedication(store::Transaction& tx, json::object mr, std::string_view id,
                       std::string_view source_id, std::string_view patient_id,
                       std::string_view facility, TimePoint now) {
  mr["subject"] = json::object{{"reference", fmt::format("Patient/{}", patient_id)}};
  json::array exts;
  if (const json::array* old = json::GetArray(mr, "extension")) {
    for (const auto& e : *old) {
      if (e.is_object() && json::GetString(e.get_object(), "url") == kInstitutionNumberExtension)
        continue;
      exts.push_back(e);
    }
  }
  exts.push_back(json::object{
      {"url", kInstitutionNumberExtension},
      {"valueIdentifier", json::object{{"system", kFacilitySystem}, {"value", facility}}}});
  mr["extension"] = std::move(exts);
  std::string date = FormatInstant(now);
  if (auto authored = json::GetString(mr, "authoredOn")) {
    if (auto t = ParseDateTime(*authored)) date = FormatInstant(*t);
  }
  fhir::StampMeta(mr, id, 1, now);

  std::vector<store::IndexTerm> terms;
  terms.push_back({"patient", "", fmt::format("Patient/{}", patient_id)});
  ForEachCoding(json::GetObject(mr, "medicationCodeableConcept"),
                [&](size_t, std::string_view system, std::string_view code) {
                  terms.push_back({"code", std::string(system), std::string(code)});
                });
  terms.push_back({"date", "", date});
  terms.push_back({std::string(kParamSource), "", std::string(source_id)});
  terms.push_back({"facility", std::string(kFacilitySystem), std::string(facility)});
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});
  ItemVisibility v;
  v.category = access::Category::kPrescriptions;
  v.registering_facility = std::string(facility);
  for (auto& t : VisibilityTerms(v)) terms.push_back(std::move(t));

  store::ResourceRow row;
  row.type = std::string(kDocumentMedicationType);
  row.id = std::string(id);
  row.patient_id = std::string(patient_id);
  row.last_updated = now;
  row.json = json::Serialize(mr);
  RK_TRY(tx.WriteResource(row, terms, int64_t{0}));
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> StoreDocument(store::Transaction& tx, json::object bundle,
                                               const ClinicalDocument& doc,
                                               const DocumentState& state,
                                               const std::vector<StoredAttachment>& attachments,
                                               std::string_view id, std::string_view patient_id,
                                               TimePoint now) {
  std::vector<std::string> medication_ids;
  if (const json::array* entries = json::GetArray(bundle, "entry")) {
    for (size_t index : doc.medication_entries) {
      if (index >= entries->size() || !(*entries)[index].is_object()) continue;
      const json::object* r = json::GetObject((*entries)[index].get_object(), "resource");
      if (!r || json::GetString(*r, "resourceType") != "MedicationRequest") continue;
      std::string mid = NewId();
      RK_TRY(StoreMedication(tx, *r, mid, id, patient_id, state.author, now));
      medication_ids.push_back(std::move(mid));
    }
  }
  SetDocumentState(bundle, state);
  fhir::StampMeta(bundle, id, 1, now);
  store::ResourceRow row;
  row.type = std::string(kDocumentBundleType);
  row.id = std::string(id);
  row.patient_id = std::string(patient_id);
  row.last_updated = now;
  row.json = json::Serialize(bundle);
  RK_TRY(tx.WriteResource(row, DocumentTerms(patient_id, state, attachments, now), int64_t{0}));
  return medication_ids;
}

Status UpdateDocumentState(store::Transaction& tx, const store::ResourceRow& row,
                           const DocumentState& state, TimePoint now) {
  RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(row.json, Limits{}));
  SetDocumentState(stored, state);
  fhir::StampMeta(stored, row.id, row.version + 1, now);
  store::ResourceRow next = row;
  next.last_updated = now;
  next.json = json::Serialize(stored);
  auto written = tx.WriteResource(
      next, DocumentTerms(row.patient_id, state, AttachmentsOf(stored), now), row.version);
  if (!written.ok() && written.error().code() == ErrorCode::kConflict) {
    // Two retrievals (or a retrieval and a consent) at once: the loser runs again.
    return Error(ErrorCode::kRetryable, "the document changed at the same time");
  }
  if (!written.ok()) return std::move(written).error();
  return Ok();
}

}  // namespace renkei::clinical
