// Storing the documents of issue 5 on the generic resource store (store/store.h): a submitted
// referral letter or checkup report is one row of type "DocumentBundle" owned by the patient,
// its attachments moved to the blob store (blob_store.h), its state (pending / retrieved,
// consent) in a meta extension; the MedicationRequests of its medication sections become rows
// of type "DocumentMedicationRequest" (the 6th item, prescriptions). The index term names are
// a contract with the retention sweeper (src/retention/): do not rename them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/decision.h"
#include "clinical/blob_store.h"
#include "clinical/document.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::clinical {

// Store row types.
inline constexpr std::string_view kDocumentBundleType = "DocumentBundle";
// (The medication rows are of type kDocumentMedicationType, item_service.h.)

// Index terms of a DocumentBundle row (besides _lastUpdated and the visibility terms):
//   patient "Patient/<id>", doc-type (token, no system: "57133-1" / "53576-5"), author
//   (facility code), addressee (facility code, referrals), status ("pending" / "retrieved",
//   referrals), submitted / retrieved (FormatInstant), attachment (sha256 hex, one per blob),
//   insurer (the insurer number a checkup report names).
inline constexpr std::string_view kParamDocType = "doc-type";
inline constexpr std::string_view kParamAuthor = "author";
inline constexpr std::string_view kParamAddressee = "addressee";
inline constexpr std::string_view kParamStatus = "status";
inline constexpr std::string_view kParamSubmitted = "submitted";
inline constexpr std::string_view kParamRetrieved = "retrieved";
inline constexpr std::string_view kParamAttachment = "attachment";
inline constexpr std::string_view kParamInsurer = "insurer";
// DocumentMedicationRequest rows: patient, code (system|code), date, source (the
// DocumentBundle id), facility (token in kFacilitySystem).
inline constexpr std::string_view kParamSource = "source";

inline constexpr std::string_view kStatusPending = "pending";
inline constexpr std::string_view kStatusRetrieved = "retrieved";
// How the patient consented to a referral letter being viewed (patterns 1 and 2 of the
// national service; pattern 3, the card reader at the addressee, is a card consent).
inline constexpr std::string_view kConsentAtReferringFacility = "referring-facility";
inline constexpr std::string_view kConsentInPortal = "portal";

// The state of a stored document, kept in its meta extension.
struct DocumentState {
  DocumentType type = DocumentType::kReferralLetter;
  std::string author;     // facility code of the author (the sender's facility)
  std::string submitter;  // practitioner id of the sender
  std::string addressee;  // referral letters
  std::string insurer;    // checkup reports: the insurer the report names (8 digits)
  std::string status;     // referral letters: pending | retrieved
  std::string submitted;  // FormatInstant
  std::string retrieved;  // FormatInstant once retrieved, else ""
  std::string consent;    // "" | kConsentAtReferringFacility | kConsentInPortal
  std::string consented;  // FormatInstant of that consent
};
DocumentState DocumentStateOf(const json::object& stored);
void SetDocumentState(json::object& stored, const DocumentState& state);

// The access category of a document (referral letter, checkup report).
access::Category DocumentCategory(DocumentType type);

// The parsed type of a stored state's doc-type code; nullopt when unknown.
std::optional<DocumentType> DocumentTypeOfCode(std::string_view code);

// An attachment as kept in a stored document: the blob's hash and metadata.
struct StoredAttachment {
  std::string sha256;
  std::string content_type;
  size_t size = 0;
  bool discharge_summary = false;  // a discharge summary (FHIR document) carried as attachment
};
// The attachments of a stored document (those moved to the blob store).
std::vector<StoredAttachment> AttachmentsOf(const json::object& stored);

// Moves every attachment of a validated document into blobs: decodes attachment.data, checks
// its type and size (blob store), validates a discharge summary carried as FHIR JSON with
// ValidateDocument(kDischargeSummary), stores it and replaces data by url "Binary/<sha256>",
// size and hash (base64 SHA-256). Every problem is reported with its path in one error;
// nothing is left in the bundle's attachments on success but metadata.
Result<std::vector<StoredAttachment>> MoveAttachments(json::object& bundle,
                                                      const ClinicalDocument& doc, BlobStore& blobs,
                                                      const Limits& limits);

// The insured-person identifier naming the document's patient: the Patient's
// JP_Insurance_memberID, else (checkup reports, whose Patient carries only a local id) one
// built from the insurance Coverage (insurer number, symbol, number, branch extensions).
std::optional<std::string> DocumentMemberId(const json::object& bundle,
                                            const ClinicalDocument& doc);

// Index terms of a DocumentBundle row.
std::vector<store::IndexTerm> DocumentTerms(std::string_view patient_id, const DocumentState& s,
                                            const std::vector<StoredAttachment>& attachments,
                                            TimePoint now);

// Writes a new document (version 1) and its medication rows inside tx. bundle has its
// attachments moved already; id is the new DocumentBundle id. Returns the ids of the
// DocumentMedicationRequest rows.
Result<std::vector<std::string>> StoreDocument(store::Transaction& tx, json::object bundle,
                                               const ClinicalDocument& doc,
                                               const DocumentState& state,
                                               const std::vector<StoredAttachment>& attachments,
                                               std::string_view id, std::string_view patient_id,
                                               TimePoint now);

// Writes a new version of a stored document with a changed state, only over the version
// read (a concurrent change: kConflict, which the caller retries).
Status UpdateDocumentState(store::Transaction& tx, const store::ResourceRow& row,
                           const DocumentState& state, TimePoint now);

}  // namespace renkei::clinical
