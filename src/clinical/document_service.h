// The three documents over HTTP (issue 5 "The 3 documents"), modelled on IHE MHD: the Bundle
// is the document, a DocumentReference its listing entry (metadata only). Every read goes
// through access::Decide with the document's facts (category, author, addressee, the patient's
// consent to it); the audit entry is durable before data leaves.
//
// Routes:
//   POST /fhir/Bundle/$submit-document   a referral letter (57133-1) or checkup report
//        (53576-5) by a physician/dentist of the author facility. Headers: X-Signature (JWS
//        by the sender's registered key, payload bundle_sha256 = SHA-256 of the body; verified
//        and kept), X-Patient-Consent: referring-facility (referral letters: the patient
//        consented at the referring facility, pattern 1), X-Request-Id (a retry answers the
//        first attempt's outcome). 201 DocumentReference.
//   GET  /fhir/DocumentReference          addressee=<own facility> (the inbox), author=<own
//        facility> (read receipts), or patient=Patient/<id> (checkup reports, consent inside
//        the query); status, type, _count, paging.
//   GET  /fhir/Bundle/{id}                retrieve a document; the addressee's first
//        retrieval marks a referral letter retrieved. 403 while pending the patient's
//        consent, 410 once the retention sweeper deleted it.
//   POST /fhir/Bundle/{id}/$consent       the patient consents to a referral letter in the
//        portal (pattern 2).
//   GET  /fhir/Bundle/{id}/$receipt       the sender's read receipt (Parameters).
//   GET  /fhir/Binary/{sha256}            an attachment, for whoever may read a document
//        holding it (raw bytes; FHIR Binary JSON when Accept asks for FHIR JSON); 410
//        when only deleted documents the caller could have read held it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "access/decision.h"
#include "access/facts_store.h"
#include "audit/audit_log.h"
#include "clinical/blob_store.h"
#include "clinical/document_store.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::clinical {

// Largest submitted document (JP-CLINS: 10 MB per submission).
inline constexpr size_t kMaxDocumentBodyBytes = 10 * 1024 * 1024;
// The header stating the patient consented at the referring facility, and its value.
inline constexpr std::string_view kPatientConsentHeader = "x-patient-consent";

class DocumentService {
 public:
  // store, audit, blobs and clock must outlive the service; declarations may be null.
  // max_body_bytes bounds the submission (kTooLarge beyond).
  DocumentService(store::Store& store, audit::AuditLog& audit, BlobStore& blobs, const Clock& clock,
                  Limits limits = {}, access::DeclarationCache* declarations = nullptr,
                  size_t max_body_bytes = kMaxDocumentBodyBytes);

  RouteTable Routes();

  // The handlers, callable without sockets.
  Response HandleSubmit(Request& req);
  Response HandleSearch(Request& req);
  Response HandleRead(Request& req);
  Response HandleConsent(Request& req);
  Response HandleReceipt(Request& req);
  Response HandleBinary(Request& req);

 private:
  // What a read of one stored document decides.
  struct Verdict {
    access::Decision decision;
    std::string purpose;  // the basis, or the claimed purpose when denied
  };
  // Decides whether who may read the document (row, state) for the claim, loading the
  // patient's facts in tx. category overrides the document's (a discharge summary attachment).
  Result<Verdict> DecideDocument(store::Transaction& tx, const Principal& who,
                                 const access::PurposeClaim& claim, std::string_view claimed_code,
                                 const store::ResourceRow& row, const DocumentState& state,
                                 access::Category category, TimePoint now);
  // Records a refusal (denied) for the patient, without data.
  void AuditRefusal(const Principal& who, std::string_view patient_id, std::string_view action,
                    access::Category category, std::string_view purpose);

  Response SearchInbox(Request& req, const Principal& who, bool as_addressee);
  Response SearchPatient(Request& req, const Principal& who, std::string patient_id);

  store::Store& store_;
  audit::AuditLog& audit_;
  BlobStore& blobs_;
  const Clock& clock_;
  Limits limits_;
  access::DeclarationCache* declarations_;
  size_t max_body_bytes_;
};

}  // namespace renkei::clinical
