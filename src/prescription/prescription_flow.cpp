// The prescription flow (issue 4 "The prescription flow"): prescribe, receive, hand back,
// cancel, dispense. Each write runs in WriteOnce: data, audit entry and idempotency key in one
// transaction; a prescription's state changes only with the version it was read at, so two
// pharmacies racing for one prescription cannot both win.
#include <fmt/format.h>

#include "auth/jws.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "fhir/jp_systems.h"
#include "fhir/resource.h"
#include "prescription/prescription_service.h"
#include "prescription/service_internal.h"
#include "registry/patient_lookup.h"

namespace renkei::prescription {
namespace {

using internal::Param;
using internal::RxState;

constexpr std::string_view kCategory = "prescriptions";
constexpr std::string_view kPractitionerKeyOwner = "practitioner";

bool IsPrescriber(const Principal& who) {
  return who.kind == PrincipalKind::kPractitioner &&
         (who.qualification == Qualification::kPhysician ||
          who.qualification == Qualification::kDentist) &&
         (who.facility_type == FacilityType::kHospital ||
          who.facility_type == FacilityType::kClinic ||
          who.facility_type == FacilityType::kDentalClinic);
}

bool IsPharmacist(const Principal& who) {
  return who.kind == PrincipalKind::kPractitioner &&
         who.qualification == Qualification::kPharmacist &&
         who.facility_type == FacilityType::kPharmacy;
}

std::string CheckDetail(const CheckResult& r) {
  size_t alerts = 0;
  for (const ItemResult& item : r.items) alerts += item.alerts.size();
  return fmt::format(R"("alerts":{},"details":{},"master":"{}")", alerts, r.details_shown,
                     r.master_version);
}

// Why a prescription in this state cannot be received, dispensed or cancelled (409).
Error StateConflict(const RxState& s, std::string_view facility, std::string_view action) {
  if (s.status == "cancelled") {
    return Error(ErrorCode::kConflict, "the prescription was cancelled by the prescriber");
  }
  if (s.status == "dispensed") {
    return Error(ErrorCode::kConflict, "the prescription has already been dispensed");
  }
  if (s.status == "received" && s.received_by != facility) {
    return Error(ErrorCode::kConflict, "the prescription has been received by another pharmacy");
  }
  return Error(ErrorCode::kConflict,
               fmt::format("the prescription cannot be {} in state {}", action, s.status));
}

Result<json::object> ParseBody(const Request& req, const Limits& limits) {
  return json::ParseObject(req.body, limits);
}

// The stored prescription by id; kNotFound when unknown.
Result<store::ResourceRow> ReadPrescription(store::Transaction& tx, std::string_view id) {
  RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent(kPrescriptionType, id));
  if (!row || row->deleted) return Error(ErrorCode::kNotFound, "no such prescription");
  return std::move(*row);
}

// Writes a new state of the prescription row read at row.version; a concurrent change of the
// same prescription (another pharmacy) makes the store refuse the write (kConflict).
Status WriteState(store::Transaction& tx, const store::ResourceRow& row, json::object bundle,
                  const RxState& state, TimePoint now) {
  internal::SetState(bundle, state);
  store::ResourceRow next = row;
  next.last_updated = now;
  fhir::StampMeta(bundle, row.id, row.version + 1, now);
  next.json = json::Serialize(bundle);
  auto s =
      tx.WriteResource(next, internal::PrescriptionTerms(row.patient_id, state, now), row.version);
  if (!s.ok() && s.error().code() == ErrorCode::kConflict) {
    return Error(ErrorCode::kConflict,
                 "the prescription was changed at the same time by another "
                 "request (another pharmacy received it first)");
  }
  if (!s.ok()) return std::move(s).error();
  return Ok();
}

json::array Head(std::string_view prescription_id, const RxState& s) {
  json::array out;
  out.push_back(internal::StringParam("prescriptionId", prescription_id));
  out.push_back(internal::StringParam("status", s.status, "valueCode"));
  return out;
}

}  // namespace

Result<Answer> PrescriptionService::Prescribe(const Request& req, const Principal& who) {
  if (!IsPrescriber(who)) {
    Error e(ErrorCode::kForbidden,
            "only physicians and dentists of hospitals and clinics issue prescriptions");
    AuditRefusal(who, "", "create", e);
    return e;
  }
  RK_ASSIGN_OR_RETURN(json::object bundle, ParseBody(req, limits_));
  if (json::GetString(bundle, "resourceType") != "Bundle") {
    return Error(ErrorCode::kInvalid, "the body must be a prescription Bundle");
  }
  std::string_view type = json::GetString(bundle, "type").value_or("");
  if (type != "document" && type != "collection") {
    return Error(ErrorCode::kInvalid, "Bundle.type must be document (or collection)",
                 {Issue{Issue::Severity::kError, "value", "Bundle.type",
                        "Bundle.type must be document (or collection)"}});
  }
  const json::array* entries = json::GetArray(bundle, "entry");
  if (!entries || entries->empty()) return Error(ErrorCode::kInvalid, "the Bundle has no entries");
  if (entries->size() > limits_.max_bundle_entries) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("a Bundle has at most {} entries", limits_.max_bundle_entries));
  }
  std::vector<Issue> issues;
  std::vector<ItemInput> items;
  std::vector<json::object> resources;
  std::string member_id;
  std::string patient_path;
  for (size_t i = 0; i < entries->size(); ++i) {
    const json::object* entry = (*entries)[i].is_object() ? &(*entries)[i].get_object() : nullptr;
    const json::object* r = entry ? json::GetObject(*entry, "resource") : nullptr;
    if (!r) continue;
    const std::string path = fmt::format("Bundle.entry[{}].resource", i);
    std::string_view rt = json::GetString(*r, "resourceType").value_or("");
    if (rt == "Patient" && patient_path.empty()) {
      patient_path = path;
      if (const json::array* ids = json::GetArray(*r, "identifier")) {
        for (const auto& id : *ids) {
          if (id.is_object() &&
              json::GetString(id.get_object(), "system") == fhir::kMemberIdSystem) {
            member_id = std::string(json::GetString(id.get_object(), "value").value_or(""));
          }
        }
      }
    } else if (rt == "MedicationRequest") {
      items.push_back(ReadRequestItem(*r, path, issues));
      resources.push_back(*r);
    }
  }
  if (patient_path.empty()) {
    issues.push_back({Issue::Severity::kError, "required", "Bundle.entry",
                      "the Bundle needs the Patient entry"});
  } else if (member_id.empty()) {
    issues.push_back({Issue::Severity::kError, "required", patient_path + ".identifier",
                      fmt::format("{}.identifier: the insured-person identifier ({}) is required",
                                  patient_path, fhir::kMemberIdSystem)});
  }
  if (items.empty()) {
    issues.push_back({Issue::Severity::kError, "required", "Bundle.entry",
                      "the Bundle has no MedicationRequest"});
  }
  if (items.size() > kMaxCandidates) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("a prescription has at most {} MedicationRequests", kMaxCandidates));
  }
  RK_ASSIGN_OR_RETURN(auto master, Master());
  ResolveItems(*master, items, issues);
  if (!issues.empty()) return internal::IssuesError("the prescription", std::move(issues));

  // Optional electronic signature: a JWS by the prescriber's registered key whose payload
  // names the SHA-256 of the exact body bytes (X-Signature header), verified and kept.
  std::string signature(req.Header("x-signature").value_or(""));
  if (!signature.empty()) {
    RK_ASSIGN_OR_RETURN(auto keys, store::RunInTransactionWithResult<std::vector<store::KeyRecord>>(
                                       store_, store::TxMode::kRead, [&](store::Transaction& tx) {
                                         return tx.GetKeys(kPractitionerKeyOwner,
                                                           who.practitioner_id);
                                       }));
    RK_ASSIGN_OR_RETURN(auth::VerifiedJws v, auth::VerifyCompact(signature, keys));
    if (json::GetString(v.payload, "bundle_sha256") != crypto::Sha256Hex(req.body)) {
      return Error(ErrorCode::kUnauthenticated,
                   "the signature does not cover this Bundle (bundle_sha256 differs)");
    }
    auto sub = json::GetString(v.payload, "sub");
    if (sub && *sub != who.practitioner_id) {
      return Error(ErrorCode::kUnauthenticated, "the signature is not the prescriber's");
    }
  }

  const bool include_own = req.Query("includeOwnFacility") == "true";
  return WriteOnce(req, who, "prescribe", [&](store::Transaction& tx) -> Result<Answer> {
    const TimePoint now = clock_.Now();
    RK_ASSIGN_OR_RETURN(auto patient_id, registry::PatientByInsuredPersonId(tx, member_id));
    if (!patient_id) {
      return Error(ErrorCode::kBusinessRule,
                   fmt::format("{}.identifier: no registered patient has this insured-person "
                               "identifier",
                               patient_path),
                   {Issue{Issue::Severity::kError, "business-rule", patient_path + ".identifier",
                          "no registered patient has this insured-person identifier"}});
    }
    RK_ASSIGN_OR_RETURN(
        CheckRun run, RunCheckIn(tx, req, who, *master, *patient_id, items, include_own, "", now));
    const std::string id = NewId();
    std::string code;
    for (int attempt = 0; attempt < 8 && code.empty(); ++attempt) {
      std::string candidate = internal::NewAccessCode();
      RK_ASSIGN_OR_RETURN(auto taken, internal::FindByAccessCode(tx, candidate));
      if (!taken) code = std::move(candidate);
    }
    if (code.empty()) return Error(ErrorCode::kInternal, "could not draw a free access code");
    RxState state;
    state.status = "active";
    state.prescriber_facility = who.facility_code;
    state.prescriber = who.practitioner_id;
    state.access_code = code;
    json::object stored = bundle;
    if (!signature.empty()) {
      stored["signature"] =
          json::object{{"type", json::array{json::object{{"system", "urn:iso-astm:E1762-95:2013"},
                                                         {"code", "1.2.840.10065.1.12.1.1"}}}},
                       {"when", FormatInstant(now)},
                       {"who", json::object{{"reference", "Practitioner/" + who.practitioner_id}}},
                       {"sigFormat", "application/jose"},
                       {"data", crypto::Base64Encode(signature)}};
    }
    internal::SetState(stored, state);
    fhir::StampMeta(stored, id, 1, now);
    store::ResourceRow row;
    row.type = std::string(kPrescriptionType);
    row.id = id;
    row.patient_id = *patient_id;
    row.last_updated = now;
    row.json = json::Serialize(stored);
    RK_TRY(tx.WriteResource(row, internal::PrescriptionTerms(*patient_id, state, now), int64_t{0}));
    for (size_t i = 0; i < items.size(); ++i) {
      StoredRow item = RequestRow(resources[i], items[i], fmt::format("{}-{}", id, i + 1), id,
                                  *patient_id, who.facility_code, now);
      fhir::StampMeta(resources[i], item.row.id, 1, now);
      RK_TRY(tx.WriteResource(item.row, item.terms, int64_t{0}));
    }
    audit::AuditEntry entry = audit::EntryFor(who, *patient_id, "create", kCategory, run.purpose);
    entry.detail = fmt::format(R"({{"prescription":"{}","items":{},"signed":{},{}}})", id,
                               items.size(), !signature.empty(), CheckDetail(run.result));
    RK_TRY(audit_.AppendInTransaction(tx, {entry}));
    json::array out = Head(id, state);
    out.push_back(internal::StringParam("accessCode", code));
    out.push_back(json::object{{"name", "signed"}, {"valueBoolean", !signature.empty()}});
    internal::AppendCheck(out, run.result, items);
    return Answer{201, internal::ParametersOf(std::move(out))};
  });
}

Result<Answer> PrescriptionService::Receive(const Request& req, const Principal& who) {
  if (!IsPharmacist(who)) {
    Error e(ErrorCode::kForbidden, "only pharmacists of pharmacies receive prescriptions");
    AuditRefusal(who, "", "receive", e);
    return e;
  }
  RK_ASSIGN_OR_RETURN(json::object body, ParseBody(req, limits_));
  RK_ASSIGN_OR_RETURN(std::vector<Param> params,
                      internal::ReadParameters(body, {"accessCode", "insuredNumber", "card"}));
  RK_ASSIGN_OR_RETURN(auto code, internal::SingleString(params, "accessCode"));
  RK_ASSIGN_OR_RETURN(auto number, internal::SingleString(params, "insuredNumber"));
  RK_ASSIGN_OR_RETURN(auto card, internal::SingleString(params, "card"));
  if (!code) return Error(ErrorCode::kInvalid, "give the accessCode");
  if (number.has_value() == card.has_value()) {
    return Error(ErrorCode::kInvalid,
                 "identify the patient by exactly one of insuredNumber "
                 "(insurer:symbol:number:branch) or card (the card reader's assertion)");
  }
  std::string card_patient;
  if (card) {
    // Signature, facility, staleness and replay: auth/card.h.
    auto assertion = cards_.Verify(*card, who.facility_code);
    if (!assertion.ok()) {
      AuditRefusal(who, "", "receive", assertion.error());
      return assertion.error();
    }
    card_patient = assertion->patient_id;
  }
  // One answer for an unknown code and a code of another patient: a guessed code learns
  // nothing (the code alone never releases a prescription).
  const Error not_found(ErrorCode::kNotFound,
                        "no prescription matches this access code and patient identification");
  auto answer = WriteOnce(req, who, "receive", [&](store::Transaction& tx) -> Result<Answer> {
    const TimePoint now = clock_.Now();
    RK_ASSIGN_OR_RETURN(auto row, internal::FindByAccessCode(tx, *code));
    if (!row) return not_found;
    std::string patient_id = card_patient;
    if (number) {
      RK_ASSIGN_OR_RETURN(auto found, registry::PatientByInsuredPersonId(tx, *number));
      patient_id = found.value_or("");
    }
    if (patient_id.empty() || patient_id != row->patient_id) return not_found;
    RK_ASSIGN_OR_RETURN(json::object bundle, json::ParseObject(row->json, limits_));
    RxState state = internal::StateOf(bundle);
    const bool again = state.status == "received" && state.received_by == who.facility_code;
    if (state.status != "active" && !again) {
      return StateConflict(state, who.facility_code, "received");
    }
    if (!again) {
      state.status = "received";
      state.received_by = who.facility_code;
      RK_TRY(WriteState(tx, *row, bundle, state, now));
      internal::SetState(bundle, state);
      fhir::StampMeta(bundle, row->id, row->version + 1, now);
    }
    audit::AuditEntry entry = audit::EntryFor(who, row->patient_id, "receive", kCategory, "TREAT");
    entry.detail = fmt::format(R"({{"prescription":"{}"}})", row->id);
    RK_TRY(audit_.AppendInTransaction(tx, {entry}));
    json::array out = Head(row->id, state);
    out.push_back(json::object{{"name", "prescription"}, {"resource", std::move(bundle)}});
    return Answer{200, internal::ParametersOf(std::move(out))};
  });
  if (!answer.ok() && answer.error().code() != ErrorCode::kUnavailable) {
    AuditRefusal(who, "", "receive", answer.error());
  }
  return answer;
}

Result<Answer> PrescriptionService::Release(const Request& req, const Principal& who) {
  if (!IsPharmacist(who)) {
    return Error(ErrorCode::kForbidden, "only pharmacists of pharmacies hand prescriptions back");
  }
  RK_ASSIGN_OR_RETURN(json::object body, ParseBody(req, limits_));
  RK_ASSIGN_OR_RETURN(std::vector<Param> params,
                      internal::ReadParameters(body, {"prescriptionId"}));
  RK_ASSIGN_OR_RETURN(auto id, internal::SingleString(params, "prescriptionId"));
  if (!id) return Error(ErrorCode::kInvalid, "give the prescriptionId");
  return WriteOnce(req, who, "release", [&](store::Transaction& tx) -> Result<Answer> {
    const TimePoint now = clock_.Now();
    RK_ASSIGN_OR_RETURN(store::ResourceRow row, ReadPrescription(tx, *id));
    RK_ASSIGN_OR_RETURN(json::object bundle, json::ParseObject(row.json, limits_));
    RxState state = internal::StateOf(bundle);
    // Only the pharmacy holding it hands it back; to others it looks like any other id.
    if (state.received_by != who.facility_code) {
      return Error(ErrorCode::kNotFound, "this pharmacy holds no such prescription");
    }
    if (state.status != "received") return StateConflict(state, who.facility_code, "handed back");
    state.status = "active";
    state.received_by.clear();
    RK_TRY(WriteState(tx, row, bundle, state, now));
    audit::AuditEntry entry = audit::EntryFor(who, row.patient_id, "release", kCategory, "TREAT");
    entry.detail = fmt::format(R"({{"prescription":"{}"}})", row.id);
    RK_TRY(audit_.AppendInTransaction(tx, {entry}));
    return Answer{200, internal::ParametersOf(Head(row.id, state))};
  });
}

Result<Answer> PrescriptionService::Cancel(const Request& req, const Principal& who) {
  if (!IsPrescriber(who)) {
    return Error(ErrorCode::kForbidden, "only the prescriber cancels a prescription");
  }
  RK_ASSIGN_OR_RETURN(json::object body, ParseBody(req, limits_));
  RK_ASSIGN_OR_RETURN(std::vector<Param> params,
                      internal::ReadParameters(body, {"prescriptionId"}));
  RK_ASSIGN_OR_RETURN(auto id, internal::SingleString(params, "prescriptionId"));
  if (!id) return Error(ErrorCode::kInvalid, "give the prescriptionId");
  return WriteOnce(req, who, "cancel", [&](store::Transaction& tx) -> Result<Answer> {
    const TimePoint now = clock_.Now();
    RK_ASSIGN_OR_RETURN(store::ResourceRow row, ReadPrescription(tx, *id));
    RK_ASSIGN_OR_RETURN(json::object bundle, json::ParseObject(row.json, limits_));
    RxState state = internal::StateOf(bundle);
    if (state.prescriber_facility != who.facility_code || state.prescriber != who.practitioner_id) {
      return Error(ErrorCode::kForbidden, "only the prescriber cancels a prescription");
    }
    if (state.status == "cancelled")
      return Answer{200, internal::ParametersOf(Head(row.id, state))};
    // Issue 4: a received or dispensed prescription is not cancelled silently.
    if (state.status != "active") {
      return Error(ErrorCode::kConflict,
                   state.status == "dispensed"
                       ? "the prescription has been dispensed and cannot be cancelled"
                       : "a pharmacy has received the prescription; it can be cancelled only "
                         "after the pharmacy hands it back");
    }
    state.status = "cancelled";
    RK_TRY(WriteState(tx, row, bundle, state, now));
    // The items leave the patient's history (a cancelled prescription is not being taken).
    RK_ASSIGN_OR_RETURN(auto rows, PrescriptionItems(tx, row.patient_id, row.id));
    for (const store::ResourceRow& r : rows) {
      RK_ASSIGN_OR_RETURN(json::object mr, json::ParseObject(r.json, limits_));
      mr["status"] = "cancelled";
      std::vector<Issue> ignored;
      ItemInput in = ReadRequestItem(mr, "", ignored);
      fhir::StampMeta(mr, r.id, r.version + 1, now);
      StoredRow next =
          RequestRow(mr, in, r.id, row.id, row.patient_id, state.prescriber_facility, now);
      RK_TRY(tx.WriteResource(next.row, next.terms, r.version));
    }
    audit::AuditEntry entry = audit::EntryFor(who, row.patient_id, "cancel", kCategory, "TREAT");
    entry.detail = fmt::format(R"({{"prescription":"{}"}})", row.id);
    RK_TRY(audit_.AppendInTransaction(tx, {entry}));
    return Answer{200, internal::ParametersOf(Head(row.id, state))};
  });
}

Result<Answer> PrescriptionService::Dispense(const Request& req, const Principal& who) {
  if (!IsPharmacist(who)) {
    Error e(ErrorCode::kForbidden, "only pharmacists of pharmacies register dispensings");
    AuditRefusal(who, "", "create", e);
    return e;
  }
  RK_ASSIGN_OR_RETURN(json::object body, ParseBody(req, limits_));
  RK_ASSIGN_OR_RETURN(std::vector<Param> params,
                      internal::ReadParameters(
                          body, {"prescriptionId", "patient", "dispense", "includeOwnFacility"}));
  RK_ASSIGN_OR_RETURN(auto prescription_id, internal::SingleString(params, "prescriptionId"));
  RK_ASSIGN_OR_RETURN(auto include_own, internal::SingleBool(params, "includeOwnFacility"));
  std::optional<std::string> patient_param;
  auto patients = internal::Named(params, "patient");
  if (patients.size() > 1) return Error(ErrorCode::kInvalid, "give the patient once");
  if (patients.size() == 1) {
    const json::object* ref = json::GetObject(*patients[0].p, "valueReference");
    patient_param = internal::PatientIdOf(ref ? json::GetString(*ref, "reference").value_or("")
                                              : std::string_view());
    if (!patient_param) {
      return Error(ErrorCode::kInvalid, "patient is a valueReference to Patient/<id>");
    }
  }
  if (!prescription_id && !patient_param) {
    return Error(ErrorCode::kInvalid,
                 "a paper prescription's dispensing names the patient (valueReference)");
  }
  auto dispenses = internal::Named(params, "dispense");
  if (dispenses.empty()) return Error(ErrorCode::kInvalid, "give at least one dispense");
  if (dispenses.size() > kMaxCandidates) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("a dispensing has at most {} items", kMaxCandidates));
  }
  std::vector<Issue> issues;
  std::vector<ItemInput> items;
  std::vector<json::object> resources;
  for (const Param& p : dispenses) {
    const std::string path = internal::ParamPath(p.index) + ".resource";
    const json::object* r = json::GetObject(*p.p, "resource");
    if (!r || json::GetString(*r, "resourceType") != "MedicationDispense") {
      issues.push_back({Issue::Severity::kError, "invalid", path,
                        "dispense needs a MedicationDispense resource"});
      continue;
    }
    items.push_back(ReadDispenseItem(*r, path, issues));
    resources.push_back(*r);
  }
  RK_ASSIGN_OR_RETURN(auto master, Master());
  ResolveItems(*master, items, issues);
  if (!issues.empty()) return internal::IssuesError("the dispensing", std::move(issues));

  return WriteOnce(req, who, "dispense", [&](store::Transaction& tx) -> Result<Answer> {
    const TimePoint now = clock_.Now();
    std::string patient_id;
    std::optional<store::ResourceRow> rx_row;
    json::object bundle;
    RxState state;
    if (prescription_id) {
      RK_ASSIGN_OR_RETURN(store::ResourceRow row, ReadPrescription(tx, *prescription_id));
      RK_ASSIGN_OR_RETURN(bundle, json::ParseObject(row.json, limits_));
      state = internal::StateOf(bundle);
      if (state.status == "active") {
        // Receiving (with the access code and the patient's identification) comes first.
        return Error(ErrorCode::kConflict,
                     "receive the prescription (access code and patient identification) before "
                     "dispensing it");
      }
      if (state.status != "received" || state.received_by != who.facility_code) {
        return StateConflict(state, who.facility_code, "dispensed");
      }
      patient_id = row.patient_id;
      if (patient_param && *patient_param != patient_id) {
        return Error(ErrorCode::kBusinessRule, "the patient is not the prescription's patient");
      }
      rx_row = std::move(row);
    } else {
      patient_id = *patient_param;
      RK_ASSIGN_OR_RETURN(bool exists, internal::PatientExists(tx, patient_id));
      if (!exists) return Error(ErrorCode::kBusinessRule, "no such registered patient");
    }
    // The prescription being dispensed is left out of the history (issue 4 "The check").
    RK_ASSIGN_OR_RETURN(CheckRun run,
                        RunCheckIn(tx, req, who, *master, patient_id, items,
                                   include_own.value_or(false), prescription_id.value_or(""), now));
    const std::string dispensing_id = NewId();
    for (size_t i = 0; i < items.size(); ++i) {
      StoredRow item = DispenseRow(
          resources[i], items[i], fmt::format("{}-{}", dispensing_id, i + 1), dispensing_id,
          prescription_id.value_or(""), patient_id, who.facility_code, now);
      RK_TRY(tx.WriteResource(item.row, item.terms, int64_t{0}));
    }
    if (rx_row) {
      state.status = "dispensed";
      state.dispensing_id = dispensing_id;
      RK_TRY(WriteState(tx, *rx_row, bundle, state, now));
    }
    audit::AuditEntry entry = audit::EntryFor(who, patient_id, "create", kCategory, run.purpose);
    entry.detail = fmt::format(R"({{"dispensing":"{}","paper":{},"items":{},{}}})", dispensing_id,
                               !prescription_id, items.size(), CheckDetail(run.result));
    RK_TRY(audit_.AppendInTransaction(tx, {entry}));
    json::array out;
    out.push_back(internal::StringParam("dispensingId", dispensing_id));
    if (prescription_id) out.push_back(internal::StringParam("prescriptionId", *prescription_id));
    internal::AppendCheck(out, run.result, items);
    return Answer{201, internal::ParametersOf(std::move(out))};
  });
}

}  // namespace renkei::prescription
