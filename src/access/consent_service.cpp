#include "access/consent_service.h"

#include <fmt/format.h>

#include "access/consent_resource.h"
#include "core/ids.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"

namespace renkei::access {
namespace {

constexpr std::string_view kCategory = "Consent";

// Card readers stand at the reception of care facilities (DOMAIN.md §1); the clerk who runs
// the reader records the consent, which by itself shows nothing to anyone.
bool IsCareFacility(FacilityType t) {
  return t == FacilityType::kHospital || t == FacilityType::kClinic ||
         t == FacilityType::kDentalClinic || t == FacilityType::kPharmacy;
}

// The card assertion from a Parameters body: parameter "card" (valueString), as in
// $verify-eligibility.
Result<std::string> CardParameter(std::string_view body, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(json::object params, json::ParseObject(body, limits));
  if (json::GetString(params, "resourceType") != "Parameters") {
    return Error(ErrorCode::kInvalid, "the body must be a Parameters resource");
  }
  std::optional<std::string> card;
  if (const json::array* list = json::GetArray(params, "parameter")) {
    for (const auto& p : *list) {
      if (!p.is_object() || json::GetString(p.get_object(), "name") != "card") continue;
      if (card) return Error(ErrorCode::kInvalid, "give the card parameter once");
      auto v = json::GetString(p.get_object(), "valueString");
      if (!v || v->empty()) {
        return Error(ErrorCode::kInvalid, "card must be the card reader's signed assertion");
      }
      card = std::string(*v);
    }
  }
  if (!card) return Error(ErrorCode::kInvalid, "the Parameters lack the card parameter");
  return *card;
}

}  // namespace

ConsentService::ConsentService(store::Store& store, audit::AuditLog& audit,
                               auth::CardVerifier& cards, const Clock& clock, Limits limits)
    : store_(store), audit_(audit), cards_(cards), clock_(clock), limits_(limits) {}

Result<json::object> ConsentService::RecordCardConsent(const Principal& who, std::string_view jws) {
  auto refuse = [&](Error e, std::string_view patient_id = "") -> Result<json::object> {
    audit::AuditEntry entry =
        audit::EntryFor(who, patient_id, "create", kCategory, "TREAT", audit::OutcomeOf(e));
    RK_TRY(audit_.Record(std::move(entry)));
    return e;
  };
  if (who.kind != PrincipalKind::kPractitioner || !IsCareFacility(who.facility_type)) {
    return refuse(Error(ErrorCode::kForbidden,
                        "card consents are recorded at hospitals, clinics and pharmacies"));
  }
  if (jws.size() > kMaxCardAssertionBytes) {
    return refuse(Error(ErrorCode::kTooLarge, fmt::format("a card assertion is at most {} bytes",
                                                          kMaxCardAssertionBytes)));
  }
  // Signature, facility, staleness and replay (the nonce is spent here): auth/card.h.
  auto assertion = cards_.Verify(jws, who.facility_code);
  if (!assertion.ok()) return refuse(assertion.error());
  const std::string& patient_id = assertion->patient_id;
  // The reader's consent is for treatment (TREAT); emergency, ambulance and disaster viewing
  // have their own bases and need no card consent (DESIGN.md §5).
  if (assertion->purpose != "TREAT") {
    return refuse(
        Error(ErrorCode::kBusinessRule, "a card reader consent is for treatment (purpose TREAT)"),
        patient_id);
  }
  uint8_t groups = 0;
  for (const std::string& word : assertion->categories) {
    uint8_t g = ParseConsentGroup(word);
    if (g == 0) {
      return refuse(Error(ErrorCode::kInvalid,
                          fmt::format("unknown consent category '{}' (all, surgery, clinical, "
                                      "checkup)",
                                      word)),
                    patient_id);
    }
    groups |= g;
  }
  if (groups == 0) {
    return refuse(Error(ErrorCode::kInvalid, "the card consent names no category"), patient_id);
  }

  // The 24 hours run from the consent at the reader (DOMAIN.md §2), i.e. the assertion's iat,
  // which CardVerifier has checked against the server clock.
  CardConsent consent;
  consent.facility_code = who.facility_code;
  consent.groups = groups;
  consent.signed_at = assertion->issued_at;
  const TimePoint now = clock_.Now();
  json::object resource =
      BuildCardConsent(patient_id, who.facility_code, groups, consent.signed_at);
  const std::string id = NewId();
  fhir::StampMeta(resource, id, 1, now);
  store::ResourceRow row;
  row.type = std::string(kConsentType);
  row.id = id;
  row.last_updated = now;
  row.patient_id = patient_id;
  row.json = json::Serialize(resource);
  const auto terms = ConsentIndexTerms(consent, patient_id);
  audit::AuditEntry entry = audit::EntryFor(who, patient_id, "create", kCategory, "TREAT");
  entry.detail = fmt::format(R"({{"consent":"{}","categories":"{}"}})", id,
                             fmt::join(ConsentGroupWords(groups), " "));
  RK_TRY(
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_TRY(tx.WriteResource(row, terms, int64_t{0}));
        return audit_.AppendInTransaction(tx, {entry});
      }));
  return resource;
}

Result<json::object> ConsentService::Revoke(const Principal& who, std::string_view consent_id) {
  if (who.kind != PrincipalKind::kPatient || who.subject.empty()) {
    return Error(ErrorCode::kForbidden, "only the patient revokes their consent");
  }
  const TimePoint now = clock_.Now();
  return store::RunInTransactionWithResult<json::object>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<json::object> {
        RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent(kConsentType, consent_id));
        // Another patient's consent is answered like a missing one: nothing to learn from ids.
        if (!row || row->deleted || row->patient_id != who.subject) {
          return Error(ErrorCode::kNotFound, "no such consent of this patient");
        }
        RK_ASSIGN_OR_RETURN(json::object resource, json::ParseObject(row->json, limits_));
        if (json::GetString(resource, "status") != "active") return resource;  // already revoked
        MarkRevoked(resource, now);
        RK_ASSIGN_OR_RETURN(CardConsent consent, ReadCardConsent(resource));
        fhir::StampMeta(resource, row->id, row->version + 1, now);
        store::ResourceRow next = *row;
        next.last_updated = now;
        next.json = json::Serialize(resource);
        RK_TRY(tx.WriteResource(next, ConsentIndexTerms(consent, who.subject), row->version));
        audit::AuditEntry entry = audit::EntryFor(who, who.subject, "update", kCategory, "PATRQT");
        entry.detail = fmt::format(R"({{"consent":"{}","revoked":true}})", row->id);
        RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        return resource;
      });
}

Response ConsentService::HandleCard(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  if (!HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send a Parameters resource as application/fhir+json"));
  }
  auto card = CardParameter(req.body, limits_);
  if (!card.ok()) return fhir::ErrorResponse(card.error());
  auto consent = RecordCardConsent(*req.principal, *card);
  if (!consent.ok()) return fhir::ErrorResponse(consent.error());
  const std::string id(json::GetString(*consent, "id").value_or(""));
  Response res = Response::Json(201, json::Serialize(*consent));
  res.headers.emplace_back("Location",
                           fhir::ResourceUrl(req.base_url, kConsentType, id) + "/_history/1");
  res.headers.emplace_back("ETag", fhir::FormatETag(1));
  return res;
}

Response ConsentService::HandleRevoke(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  auto consent = Revoke(*req.principal, req.PathParam("id"));
  if (!consent.ok()) return fhir::ErrorResponse(consent.error());
  return Response::Json(200, json::Serialize(*consent));
}

RouteTable ConsentService::Routes() {
  RouteTable routes;
  Route card;
  card.method = Method::kPost;
  card.pattern = "/fhir/Consent/$card";
  card.interaction = Interaction::kOperation;
  card.resource_type = "Consent";
  card.operation = "$card";
  card.auth = AuthRequirement::kToken;
  // The answer is the consent the caller's own reader produced, no data held elsewhere.
  card.returns_patient_data = false;
  card.summary = "Record the patient's consent given at the card reader (24-hour view)";
  card.max_body_bytes = 64 * 1024;
  card.handler = [this](Request& req) { return HandleCard(req); };
  routes.push_back(std::move(card));

  Route revoke;
  revoke.method = Method::kPost;
  revoke.pattern = "/fhir/Consent/{id}/$revoke";
  revoke.interaction = Interaction::kOperation;
  revoke.resource_type = "Consent";
  revoke.operation = "$revoke";
  revoke.auth = AuthRequirement::kToken;
  // Only the patient themself, and only their own consent, is answered.
  revoke.returns_patient_data = false;
  revoke.summary = "The patient revokes a card consent, effective at once";
  revoke.max_body_bytes = 64 * 1024;
  revoke.handler = [this](Request& req) { return HandleRevoke(req); };
  routes.push_back(std::move(revoke));
  return routes;
}

}  // namespace renkei::access
