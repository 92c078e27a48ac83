// The service's frame: routes, the handlers' common checks, the access decision, the check
// and idempotent writes. The flow's steps are in prescription_flow.cpp.
#include "prescription/prescription_service.h"

#include <fmt/format.h>

#include "access/decision.h"
#include "access/facts_store.h"
#include "access/purpose_claim.h"
#include "core/crypto.h"
#include "fhir/operation_outcome.h"
#include "fhir/routes.h"
#include "prescription/service_internal.h"

namespace renkei::prescription {
namespace {

using internal::Param;

Response ToResponse(Result<Answer> answer) {
  if (!answer.ok()) return fhir::ErrorResponse(answer.error());
  return Response::Json(answer->status, json::Serialize(answer->body));
}

Route Operation(std::string_view type, std::string_view op, std::string summary, size_t max_body,
                fhir::Handler handler) {
  return fhir::TypeOperation(Method::kPost, type, op, std::move(summary), std::move(handler),
                             {.max_body_bytes = max_body});
}

}  // namespace

PrescriptionService::PrescriptionService(store::Store& store, audit::AuditLog& audit,
                                         auth::CardVerifier& cards, const Clock& clock,
                                         MasterHolder& master, MasterDefaults defaults,
                                         Limits limits)
    : store_(store),
      audit_(audit),
      cards_(cards),
      clock_(clock),
      master_(master),
      refresher_(store, master, clock, std::move(defaults)),
      limits_(limits) {}

Status PrescriptionService::RefreshMaster() {
  return refresher_.Refresh();
}

Result<std::shared_ptr<const DrugMaster>> PrescriptionService::Master() {
  Status s = refresher_.MaybeRefresh();
  auto master = master_.Get();
  // A store hiccup keeps the master in force; without any master nothing can be checked.
  if (!master) {
    if (!s.ok()) return std::move(s).error();
    return Error(ErrorCode::kUnavailable, "no drug master is loaded");
  }
  return master;
}

void PrescriptionService::AuditRefusal(const Principal& who, std::string_view patient_id,
                                       std::string_view action, const Error& e) {
  audit::AuditEntry entry = audit::EntryFor(who, patient_id, action, "prescriptions", "TREAT",
                                            audit::OutcomeOf(e, audit::NotFoundIs::kDenied));
  entry.detail = json::Serialize(json::object{{"status", e.http_status()}});
  (void)audit_.Record(std::move(entry));  // the refusal is answered whatever the log says
}

Result<PrescriptionService::Details> PrescriptionService::DecideDetails(store::Transaction& tx,
                                                                        const Request& req,
                                                                        const Principal& who,
                                                                        std::string_view patient_id,
                                                                        TimePoint now) {
  RK_ASSIGN_OR_RETURN(access::ClaimedPurpose claim, access::ClaimedPurposeOf(req, who));
  RK_ASSIGN_OR_RETURN(access::AccessFacts facts, access::LoadFacts(tx, patient_id, now));
  access::AccessRequest ar;
  ar.actor = access::ActorOf(who);
  ar.patient_id = patient_id;
  ar.item.category = access::Category::kPrescriptions;
  ar.purpose = claim.view();
  const access::Decision d = access::Decide(ar, facts);
  Details out;
  // Issue 4: a patient without consent, or opted out, is still checked; only the details
  // (the other drug, its facility) are withheld. Callers have already refused principals who
  // may not prescribe or dispense at all.
  out.allowed = d.permit;
  out.purpose = d.permit ? std::string(d.basis) : std::string(claim.code());
  return out;
}

Result<PrescriptionService::CheckRun> PrescriptionService::RunCheckIn(
    store::Transaction& tx, const Request& req, const Principal& who, const DrugMaster& master,
    std::string_view patient_id, const std::vector<ItemInput>& items, bool include_own_facility,
    std::string_view exclude_prescription_id, TimePoint now) {
  RK_ASSIGN_OR_RETURN(Details details, DecideDetails(tx, req, who, patient_id, now));
  const Date today = JapanDate(now);
  CheckRequest cr;
  RK_ASSIGN_OR_RETURN(cr.history, LoadHistory(tx, patient_id, today, limits_));
  for (const ItemInput& in : items) {
    CandidateItem c;
    c.code = in.code;
    c.start = in.start.value_or(today);
    c.usage = in.usage;
    c.days_supply = in.days_supply;
    cr.candidates.push_back(std::move(c));
  }
  cr.requesting_facility = who.facility_code;
  cr.include_own_facility = include_own_facility;
  cr.details_allowed = details.allowed;
  cr.exclude_prescription_id = std::string(exclude_prescription_id);
  cr.check_date = today;
  RK_ASSIGN_OR_RETURN(CheckResult result, RunCheck(master, cr));
  return CheckRun{std::move(result), std::move(details.purpose)};
}

Result<Answer> PrescriptionService::WriteOnce(
    const Request& req, const Principal& who, std::string_view op,
    const std::function<Result<Answer>(store::Transaction&)>& fn) {
  std::string key(req.Header("x-request-id").value_or(""));
  if (key.size() > 200) return Error(ErrorCode::kInvalid, "X-Request-Id is longer than 200 bytes");
  const std::string scope = fmt::format("rx-{}:{}:{}", op, who.facility_code, who.subject);
  const std::string hash =
      crypto::Sha256Hex(fmt::format("{} {}\n{}", MethodName(req.method), req.path, req.body));
  std::optional<Answer> out;
  Status s =
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        out.reset();
        if (!key.empty()) {
          RK_ASSIGN_OR_RETURN(auto stored, tx.GetIdempotent(scope, key));
          if (stored) {
            RK_ASSIGN_OR_RETURN(json::object o, json::ParseObject(*stored, Limits{}));
            if (json::GetString(o, "hash") != hash) {
              return Error(ErrorCode::kConflict,
                           "X-Request-Id was already used for another request");
            }
            const json::object* body = json::GetObject(o, "body");
            if (!body) return Error(ErrorCode::kInternal, "a stored answer has no body");
            out = Answer{static_cast<int>(json::GetInt(o, "status").value_or(200)), *body};
            return Ok();
          }
        }
        RK_ASSIGN_OR_RETURN(Answer a, fn(tx));
        if (!key.empty()) {
          json::object o{{"hash", hash}, {"status", a.status}, {"body", a.body}};
          Status put = tx.PutIdempotent(scope, key, json::Serialize(o), clock_.Now());
          if (!put.ok() && put.error().code() == ErrorCode::kConflict) {
            // A concurrent retry took the key: run again and answer with its outcome.
            return Error(ErrorCode::kRetryable, "idempotency key taken concurrently");
          }
          RK_TRY(put);
        }
        out = std::move(a);
        return Ok();
      });
  if (!s.ok()) return std::move(s).error();
  return std::move(*out);
}

Result<Answer> PrescriptionService::Check(const Request& req, const Principal& who) {
  if (who.kind != PrincipalKind::kPractitioner ||
      (who.qualification != Qualification::kPhysician &&
       who.qualification != Qualification::kDentist &&
       who.qualification != Qualification::kPharmacist)) {
    Error e(ErrorCode::kForbidden, "only physicians, dentists and pharmacists check medications");
    AuditRefusal(who, "", "check", e);
    return e;
  }
  RK_ASSIGN_OR_RETURN(json::object body, json::ParseObject(req.body, limits_));
  RK_ASSIGN_OR_RETURN(
      std::vector<Param> params,
      internal::ReadParameters(body, {"patient", "medicationRequest", "medication",
                                      "includeOwnFacility", "excludePrescription"}));
  auto patients = internal::Named(params, "patient");
  std::optional<std::string> patient_id;
  if (patients.size() == 1) {
    const json::object* ref = json::GetObject(*patients[0].p, "valueReference");
    if (ref) patient_id = internal::PatientIdOf(json::GetString(*ref, "reference").value_or(""));
  }
  if (!patient_id) {
    return Error(ErrorCode::kInvalid,
                 "give the patient once as valueReference {\"reference\": \"Patient/<id>\"}");
  }
  RK_ASSIGN_OR_RETURN(auto include_own, internal::SingleBool(params, "includeOwnFacility"));
  RK_ASSIGN_OR_RETURN(auto exclude, internal::SingleString(params, "excludePrescription"));

  auto requests = internal::Named(params, "medicationRequest");
  auto codes = internal::Named(params, "medication");
  if (requests.size() + codes.size() > kMaxCandidates) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("a check takes at most {} candidate items", kMaxCandidates));
  }
  if (requests.empty() && codes.empty()) {
    return Error(ErrorCode::kInvalid, "give at least one medicationRequest or medication");
  }
  std::vector<Issue> issues;
  std::vector<ItemInput> items;
  for (const Param& p : params) {
    std::string_view name = json::GetString(*p.p, "name").value_or("");
    const std::string path = internal::ParamPath(p.index);
    if (name == "medicationRequest") {
      const json::object* r = json::GetObject(*p.p, "resource");
      if (!r || json::GetString(*r, "resourceType") != "MedicationRequest") {
        issues.push_back({Issue::Severity::kError, "invalid", path + ".resource",
                          "medicationRequest needs a MedicationRequest resource"});
        continue;
      }
      items.push_back(ReadRequestItem(*r, path + ".resource", issues));
    } else if (name == "medication") {
      ItemInput in;
      in.path = path;
      in.code_path = path;
      const json::array* parts = json::GetArray(*p.p, "part");
      for (size_t k = 0; parts && k < parts->size(); ++k) {
        if (!(*parts)[k].is_object()) continue;
        const json::object& part = (*parts)[k].get_object();
        std::string_view pn = json::GetString(part, "name").value_or("");
        const std::string pp = fmt::format("{}.part[{}]", path, k);
        if (pn == "code") {
          in.code = std::string(json::GetString(part, "valueCode").value_or(""));
          in.code_path = pp + ".valueCode";
        } else if (pn == "daysSupply") {
          auto d = json::GetInt(part, "valueInteger");
          if (!d || *d < 1 || *d > kMaxDaysSupply) {
            issues.push_back({Issue::Severity::kError, "value", pp,
                              fmt::format("daysSupply is a valueInteger 1..{}", kMaxDaysSupply)});
          } else {
            in.days_supply = static_cast<int>(*d);
          }
        } else if (pn == "start") {
          in.start = ParseJapanDate(json::GetString(part, "valueDate").value_or(""));
          if (!in.start) {
            issues.push_back({Issue::Severity::kError, "value", pp, "start is a valueDate"});
          }
        } else if (pn == "asNeeded" || pn == "external") {
          if (json::GetBool(part, "valueBoolean").value_or(false)) {
            in.usage = pn == "asNeeded" ? Usage::kAsNeeded : Usage::kExternal;
          }
        } else {
          issues.push_back(
              {Issue::Severity::kError, "not-supported", pp, fmt::format("unknown part '{}'", pn)});
        }
      }
      if (in.code.empty()) {
        issues.push_back({Issue::Severity::kError, "required", path,
                          "medication needs a code part (valueCode)"});
      }
      items.push_back(std::move(in));
    }
  }
  RK_ASSIGN_OR_RETURN(auto master, Master());
  ResolveItems(*master, items, issues);
  if (!issues.empty()) return internal::IssuesError("the candidates", std::move(issues));

  const TimePoint now = clock_.Now();
  RK_ASSIGN_OR_RETURN(
      CheckRun run,
      store::RunInTransactionWithResult<CheckRun>(
          store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<CheckRun> {
            RK_ASSIGN_OR_RETURN(bool exists, internal::PatientExists(tx, *patient_id));
            if (!exists) return Error(ErrorCode::kBusinessRule, "no such registered patient");
            return RunCheckIn(tx, req, who, *master, *patient_id, items,
                              include_own.value_or(false), exclude.value_or(""), now);
          }));
  // Checks are audited before the answer leaves (issue 4 "Checks are audited").
  audit::AuditEntry entry =
      audit::EntryFor(who, *patient_id, "check", "prescriptions", run.purpose);
  size_t alerts = 0;
  for (const ItemResult& item : run.result.items) alerts += item.alerts.size();
  entry.detail = json::Serialize(json::object{{"candidates", items.size()},
                                              {"alerts", alerts},
                                              {"details", run.result.details_shown},
                                              {"master", run.result.master_version}});
  RK_TRY(audit_.Record(std::move(entry)));
  json::array out;
  internal::AppendCheck(out, run.result, items);
  return Answer{200, internal::ParametersOf(std::move(out))};
}

namespace {

// The checks every handler makes before its service method.
std::optional<Error> Precheck(const Request& req, size_t max_body) {
  if (!req.principal) return Error(ErrorCode::kUnauthenticated, "an access token is required");
  if (req.body.size() > max_body) {
    return Error(ErrorCode::kTooLarge, fmt::format("the body is larger than {} bytes", max_body));
  }
  if (!HasJsonContentType(req)) {
    return Error(ErrorCode::kUnsupportedMedia, "send FHIR JSON (application/fhir+json)");
  }
  return std::nullopt;
}

}  // namespace

Response PrescriptionService::HandleCheck(Request& req) {
  if (auto e = Precheck(req, kMaxCheckBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Check(req, *req.principal));
}
Response PrescriptionService::HandlePrescribe(Request& req) {
  if (auto e = Precheck(req, kMaxPrescriptionBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Prescribe(req, *req.principal));
}
Response PrescriptionService::HandleReceive(Request& req) {
  if (auto e = Precheck(req, kMaxCheckBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Receive(req, *req.principal));
}
Response PrescriptionService::HandleRelease(Request& req) {
  if (auto e = Precheck(req, kMaxCheckBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Release(req, *req.principal));
}
Response PrescriptionService::HandleCancel(Request& req) {
  if (auto e = Precheck(req, kMaxCheckBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Cancel(req, *req.principal));
}
Response PrescriptionService::HandleDispense(Request& req) {
  if (auto e = Precheck(req, kMaxPrescriptionBodyBytes)) return fhir::ErrorResponse(*e);
  return ToResponse(Dispense(req, *req.principal));
}

RouteTable PrescriptionService::Routes() {
  RouteTable routes;
  routes.push_back(
      Operation("MedicationRequest", "$check",
                "Duplicate-medication and contraindication check of candidate items (issue 4)",
                kMaxCheckBodyBytes, [this](Request& r) { return HandleCheck(r); }));
  routes.push_back(Operation("MedicationRequest", "$prescribe",
                             "Register an electronic prescription Bundle; answers the "
                             "prescription id, access code and check",
                             kMaxPrescriptionBodyBytes,
                             [this](Request& r) { return HandlePrescribe(r); }));
  routes.push_back(Operation("MedicationRequest", "$receive",
                             "A pharmacy receives a prescription by access code and patient "
                             "identification (locks it to the pharmacy)",
                             kMaxCheckBodyBytes, [this](Request& r) { return HandleReceive(r); }));
  routes.push_back(Operation("MedicationRequest", "$release",
                             "A pharmacy hands a received prescription back before dispensing",
                             kMaxCheckBodyBytes, [this](Request& r) { return HandleRelease(r); }));
  routes.push_back(Operation("MedicationRequest", "$cancel",
                             "The prescriber cancels a prescription not yet received",
                             kMaxCheckBodyBytes, [this](Request& r) { return HandleCancel(r); }));
  for (std::string_view type : {kRequestType, kDispenseType}) {
    routes.push_back(fhir::SearchRoute(
        type,
        fmt::format("A patient's {} of the last 100 days (patient required; date, code, "
                    "facility, prescription), through the access policy",
                    type == kRequestType ? "prescriptions" : "dispensings"),
        [this, type](Request& req) { return HandleSearch(req, type); }));
  }
  routes.push_back(Operation("MedicationDispense", "$dispense",
                             "Register a dispensing (electronic or paper prescription), checked",
                             kMaxPrescriptionBodyBytes,
                             [this](Request& r) { return HandleDispense(r); }));
  return routes;
}

}  // namespace renkei::prescription
