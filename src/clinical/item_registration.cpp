// POST /fhir/Bundle/$register-items: a facility registers its JP-CLINS bundle (issue "Clinical
// information sharing", "The 5 registered items"). Facilities send without asking consent each
// time (DOMAIN.md §2: the law provides for it); consent governs viewing, not registration.
#include <fmt/format.h>

#include "clinical/clins_codes.h"
#include "clinical/item_service.h"
#include "clinical/registration_store.h"
#include "core/crypto.h"
#include "core/text.h"
#include "fhir/operation_outcome.h"
#include "registry/patient_lookup.h"

namespace renkei::clinical {
namespace {

// A row per bundle identifier, written by every registration under it. Two registrations of
// one identifier racing on PostgreSQL thus write the same row, and one of them retries: without
// it both could see "nothing registered yet" and both insert.
constexpr std::string_view kUnitType = "RegistrationUnit";

bool MayRegister(const Principal& who) {
  if (who.kind == PrincipalKind::kPatient) return false;
  switch (who.facility_type) {
    case FacilityType::kHospital:
    case FacilityType::kClinic:
    case FacilityType::kDentalClinic:
      return !who.facility_code.empty();
    default:
      return false;
  }
}

// Claims the registration unit of the identifier in tx (see kUnitType).
Status ClaimUnit(store::Transaction& tx, const RegistrationBundle& bundle,
                 std::string_view patient_id, size_t items, TimePoint now) {
  const std::string id = crypto::Sha256Hex(bundle.identifier.value);
  RK_ASSIGN_OR_RETURN(auto current, tx.ReadCurrent(kUnitType, id));
  store::ResourceRow row;
  row.type = std::string(kUnitType);
  row.id = id;
  row.last_updated = now;
  row.json = json::Serialize(json::object{{"resourceType", kUnitType},
                                          {"identifier", bundle.identifier.value},
                                          {"patient", fmt::format("Patient/{}", patient_id)},
                                          {"items", items}});
  auto written = tx.WriteResource(row, {}, current ? current->version : 0);
  if (!written.ok() && written.error().code() == ErrorCode::kConflict) {
    // The other registration of this identifier committed first: run again on top of it.
    return Error(ErrorCode::kRetryable, "a registration of the same bundle identifier is running");
  }
  return written.ok() ? Ok() : Status(std::move(written).error());
}

json::object ParametersOf(const RegistrationBundle& bundle, std::string_view patient_id,
                          const RegistrationOutcome& outcome) {
  json::array params;
  params.push_back(
      json::object{{"name", "bundle-identifier"}, {"valueString", bundle.identifier.value}});
  params.push_back(json::object{
      {"name", "patient"},
      {"valueReference", json::object{{"reference", fmt::format("Patient/{}", patient_id)}}}});
  params.push_back(json::object{{"name", "removed"}, {"valueInteger", outcome.removed}});
  for (const std::string& id : outcome.ids) {
    params.push_back(json::object{
        {"name", "item"},
        {"valueReference",
         json::object{{"reference", fmt::format("{}/{}", ToString(bundle.item_type), id)}}}});
  }
  return json::object{{"resourceType", "Parameters"}, {"parameter", std::move(params)}};
}

}  // namespace

Response ItemService::HandleRegister(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  const Principal& who = *req.principal;
  if (!MayRegister(who)) {
    return fhir::ErrorResponse(Error(
        ErrorCode::kForbidden, "only hospitals, clinics and dental clinics register these items"));
  }
  if (!req.body.empty() && req.Header("content-type") && !HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send the bundle as application/fhir+json"));
  }
  if (!text::IsValidUtf8(req.body)) {
    return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "the body is not valid UTF-8"));
  }
  auto parsed = json::ParseObject(req.body, limits_);
  if (!parsed.ok()) return fhir::ErrorResponse(parsed.error());
  if (const json::array* entries = json::GetArray(*parsed, "entry");
      entries != nullptr && entries->size() > limits_.max_bundle_entries) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kTooLarge,
              fmt::format("a Bundle has at most {} entries", limits_.max_bundle_entries)));
  }
  auto bundle = ValidateRegistrationBundle(*parsed, who.facility_code, req.body.size());
  if (!bundle.ok()) return fhir::ErrorResponse(bundle.error());

  struct Done {
    std::string patient_id;
    RegistrationOutcome outcome;
  };
  const TimePoint now = clock_.Now();
  auto done = store::RunInTransactionWithResult<Done>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<Done> {
        Done d;
        RK_ASSIGN_OR_RETURN(auto patient,
                            registry::PatientByInsuredPersonId(tx, bundle->insured_person_id));
        if (!patient) {
          // Registration never creates a patient: the registry is the ministry's.
          return Error(
              ErrorCode::kBusinessRule,
              "no registered patient has the bundle's insured-person identifier",
              {Issue{Issue::Severity::kError, "not-found", "Bundle.entry[0].resource.identifier",
                     "no registered patient has this insured-person identifier"}});
        }
        d.patient_id = std::move(*patient);
        RK_TRY(ClaimUnit(tx, *bundle, d.patient_id, bundle->resources.size(), now));
        RK_ASSIGN_OR_RETURN(d.outcome, ApplyRegistration(tx, *bundle, d.patient_id, now));
        audit::AuditEntry entry =
            audit::EntryFor(who, d.patient_id, bundle->is_deletion() ? "delete" : "create",
                            ToString(bundle->item_type), "TREAT");
        entry.detail = json::Serialize(
            json::object{{"registered", d.outcome.ids.size()}, {"removed", d.outcome.removed}});
        RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        return d;
      });
  if (!done.ok()) return fhir::ErrorResponse(done.error());
  return Response::Json(200,
                        json::Serialize(ParametersOf(*bundle, done->patient_id, done->outcome)));
}

}  // namespace renkei::clinical
