// The document service's frame and its writes: routes, submission, the patient's consent in
// the portal, the sender's read receipt, and the decision every read makes. Reads and searches
// are in document_read.cpp.
#include "clinical/document_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "access/purpose_claim.h"
#include "auth/jws.h"
#include "clinical/clins_codes.h"
#include "clinical/document_internal.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/routes.h"
#include "registry/patient_lookup.h"

namespace renkei::clinical {
namespace internal {

constexpr std::string_view kDeliveryExtension =
    "http://renkei.jp/fhir/StructureDefinition/document-delivery";
constexpr std::string_view kDocTypeSystem = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";

json::object DocumentReferenceOf(const store::ResourceRow& row, const DocumentState& s,
                                 bool with_subject, std::optional<bool> readable) {
  json::object d{{"resourceType", "DocumentReference"},
                 {"id", row.id},
                 {"status", row.deleted ? "entered-in-error" : "current"},
                 {"docStatus", "final"}};
  d["type"] = json::object{
      {"coding",
       json::array{json::object{{"system", kDocTypeSystem}, {"code", DocumentTypeCode(s.type)}}}}};
  if (with_subject) {
    d["subject"] = json::object{{"reference", fmt::format("Patient/{}", row.patient_id)}};
  }
  d["date"] = s.submitted;
  d["author"] = json::array{
      json::object{{"identifier", json::object{{"system", kFacilitySystem}, {"value", s.author}}}}};
  json::array delivery;
  auto add = [&](std::string_view url, std::string_view v) {
    if (!v.empty()) delivery.push_back(json::object{{"url", url}, {"valueString", v}});
  };
  add("addressee", s.addressee);
  add("insurer", s.insurer);
  add("status", s.status);
  add("retrieved", s.retrieved);
  add("consent", s.consent);
  if (readable) delivery.push_back(json::object{{"url", "readable"}, {"valueBoolean", *readable}});
  d["extension"] = json::array{json::object{{"url", kDeliveryExtension}, {"extension", delivery}}};
  d["content"] = json::array{
      json::object{{"attachment", json::object{{"contentType", "application/fhir+json"},
                                               {"url", fmt::format("Bundle/{}", row.id)}}}}};
  return d;
}

Result<store::ResourceRow> ReadDocument(store::Transaction& tx, std::string_view id) {
  if (!IsValidFhirId(id)) return Error(ErrorCode::kNotFound, "no such document");
  RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent(kDocumentBundleType, id));
  if (!row) return Error(ErrorCode::kNotFound, "no such document");
  // The retention sweeper deletes documents (issue 5: after deletion, 410 Gone).
  if (row->deleted) return Error(ErrorCode::kGone, "the document has been deleted (retention)");
  return std::move(*row);
}

std::string DocumentItemId(std::string_view id) {
  return fmt::format("{}/{}", kDocumentBundleType, id);
}

}  // namespace internal

namespace {

bool IsDocumentSender(const Principal& who) {
  return who.kind == PrincipalKind::kPractitioner &&
         (who.qualification == Qualification::kPhysician ||
          who.qualification == Qualification::kDentist) &&
         (who.facility_type == FacilityType::kHospital ||
          who.facility_type == FacilityType::kClinic ||
          who.facility_type == FacilityType::kDentalClinic);
}

// The Composition.type code of entry[0], if any.
std::string CompositionTypeCode(const json::object& bundle) {
  const json::array* entries = json::GetArray(bundle, "entry");
  if (!entries || entries->empty() || !(*entries)[0].is_object()) return "";
  const json::object* r = json::GetObject((*entries)[0].get_object(), "resource");
  if (!r) return "";
  std::string out;
  ForEachCoding(json::GetObject(*r, "type"), [&](size_t, std::string_view, std::string_view c) {
    if (out.empty() && DocumentTypeOfCode(c)) out = std::string(c);
  });
  return out;
}

}  // namespace

DocumentService::DocumentService(store::Store& store, audit::AuditLog& audit, BlobStore& blobs,
                                 const Clock& clock, Limits limits,
                                 access::DeclarationCache* declarations, size_t max_body_bytes)
    : store_(store),
      audit_(audit),
      blobs_(blobs),
      clock_(clock),
      limits_(limits),
      declarations_(declarations),
      max_body_bytes_(max_body_bytes) {}

void DocumentService::AuditRefusal(const Principal& who, std::string_view patient_id,
                                   std::string_view action, access::Category category,
                                   std::string_view purpose) {
  audit::AuditEntry entry =
      audit::EntryFor(who, patient_id, action, access::ToString(category), purpose, "denied");
  (void)audit_.Record(std::move(entry));  // the refusal is answered whatever the log says
}

Result<DocumentService::Verdict> DocumentService::DecideDocument(
    store::Transaction& tx, const Principal& who, const access::PurposeClaim& claim,
    std::string_view claimed_code, const store::ResourceRow& row, const DocumentState& state,
    access::Category category, TimePoint now) {
  RK_ASSIGN_OR_RETURN(access::AccessFacts facts,
                      access::LoadFacts(tx, row.patient_id, now, declarations_));
  const std::string item_id = internal::DocumentItemId(row.id);
  access::AccessRequest ar;
  ar.actor = access::ActorOf(who);
  ar.patient_id = row.patient_id;
  ar.purpose = claim;
  ar.item.category = category;
  ar.item.item_id = item_id;
  // An insurer reads the checkup reports naming it: as for Coverage, the insurer number stands
  // where the registering facility does (decision.cpp DecideCoverage).
  ar.item.registering_facility =
      claim.purpose == access::Purpose::kCoverage && state.type == DocumentType::kCheckupReport
          ? std::string_view(state.insurer)
          : std::string_view(state.author);
  ar.item.addressee = state.addressee;
  ar.item.document_consent = !state.consent.empty();
  Verdict v;
  v.decision = access::Decide(ar, facts);
  v.purpose = v.decision.permit ? std::string(v.decision.basis) : std::string(claimed_code);
  return v;
}

Response DocumentService::HandleSubmit(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  if (req.body.size() > max_body_bytes_) {
    return fhir::ErrorResponse(Error(
        ErrorCode::kTooLarge, fmt::format("a document is at most {} bytes", max_body_bytes_)));
  }
  if (!HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send FHIR JSON (application/fhir+json)"));
  }
  if (!IsDocumentSender(who)) {
    AuditRefusal(who, "", "create", access::Category::kReferralLetters, "TREAT");
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden,
              "only physicians and dentists of hospitals and clinics send documents"));
  }
  // Attachments travel base64 inside one JSON string: the per-string limit is the body's.
  Limits parse_limits = limits_;
  parse_limits.max_string_bytes = std::max(parse_limits.max_string_bytes, max_body_bytes_);
  auto parsed = json::ParseObject(req.body, parse_limits);
  if (!parsed.ok()) return fhir::ErrorResponse(parsed.error());
  json::object bundle = std::move(parsed).value();

  const std::string code = CompositionTypeCode(bundle);
  std::optional<DocumentType> type = DocumentTypeOfCode(code);
  if (type == DocumentType::kDischargeSummary) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kBusinessRule,
              "a discharge summary travels as an attachment of a referral letter",
              {Issue{Issue::Severity::kError, "business-rule", "Bundle.entry[0].resource.type",
                     "a discharge summary travels as an attachment of a referral letter"}}));
  }
  if (!type) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kBusinessRule, "unknown document type",
              {Issue{Issue::Severity::kError, "business-rule", "Bundle.entry[0].resource.type",
                     "Composition.type must be 57133-1 (referral letter) or 53576-5 (checkup "
                     "report)"}}));
  }
  auto validated = ValidateDocument(bundle, *type);
  if (!validated.ok()) return fhir::ErrorResponse(validated.error());
  const ClinicalDocument& doc = *validated;
  if (doc.author_facility_code != who.facility_code) {
    AuditRefusal(who, "", "create", DocumentCategory(*type), "TREAT");
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, "the sender must be a practitioner of the author facility"));
  }
  std::string consent_header(req.Header(kPatientConsentHeader).value_or(""));
  if (!consent_header.empty() &&
      (consent_header != kConsentAtReferringFacility || *type != DocumentType::kReferralLetter)) {
    return fhir::ErrorResponse(Error(ErrorCode::kInvalid,
                                     "X-Patient-Consent is 'referring-facility', on referral "
                                     "letters only"));
  }
  auto member_id = DocumentMemberId(bundle, doc);
  if (!member_id) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kBusinessRule, "the document's Patient has no insured-person identifier",
              {Issue{Issue::Severity::kError, "business-rule", "Bundle.entry",
                     "the Patient needs the insured-person identifier (JP_Insurance_memberID)"}}));
  }

  // Optional electronic signature: a JWS by the sender's registered key naming the SHA-256 of
  // the exact body bytes (as for prescriptions), verified, then kept in Bundle.signature.
  std::string signature(req.Header("x-signature").value_or(""));
  if (!signature.empty()) {
    auto keys = store::RunInTransactionWithResult<std::vector<store::KeyRecord>>(
        store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.GetKeys("practitioner", who.practitioner_id); });
    if (!keys.ok()) return fhir::ErrorResponse(keys.error());
    auto verified = auth::VerifyCompact(signature, *keys);
    if (!verified.ok()) return fhir::ErrorResponse(verified.error());
    if (json::GetString(verified->payload, "bundle_sha256") != crypto::Sha256Hex(req.body)) {
      return fhir::ErrorResponse(
          Error(ErrorCode::kUnauthenticated,
                "the signature does not cover this document (bundle_sha256 differs)"));
    }
    auto sub = json::GetString(verified->payload, "sub");
    if (sub && *sub != who.practitioner_id) {
      return fhir::ErrorResponse(
          Error(ErrorCode::kUnauthenticated, "the signature is not the sender's"));
    }
  }

  // Attachments go to the blob store first: durable and content-addressed, so a failed
  // transaction below leaves at most unreferenced blobs (released by the retention sweeper).
  auto attachments = MoveAttachments(bundle, doc, blobs_, parse_limits);
  if (!attachments.ok()) return fhir::ErrorResponse(attachments.error());

  const TimePoint now = clock_.Now();
  DocumentState state;
  state.type = *type;
  state.author = who.facility_code;
  state.submitter = who.practitioner_id;
  state.submitted = FormatInstant(now);
  if (*type == DocumentType::kReferralLetter) {
    state.addressee = doc.addressee_facility_code.value_or("");
    state.status = std::string(kStatusPending);
    if (!consent_header.empty()) {
      state.consent = std::string(kConsentAtReferringFacility);
      state.consented = state.submitted;
    }
  } else {
    state.insurer = doc.insurer_number.value_or("");
  }
  if (!signature.empty()) {
    bundle["signature"] =
        json::object{{"type", json::array{json::object{{"system", "urn:iso-astm:E1762-95:2013"},
                                                       {"code", "1.2.840.10065.1.12.1.1"}}}},
                     {"when", state.submitted},
                     {"who", json::object{{"reference", "Practitioner/" + who.practitioner_id}}},
                     {"sigFormat", "application/jose"},
                     {"data", crypto::Base64Encode(signature)}};
  }
  const std::string id = NewId();
  const access::Category category = DocumentCategory(*type);
  // A retry under the same X-Request-Id (DESIGN.md §3.2) answers what the first attempt
  // stored instead of sending the letter twice; another body under the same key is 409.
  const std::string key(req.Header("x-request-id").value_or(""));
  if (key.size() > 200) {
    return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "X-Request-Id is longer than 200 bytes"));
  }
  const std::string scope = fmt::format("doc-submit:{}:{}", who.facility_code, who.subject);
  const std::string body_hash = crypto::Sha256Hex(req.body);
  std::string answer;  // the DocumentReference answered
  Status s =
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        if (!key.empty()) {
          RK_ASSIGN_OR_RETURN(auto stored, tx.GetIdempotent(scope, key));
          if (stored) {
            RK_ASSIGN_OR_RETURN(json::object o, json::ParseObject(*stored, Limits{}));
            if (json::GetString(o, "hash") != body_hash) {
              return Error(ErrorCode::kConflict,
                           "X-Request-Id was already used for another document");
            }
            answer = std::string(json::GetString(o, "answer").value_or(""));
            return Ok();
          }
        }
        RK_ASSIGN_OR_RETURN(auto patient_id, registry::PatientByInsuredPersonId(tx, *member_id));
        if (!patient_id) {
          return Error(ErrorCode::kBusinessRule,
                       "no registered patient has the document's insured-person identifier",
                       {Issue{Issue::Severity::kError, "business-rule", "Bundle.entry",
                              "no registered patient has this insured-person identifier"}});
        }
        RK_ASSIGN_OR_RETURN(auto medications, StoreDocument(tx, bundle, doc, state, *attachments,
                                                            id, *patient_id, now));
        audit::AuditEntry entry =
            audit::EntryFor(who, *patient_id, "create", access::ToString(category), "TREAT");
        entry.detail = json::Serialize(json::object{{"type", DocumentTypeCode(*type)},
                                                    {"attachments", attachments->size()},
                                                    {"medications", medications.size()},
                                                    {"signed", !signature.empty()}});
        RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        store::ResourceRow written;
        written.id = id;
        written.patient_id = *patient_id;
        // The sender learns the document's id and state, not the registry's patient id.
        answer =
            json::Serialize(internal::DocumentReferenceOf(written, state, false, std::nullopt));
        if (!key.empty()) {
          Status put = tx.PutIdempotent(
              scope, key, json::Serialize(json::object{{"hash", body_hash}, {"answer", answer}}),
              now);
          if (!put.ok() && put.error().code() == ErrorCode::kConflict) {
            // A concurrent retry took the key: run again and answer with its outcome.
            return Error(ErrorCode::kRetryable, "idempotency key taken concurrently");
          }
          RK_TRY(put);
        }
        return Ok();
      });
  if (!s.ok()) return fhir::ErrorResponse(s.error());
  auto answered = json::ParseObject(answer, Limits{});
  if (!answered.ok()) return fhir::ErrorResponse(answered.error());
  Response r = Response::Json(201, answer);
  r.headers.emplace_back(
      "Location",
      fhir::ResourceUrl(req.base_url, "Bundle", json::GetString(*answered, "id").value_or("")));
  return r;
}

Response DocumentService::HandleConsent(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  if (who.kind != PrincipalKind::kPatient) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, "only the patient consents to a referral letter here"));
  }
  if (!req.body.empty() && !HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send FHIR JSON (application/fhir+json)"));
  }
  const std::string id(req.PathParam("id"));
  const TimePoint now = clock_.Now();
  std::string consent;
  Status s =
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_ASSIGN_OR_RETURN(store::ResourceRow row, internal::ReadDocument(tx, id));
        // Another patient's document: answered as unknown, so that ids reveal nothing.
        if (row.patient_id != who.subject) {
          return Error(ErrorCode::kNotFound, "no such document");
        }
        RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(row.json, Limits{}));
        DocumentState state = DocumentStateOf(stored);
        if (state.type != DocumentType::kReferralLetter) {
          return Error(ErrorCode::kBusinessRule,
                       "only referral letters wait for the patient's consent");
        }
        if (state.consent.empty()) {
          state.consent = std::string(kConsentInPortal);
          state.consented = FormatInstant(now);
          RK_TRY(UpdateDocumentState(tx, row, state, now));
          audit::AuditEntry entry =
              audit::EntryFor(who, row.patient_id, "consent",
                              access::ToString(access::Category::kReferralLetters), "PATRQT");
          entry.detail = json::Serialize(json::object{{"consent", kConsentInPortal}});
          RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        }
        consent = state.consent;
        return Ok();
      });
  if (!s.ok()) return fhir::ErrorResponse(s.error());
  json::array params;
  params.push_back(json::object{{"name", "document"},
                                {"valueReference", json::object{{"reference", "Bundle/" + id}}}});
  params.push_back(json::object{{"name", "consent"}, {"valueCode", consent}});
  return Response::Json(
      200, json::Serialize(json::object{{"resourceType", "Parameters"}, {"parameter", params}}));
}

Response DocumentService::HandleReceipt(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  const std::string id(req.PathParam("id"));
  const TimePoint now = clock_.Now();
  struct Found {
    store::ResourceRow row;
    DocumentState state;
    Verdict verdict;
  };
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        Found f;
        RK_ASSIGN_OR_RETURN(f.row, internal::ReadDocument(tx, id));
        RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(f.row.json, Limits{}));
        f.state = DocumentStateOf(stored);
        RK_ASSIGN_OR_RETURN(f.verdict,
                            DecideDocument(tx, who, claim->view(), claim->code(), f.row, f.state,
                                           DocumentCategory(f.state.type), now));
        return f;
      });
  if (!found.ok()) return fhir::ErrorResponse(found.error());
  const access::Category category = DocumentCategory(found->state.type);
  // The read receipt is the sender's: its own facility's qualified staff (the decision's
  // own-facility rule), nobody else's.
  if (who.kind != PrincipalKind::kPractitioner || who.facility_code != found->state.author ||
      !found->verdict.decision.permit) {
    AuditRefusal(who, found->row.patient_id, "read", category, found->verdict.purpose);
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden,
              who.facility_code != found->state.author
                  ? std::string("the read receipt is shown to the sending facility only")
                  : std::string(found->verdict.decision.reason)));
  }
  audit::AuditEntry entry = audit::EntryFor(who, found->row.patient_id, "read",
                                            access::ToString(category), found->verdict.purpose);
  entry.detail = json::Serialize(json::object{{"receipt", true}});
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());
  const DocumentState& st = found->state;
  json::array params;
  params.push_back(json::object{{"name", "document"},
                                {"valueReference", json::object{{"reference", "Bundle/" + id}}}});
  if (!st.status.empty())
    params.push_back(json::object{{"name", "status"}, {"valueCode", st.status}});
  params.push_back(json::object{{"name", "submitted"}, {"valueInstant", st.submitted}});
  if (!st.retrieved.empty()) {
    params.push_back(json::object{{"name", "retrieved"}, {"valueInstant", st.retrieved}});
  }
  if (!st.addressee.empty()) {
    params.push_back(json::object{
        {"name", "addressee"},
        {"valueIdentifier", json::object{{"system", kFacilitySystem}, {"value", st.addressee}}}});
  }
  if (!st.consent.empty()) {
    params.push_back(json::object{{"name", "consent"}, {"valueCode", st.consent}});
  }
  return Response::Json(
      200, json::Serialize(json::object{{"resourceType", "Parameters"}, {"parameter", params}}));
}

RouteTable DocumentService::Routes() {
  RouteTable routes;
  routes.push_back(fhir::TypeOperation(
      Method::kPost, "Bundle", "$submit-document",
      "Submit a referral letter (with attachments, optional JWS signature) or a checkup report",
      [this](Request& r) { return HandleSubmit(r); },
      {.returns_patient_data = false, .max_body_bytes = max_body_bytes_}));
  routes.push_back(fhir::SearchRoute(
      "DocumentReference",
      "Documents as metadata: the addressee's inbox (addressee), the sender's receipts "
      "(author), a patient's checkup reports (patient); status, type, paging",
      [this](Request& r) { return HandleSearch(r); }));
  routes.push_back(fhir::ReadRoute("Bundle",
                                   "Retrieve a document (the addressee's first retrieval marks a "
                                   "referral letter retrieved); 410 once deleted",
                                   [this](Request& r) { return HandleRead(r); }));
  routes.push_back(fhir::InstanceOperation(
      Method::kPost, "Bundle", "$consent",
      "The patient consents in the portal to a referral letter being viewed by its addressee",
      [this](Request& r) { return HandleConsent(r); },
      {.returns_patient_data = false, .max_body_bytes = 64 * 1024}));
  routes.push_back(fhir::InstanceOperation(
      Method::kGet, "Bundle", "$receipt",
      "The sender's read receipt: whether and when the addressee retrieved the document",
      [this](Request& r) { return HandleReceipt(r); }));
  routes.push_back(fhir::ReadRoute(
      "Binary", "An attachment by SHA-256, for whoever may read a document holding it",
      [this](Request& r) { return HandleBinary(r); }));
  return routes;
}

}  // namespace renkei::clinical
