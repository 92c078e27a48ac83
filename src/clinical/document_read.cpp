// Reads of the documents: retrieval (marking a referral letter retrieved), attachments by
// hash, and the DocumentReference listings (the addressee's inbox, the sender's receipts, a
// patient's checkup reports with consent inside the query). Each asks access::Decide and
// audits before data leaves.
#include "clinical/document_read.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "access/purpose_claim.h"
#include "clinical/document_internal.h"
#include "clinical/document_service.h"
#include "clinical/item_access.h"
#include "core/crypto.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "registry/store_query.h"

namespace renkei::clinical {
namespace {

constexpr uint16_t kCheckupBit = 1u << static_cast<int>(access::Category::kCheckupResults);

const std::vector<fhir::SearchParamDef>& DocumentParams() {
  static const std::vector<fhir::SearchParamDef> kParams = {
      {"patient", fhir::SearchParamKind::kReference, "Patient", false,
       "The patient: Patient/<id> (checkup reports, consent enforced inside the query)"},
      {"addressee", fhir::SearchParamKind::kToken, "", false,
       "The addressee's inbox: the caller's own 10-digit facility code"},
      {"author", fhir::SearchParamKind::kToken, "", false,
       "The sender's documents and read receipts: the caller's own facility code"},
      {"status", fhir::SearchParamKind::kToken, "", false, "Referral letters: pending | retrieved"},
      {"type", fhir::SearchParamKind::kToken, "", false,
       "Document type code: 57133-1 referral letter, 53576-5 checkup report"},
  };
  return kParams;
}

// The state a tombstone kept (DocumentTombstoneTerms) and the category of attachment sha in
// it; nullopt when it kept too little to decide on (then nobody learns it existed).
struct GoneDocument {
  DocumentState state;
  access::Category category = access::Category::kReferralLetters;
};
std::optional<GoneDocument> GoneDocumentOf(const std::vector<store::IndexTerm>& terms,
                                           std::string_view sha) {
  GoneDocument g;
  bool typed = false;
  bool holds = false;
  for (const store::IndexTerm& t : terms) {
    if (t.param == kParamDocType) {
      auto type = DocumentTypeOfCode(t.value);
      if (!type) return std::nullopt;
      g.state.type = *type;
      typed = true;
    } else if (t.param == kParamAuthor) {
      g.state.author = t.value;
    } else if (t.param == kParamAddressee) {
      g.state.addressee = t.value;
    } else if (t.param == kParamInsurer) {
      g.state.insurer = t.value;
    } else if (t.param == kParamTombstoneConsent) {
      g.state.consent = t.value;
    } else if (t.param == kParamAttachment && t.value == sha) {
      holds = true;
      if (t.system == kDischargeSummarySystem) g.category = access::Category::kDischargeSummaries;
    }
  }
  if (!typed || !holds || g.state.author.empty()) return std::nullopt;
  if (g.category != access::Category::kDischargeSummaries) {
    g.category = DocumentCategory(g.state.type);
  }
  return g;
}

Error Unauthenticated() {
  return Error(ErrorCode::kUnauthenticated, "an access token is required");
}

bool WantsFhirJson(const Request& req) {
  std::string_view accept = req.Header("accept").value_or("");
  return accept.find("fhir+json") != std::string_view::npos ||
         accept.find("application/json") != std::string_view::npos;
}

}  // namespace

std::vector<store::IndexTerm> DocumentTombstoneTerms(const store::ResourceRow& row) {
  std::vector<store::IndexTerm> terms;
  if (row.type != kDocumentBundleType || row.deleted) return terms;
  auto stored = json::ParseObject(row.json, Limits{});
  if (!stored.ok()) return terms;
  const std::vector<StoredAttachment> attachments = AttachmentsOf(*stored);
  // A document without attachments leaves nothing: its own read answers 410 by its id.
  if (attachments.empty()) return terms;
  const DocumentState s = DocumentStateOf(*stored);
  for (const StoredAttachment& a : attachments) {
    terms.push_back({std::string(kParamAttachment),
                     a.discharge_summary ? std::string(kDischargeSummarySystem) : std::string(),
                     a.sha256});
  }
  terms.push_back({std::string(kParamDocType), "", std::string(DocumentTypeCode(s.type))});
  terms.push_back({std::string(kParamAuthor), "", s.author});
  if (!s.addressee.empty()) terms.push_back({std::string(kParamAddressee), "", s.addressee});
  if (!s.insurer.empty()) terms.push_back({std::string(kParamInsurer), "", s.insurer});
  if (!s.consent.empty()) terms.push_back({std::string(kParamTombstoneConsent), "", s.consent});
  return terms;
}

Response DocumentService::HandleRead(Request& req) {
  if (!req.principal) return fhir::ErrorResponse(Unauthenticated());
  const Principal& who = *req.principal;
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  const std::string id(req.PathParam("id"));
  struct Found {
    store::ResourceRow row;
    DocumentState state;
    Verdict verdict;
    bool first_retrieval = false;  // the addressee's first retrieval of a referral letter
    bool marked = false;           // this read marked it retrieved (and audited with it)
  };
  // Decides in tx; in a write transaction also marks the addressee's first retrieval and
  // commits its audit entry with it (issue 5: "the access is audited and marks it retrieved").
  auto attempt = [&](store::Transaction& tx, bool write) -> Result<Found> {
    Found f;
    const TimePoint now = clock_.Now();
    RK_ASSIGN_OR_RETURN(f.row, internal::ReadDocument(tx, id));
    RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(f.row.json, Limits{}));
    f.state = DocumentStateOf(stored);
    RK_ASSIGN_OR_RETURN(f.verdict, DecideDocument(tx, who, claim->view(), claim->code(), f.row,
                                                  f.state, DocumentCategory(f.state.type), now));
    f.first_retrieval = f.verdict.decision.permit &&
                        f.state.type == DocumentType::kReferralLetter &&
                        f.state.status == kStatusPending && who.facility_code == f.state.addressee;
    if (f.first_retrieval && write) {
      f.state.status = std::string(kStatusRetrieved);
      f.state.retrieved = FormatInstant(now);
      RK_TRY(UpdateDocumentState(tx, f.row, f.state, now));
      audit::AuditEntry entry =
          audit::EntryFor(who, f.row.patient_id, "read",
                          access::ToString(DocumentCategory(f.state.type)), f.verdict.purpose);
      entry.detail = json::Serialize(json::object{{"retrieved", true}});
      RK_TRY(audit_.AppendInTransaction(tx, {entry}));
      RK_ASSIGN_OR_RETURN(auto updated, tx.ReadCurrent(kDocumentBundleType, id));
      if (updated) f.row = std::move(*updated);
      f.marked = true;
    }
    return f;
  };
  // Most reads change nothing: a read transaction; only a first retrieval takes the writer.
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead,
      [&](store::Transaction& tx) -> Result<Found> { return attempt(tx, false); });
  if (found.ok() && found->first_retrieval) {
    found = store::RunInTransactionWithResult<Found>(
        store_, store::TxMode::kWrite,
        [&](store::Transaction& tx) -> Result<Found> { return attempt(tx, true); });
  }
  if (!found.ok()) {
    if (found.error().code() == ErrorCode::kGone) {
      // The retention sweeper deleted it: say so (issue 5: "after deletion, 410 Gone").
      audit::AuditEntry entry =
          audit::EntryFor(who, "", "read", kDocumentBundleType, claim->code(), "error");
      entry.detail = json::Serialize(json::object{{"status", 410}});
      (void)audit_.Record(std::move(entry));
    }
    return fhir::ErrorResponse(found.error());
  }
  const access::Category category = DocumentCategory(found->state.type);
  if (!found->verdict.decision.permit) {
    AuditRefusal(who, found->row.patient_id, "read", category, found->verdict.purpose);
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, std::string(found->verdict.decision.reason)));
  }
  if (!found->marked) {
    audit::AuditEntry entry = audit::EntryFor(who, found->row.patient_id, "read",
                                              access::ToString(category), found->verdict.purpose);
    if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());
  }
  Response r = Response::Json(200, found->row.json);
  r.headers.emplace_back("ETag", fhir::FormatETag(found->row.version));
  return r;
}

Response DocumentService::HandleBinary(Request& req) {
  if (!req.principal) return fhir::ErrorResponse(Unauthenticated());
  const Principal& who = *req.principal;
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  const std::string sha(req.PathParam("id"));
  if (!IsBlobName(sha))
    return fhir::ErrorResponse(Error(ErrorCode::kNotFound, "no such attachment"));
  struct Found {
    bool any = false;
    std::string patient_id;
    access::Category category = access::Category::kReferralLetters;
    std::string content_type;
    Verdict verdict;
    bool gone = false;  // only deleted documents held it, and the caller could have read one
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<
      Found>(store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
    Found f;
    store::SearchQuery q;
    q.type = std::string(kDocumentBundleType);
    q.criteria.push_back({std::string(kParamAttachment), store::MatchOp::kEq, false, "", {sha}});
    q.count = 20;  // one attachment is held by a handful of documents at most
    q.include_total = false;
    RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
    for (const store::ResourceRow& row : page.rows) {
      RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(row.json, Limits{}));
      const DocumentState state = DocumentStateOf(stored);
      access::Category category = DocumentCategory(state.type);
      std::string content_type;
      for (const StoredAttachment& a : AttachmentsOf(stored)) {
        if (a.sha256 != sha) continue;
        content_type = a.content_type;
        if (a.discharge_summary) category = access::Category::kDischargeSummaries;
      }
      RK_ASSIGN_OR_RETURN(Verdict v, DecideDocument(tx, who, claim->view(), claim->code(), row,
                                                    state, category, now));
      if (!f.any || v.decision.permit) {
        f.any = true;
        f.patient_id = row.patient_id;
        f.category = category;
        f.content_type = content_type;
        f.verdict = v;
      }
      if (v.decision.permit) break;
    }
    if (f.any) return f;
    // No current document holds it. If deleted ones did (their tombstones keep the facts the
    // decision needs, DocumentTombstoneTerms), the caller who could have read one of them
    // learns it is gone (issue 5: after deletion, 410 Gone); anyone else gets 404 as for an
    // unknown hash, which names content and so must not confirm that it was ever held.
    store::SearchQuery gone = q;
    gone.deleted_only = true;
    gone.terms_of = {std::string(kParamAttachment), std::string(kParamDocType),
                     std::string(kParamAuthor),     std::string(kParamAddressee),
                     std::string(kParamInsurer),    std::string(kParamTombstoneConsent)};
    RK_ASSIGN_OR_RETURN(store::SearchPage tombstones, tx.Search(gone));
    for (size_t i = 0; i < tombstones.rows.size(); ++i) {
      auto doc = GoneDocumentOf(tombstones.terms[i], sha);
      if (!doc) continue;
      RK_ASSIGN_OR_RETURN(Verdict v,
                          DecideDocument(tx, who, claim->view(), claim->code(), tombstones.rows[i],
                                         doc->state, doc->category, now));
      if (v.decision.permit) {
        f.gone = true;
        break;
      }
    }
    return f;
  });
  if (!found.ok()) return fhir::ErrorResponse(found.error());
  if (found->gone) {
    // As for a deleted document's read: the attempt is audited, no data leaves.
    audit::AuditEntry entry =
        audit::EntryFor(who, "", "read", kDocumentBundleType, claim->code(), "error");
    entry.detail = json::Serialize(json::object{{"status", 410}, {"attachment", true}});
    (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(
        Error(ErrorCode::kGone, "the documents holding this attachment have been deleted"));
  }
  if (!found->any) return fhir::ErrorResponse(Error(ErrorCode::kNotFound, "no such attachment"));
  if (!found->verdict.decision.permit) {
    AuditRefusal(who, found->patient_id, "read", found->category, found->verdict.purpose);
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, std::string(found->verdict.decision.reason)));
  }
  auto bytes = blobs_.Get(sha);
  if (!bytes.ok()) {
    // The row names a blob that is gone: the sweeper released it between the two reads.
    return fhir::ErrorResponse(bytes.error().code() == ErrorCode::kNotFound
                                   ? Error(ErrorCode::kGone, "the attachment has been deleted")
                                   : bytes.error());
  }
  audit::AuditEntry entry = audit::EntryFor(
      who, found->patient_id, "read", access::ToString(found->category), found->verdict.purpose);
  entry.detail = json::Serialize(json::object{{"attachment", true}});
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());
  if (WantsFhirJson(req)) {
    json::object binary{{"resourceType", "Binary"},
                        {"id", sha},
                        {"contentType", found->content_type},
                        {"data", crypto::Base64Encode(*bytes)}};
    return Response::Json(200, json::Serialize(binary));
  }
  Response r;
  r.status = 200;
  r.content_type = found->content_type.empty() ? "application/octet-stream" : found->content_type;
  r.body = std::move(bytes).value();
  // Served as the sender declared it (one of the allowed types), never sniffed as another.
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

Response DocumentService::HandleSearch(Request& req) {
  if (!req.principal) return fhir::ErrorResponse(Unauthenticated());
  const Principal& who = *req.principal;
  std::string patient;
  bool addressee = false, author = false;
  for (const auto& [name, value] : req.query) {
    if (name == "addressee") addressee = true;
    if (name == "author") author = true;
    if (name == "patient") patient = value;
  }
  if (addressee && author) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kInvalid, "list either the inbox (addressee) or the sent (author)"));
  }
  if (addressee || author) return SearchInbox(req, who, addressee);
  if (patient.empty()) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kInvalid,
              "name the patient (Patient/<id>), or addressee / author as your own facility code"));
  }
  if (patient.starts_with("Patient/")) patient = patient.substr(8);
  return SearchPatient(req, who, std::move(patient));
}

// The inbox (addressee = own facility) or the sent documents (author = own facility): metadata
// only, each with whether the caller may retrieve it now. Listing needs the staff who may read
// such documents at all (physicians and dentists; Decide on a consented document of their own
// facility), and every patient listed is audited.
Response DocumentService::SearchInbox(Request& req, const Principal& who, bool as_addressee) {
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  auto search = fhir::ParseSearch(req.query, DocumentParams(), limits_,
                                  fhir::PrefersLenient(req.Header("prefer").value_or("")));
  if (!search.ok()) return fhir::ErrorResponse(search.error());
  const std::string_view own_param = as_addressee ? kParamAddressee : kParamAuthor;
  store::SearchQuery q;
  q.type = std::string(kDocumentBundleType);
  for (const fhir::SearchCriterion& c : search->criteria) {
    std::string param = c.param;
    if (param == own_param) {
      if (c.values.size() != 1 || c.values[0] != who.facility_code) {
        AuditRefusal(who, "", "search", access::Category::kReferralLetters, claim->code());
        return fhir::ErrorResponse(
            Error(ErrorCode::kForbidden, fmt::format("{} must be your own facility", own_param)));
      }
    }
    if (param == "type") param = std::string(kParamDocType);
    q.criteria.push_back(store::Criterion{param, registry::ToMatchOp(c.op), false, "", c.values});
  }
  if (as_addressee) {
    q.criteria.push_back({std::string(kParamDocType),
                          store::MatchOp::kEq,
                          false,
                          "",
                          {std::string(DocumentTypeCode(DocumentType::kReferralLetter))}});
  }
  registry::SetPagingAndOrder(q, *search);

  // Who may list at all: the decision on a document of this facility that could be opened to
  // it (addressed to it with the patient's consent, or its own).
  access::AccessRequest probe;
  probe.actor = access::ActorOf(who);
  probe.purpose = claim->view();
  probe.item.category = access::Category::kReferralLetters;
  if (as_addressee) {
    probe.item.addressee = who.facility_code;
    probe.item.document_consent = true;
  } else {
    probe.item.registering_facility = who.facility_code;
  }
  access::AccessFacts no_facts;
  no_facts.now = clock_.Now();
  const access::Decision may_list = access::Decide(probe, no_facts);
  if (who.kind != PrincipalKind::kPractitioner || !may_list.permit) {
    AuditRefusal(who, "", "search", access::Category::kReferralLetters, claim->code());
    return fhir::ErrorResponse(Error(ErrorCode::kForbidden, may_list.permit
                                                                ? std::string("practitioners only")
                                                                : std::string(may_list.reason)));
  }
  struct Listed {
    store::SearchPage page;
    std::vector<DocumentState> states;
    std::vector<bool> readable;
  };
  const TimePoint now = clock_.Now();
  auto listed = store::RunInTransactionWithResult<Listed>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Listed> {
        Listed l;
        RK_ASSIGN_OR_RETURN(l.page, tx.Search(q));
        for (const store::ResourceRow& row : l.page.rows) {
          RK_ASSIGN_OR_RETURN(json::object stored, json::ParseObject(row.json, Limits{}));
          DocumentState state = DocumentStateOf(stored);
          RK_ASSIGN_OR_RETURN(Verdict v, DecideDocument(tx, who, claim->view(), claim->code(), row,
                                                        state, DocumentCategory(state.type), now));
          l.readable.push_back(v.decision.permit);
          l.states.push_back(std::move(state));
        }
        return l;
      });
  if (!listed.ok()) return fhir::ErrorResponse(listed.error());
  std::vector<audit::AuditEntry> entries;
  std::set<std::pair<std::string, access::Category>> listed_once;
  for (size_t i = 0; i < listed->page.rows.size(); ++i) {
    const store::ResourceRow& row = listed->page.rows[i];
    const access::Category category = DocumentCategory(listed->states[i].type);
    if (!listed_once.insert({row.patient_id, category}).second) continue;
    audit::AuditEntry e =
        audit::EntryFor(who, row.patient_id, "search", access::ToString(category), claim->code());
    e.detail = json::Serialize(json::object{{"list", as_addressee ? "inbox" : "sent"}});
    entries.push_back(std::move(e));
  }
  if (!entries.empty()) {
    if (auto s = audit_.Record(std::move(entries)); !s.ok()) return fhir::ErrorResponse(s.error());
  }
  std::vector<fhir::BundleEntryOut> out;
  for (size_t i = 0; i < listed->page.rows.size(); ++i) {
    const store::ResourceRow& row = listed->page.rows[i];
    fhir::BundleEntryOut e;
    e.full_url = fhir::ResourceUrl(req.base_url, "DocumentReference", row.id);
    e.resource_json = json::Serialize(
        internal::DocumentReferenceOf(row, listed->states[i], true, listed->readable[i]));
    e.search_mode = "match";
    out.push_back(std::move(e));
  }
  const std::string self = fmt::format("{}/fhir/DocumentReference?{}", req.base_url,
                                       fhir::PageQuery(*search, search->cursor));
  std::string next;
  if (!listed->page.next_cursor.empty()) {
    next = fmt::format("{}/fhir/DocumentReference?{}", req.base_url,
                       fhir::PageQuery(*search, listed->page.next_cursor));
  }
  return Response::Json(200, fhir::SearchSetBundle(listed->page.total, self, next, out));
}

// A patient's checkup reports (issue 5: visible to the patient, to the insurer the report
// names, and to facilities under the checkup consent), with what the principal may see put
// into the query (item_access.h ScopeCriterion), so totals and paging count nothing hidden.
Response DocumentService::SearchPatient(Request& req, const Principal& who,
                                        std::string patient_id) {
  auto claim = access::ClaimedPurposeOf(req, who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  auto search = fhir::ParseSearch(req.query, DocumentParams(), limits_,
                                  fhir::PrefersLenient(req.Header("prefer").value_or("")));
  if (!search.ok()) return fhir::ErrorResponse(search.error());
  store::SearchQuery q;
  q.type = std::string(kDocumentBundleType);
  q.patient_id = patient_id;
  for (const fhir::SearchCriterion& c : search->criteria) {
    if (c.param == "type") {
      for (const std::string& v : c.values) {
        if (v != DocumentTypeCode(DocumentType::kCheckupReport)) {
          return fhir::ErrorResponse(
              Error(ErrorCode::kInvalid,
                    "by patient, checkup reports (53576-5) are listed; referral letters are listed "
                    "by addressee or author"));
        }
      }
      continue;
    }
    q.criteria.push_back(
        store::Criterion{c.param, registry::ToMatchOp(c.op), c.has_system, c.system, c.values});
  }
  q.criteria.push_back({std::string(kParamDocType),
                        store::MatchOp::kEq,
                        false,
                        "",
                        {std::string(DocumentTypeCode(DocumentType::kCheckupReport))}});
  registry::SetPagingAndOrder(q, *search);

  struct Found {
    store::SearchPage page;
    access::Decision decision;
  };
  const TimePoint now = clock_.Now();
  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        Found f;
        RK_ASSIGN_OR_RETURN(access::AccessFacts facts,
                            access::LoadFacts(tx, patient_id, now, declarations_));
        const access::Actor actor = access::ActorOf(who);
        access::AccessRequest ar;
        ar.actor = actor;
        ar.patient_id = patient_id;
        ar.purpose = claim->view();
        ar.item.category = access::Category::kCheckupResults;
        store::SearchQuery query = q;
        if (claim->purpose == access::Purpose::kCoverage) {
          // The insurer's own checkup reports: those naming its number (DecideCoverage).
          ar.item.registering_facility = who.facility_code;
          f.decision = access::Decide(ar, facts);
          if (!f.decision.permit)
            return Error(ErrorCode::kForbidden, std::string(f.decision.reason));
          query.criteria.push_back(
              {std::string(kParamInsurer), store::MatchOp::kEq, false, "", {who.facility_code}});
        } else {
          f.decision = access::Decide(ar, facts);
          const access::SearchScope scope =
              access::ScopeFor(actor, patient_id, claim->view(), facts);
          auto criterion = ScopeCriterion(scope, who.facility_code, kCheckupBit);
          if (!criterion) {
            return Error(ErrorCode::kForbidden, f.decision.reason.empty()
                                                    ? std::string("not permitted")
                                                    : std::string(f.decision.reason));
          }
          query.criteria.push_back(std::move(*criterion));
          RK_ASSIGN_OR_RETURN(
              auto hidden, HiddenItemCriterion(tx, scope, kDocumentBundleType, who.facility_code));
          if (hidden) query.criteria.push_back(std::move(*hidden));
        }
        RK_ASSIGN_OR_RETURN(f.page, tx.Search(query));
        return f;
      });
  const std::string purpose = found.ok() && found->decision.permit
                                  ? std::string(found->decision.basis)
                                  : std::string(claim->code());
  audit::AuditEntry entry = audit::EntryFor(
      who, patient_id, "search", "checkup_results", purpose,
      found.ok() ? "success" : audit::OutcomeOf(found.error(), audit::NotFoundIs::kDenied));
  if (!found.ok()) {
    (void)audit_.Record(std::move(entry));
    return fhir::ErrorResponse(found.error());
  }
  if (auto s = audit_.Record(std::move(entry)); !s.ok()) return fhir::ErrorResponse(s.error());
  std::vector<fhir::BundleEntryOut> out;
  for (const store::ResourceRow& row : found->page.rows) {
    auto stored = json::ParseObject(row.json, Limits{});
    if (!stored.ok()) return fhir::ErrorResponse(stored.error());
    fhir::BundleEntryOut e;
    e.full_url = fhir::ResourceUrl(req.base_url, "DocumentReference", row.id);
    e.resource_json = json::Serialize(
        internal::DocumentReferenceOf(row, DocumentStateOf(*stored), true, std::nullopt));
    e.search_mode = "match";
    out.push_back(std::move(e));
  }
  const std::string self = fmt::format("{}/fhir/DocumentReference?{}", req.base_url,
                                       fhir::PageQuery(*search, search->cursor));
  std::string next;
  if (!found->page.next_cursor.empty()) {
    next = fmt::format("{}/fhir/DocumentReference?{}", req.base_url,
                       fhir::PageQuery(*search, found->page.next_cursor));
  }
  return Response::Json(200, fhir::SearchSetBundle(found->page.total, self, next, out));
}

}  // namespace renkei::clinical
