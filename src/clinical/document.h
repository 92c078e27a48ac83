// The three documents of the clinical information sharing service (DOMAIN.md §2, JP-FHIR.md
// "Documents"): referral letter (HS038), discharge summary (HS039) and checkup report (HS037)
// as FHIR document bundles. Validation is a pure function returning the facts the document
// service stores and routes on, or one error carrying every issue.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace renkei::clinical {

enum class DocumentType { kReferralLetter, kDischargeSummary, kCheckupReport };
// The Composition.type code (doc-typecodes): "57133-1", "18842-5", "53576-5".
std::string_view DocumentTypeCode(DocumentType type);

// A DocumentReference entry of the document (PDF, key image, discharge summary ...).
struct DocumentAttachment {
  size_t entry_index = 0;
  std::string content_type;
};

// The facts of a valid document bundle.
struct ClinicalDocument {
  DocumentType type = DocumentType::kReferralLetter;
  std::string identifier_system;  // Bundle.identifier
  std::string identifier_value;
  std::string date;                                    // Composition.date
  json::object patient;                                // the Patient named by Composition.subject
  std::optional<std::string> insured_person_id;        // JP_Insurance_memberID, when present
  std::optional<std::string> author_facility_code;     // author (or custodian) Organization
  std::optional<std::string> addressee_facility_code;  // referral letters: section 910
  std::optional<std::string> insurer_number;           // checkup reports: the insurer (8 digits)
  std::vector<std::string> section_codes;              // every section code, nested included
  // Entry indices of MedicationRequests listed in medication sections (430): the source of
  // the 6th item, prescriptions.
  std::vector<size_t> medication_entries;
  std::vector<DocumentAttachment> attachments;
};

// Validates a document bundle of the given type. Issues carry element paths and texts
// starting with the rule id in brackets ("[renkei:doc-addressee] ..."); kInvalid when some
// JSON is malformed, else kBusinessRule. No I/O.
Result<ClinicalDocument> ValidateDocument(const json::object& bundle, DocumentType type);

// Attachment content types a referral letter / discharge summary may carry.
bool IsAllowedAttachmentType(std::string_view content_type);

}  // namespace renkei::clinical
