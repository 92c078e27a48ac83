#include "eligibility/eligibility_service.h"

#include <fmt/format.h>

#include "fhir/operation_outcome.h"

namespace renkei::eligibility {
namespace {

constexpr std::string_view kAction = "verify";
constexpr std::string_view kPurpose = "COVERAGE";
constexpr std::string_view kCategory = "Coverage";
constexpr size_t kMaxCoveragesPerPerson = 100;

// Facilities that verify eligibility at reception (DOMAIN.md §1: hospitals, clinics, dental
// clinics and pharmacies run the online verification).
bool IsCareFacility(FacilityType t) {
  return t == FacilityType::kHospital || t == FacilityType::kClinic ||
         t == FacilityType::kDentalClinic || t == FacilityType::kPharmacy;
}

// "Patient/<id>" -> "<id>", else "".
std::string PatientIdOf(std::string_view reference) {
  constexpr std::string_view kPrefix = "Patient/";
  if (!reference.starts_with(kPrefix)) return {};
  return std::string(reference.substr(kPrefix.size()));
}

std::string BeneficiaryOf(const json::object& coverage) {
  const json::object* b = json::GetObject(coverage, "beneficiary");
  if (!b) return {};
  auto ref = json::GetString(*b, "reference");
  return ref ? PatientIdOf(*ref) : std::string();
}

store::SearchQuery CoverageQuery() {
  store::SearchQuery q;
  q.type = "Coverage";
  q.count = kMaxCoveragesPerPerson;
  q.include_total = false;
  return q;
}

// The current, not deleted resource's JSON, or nullopt.
Result<std::optional<json::object>> ReadJson(store::Transaction& tx, std::string_view type,
                                             std::string_view id, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(std::optional<store::ResourceRow> row, tx.ReadCurrent(type, id));
  if (!row || row->deleted) return std::optional<json::object>();
  RK_ASSIGN_OR_RETURN(json::object obj, json::ParseObject(row->json, limits));
  return std::optional<json::object>(std::move(obj));
}

struct Found {
  std::vector<json::object> coverages;
  std::optional<json::object> patient;
  std::string patient_id;
};

}  // namespace

EligibilityService::EligibilityService(store::Store& store, audit::AuditLog& audit,
                                       auth::CardVerifier& cards, const Clock& clock, Limits limits)
    : store_(store), audit_(audit), cards_(cards), clock_(clock), limits_(limits) {}

Result<Verification> EligibilityService::Verify(const Principal& who,
                                                const VerifyRequest& request) {
  std::string patient_id;
  Result<Verification> result = VerifyUnaudited(who, request, patient_id);
  audit::AuditEntry entry =
      audit::EntryFor(who, patient_id, kAction, kCategory, kPurpose,
                      result.ok() ? std::string_view("success") : audit::OutcomeOf(result.error()));
  entry.detail = fmt::format(R"({{"by":"{}","reason":"{}"}})", request.card ? "card" : "numbers",
                             result.ok() ? ToString(result->reason) : "failed");
  // The answer leaves only after its audit entry is committed (DESIGN.md §7).
  RK_TRY(audit_.Record(std::move(entry)));
  return result;
}

Result<Verification> EligibilityService::VerifyUnaudited(const Principal& who,
                                                         const VerifyRequest& request,
                                                         std::string& patient_id) {
  if (who.kind != PrincipalKind::kPractitioner || !IsCareFacility(who.facility_type)) {
    return Error(ErrorCode::kForbidden,
                 "eligibility is verified by staff of hospitals, clinics and pharmacies");
  }
  Verification v;
  v.date = request.date ? *request.date : JapanDate(clock_.Now());

  if (request.card) {
    auto assertion = cards_.Verify(*request.card, who.facility_code);
    if (!assertion.ok()) {
      const Error& e = assertion.error();
      if (e.code() == ErrorCode::kInternal || e.code() == ErrorCode::kUnavailable) return e;
      // Another facility's assertion is as unusable here as a forged one: the reader at this
      // facility did not produce it.
      return Error(ErrorCode::kUnauthenticated, e.message());
    }
    patient_id = assertion->patient_id;
  }

  auto found = store::RunInTransactionWithResult<Found>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Found> {
        Found f;
        store::SearchQuery q = CoverageQuery();
        store::Criterion c;
        if (request.card) {
          c.param = "beneficiary";
          c.values = {"Patient/" + patient_id};
        } else {
          c.param = "identifier";
          c.has_system = true;
          c.system = std::string(kMemberIdSystem);
          c.values = {MemberIdKey(*request.numbers)};
        }
        q.criteria.push_back(std::move(c));
        RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
        for (const store::ResourceRow& row : page.rows) {
          RK_ASSIGN_OR_RETURN(json::object cov, json::ParseObject(row.json, limits_));
          f.coverages.push_back(std::move(cov));
        }
        f.patient_id = patient_id;
        if (f.patient_id.empty() && !f.coverages.empty()) {
          f.patient_id = BeneficiaryOf(f.coverages.front());
        }
        if (!f.patient_id.empty()) {
          RK_ASSIGN_OR_RETURN(f.patient, ReadJson(tx, "Patient", f.patient_id, limits_));
        }
        return f;
      });
  if (!found.ok()) return std::move(found).error();
  patient_id = found->patient_id;

  if (request.birth_date) {
    // The certificate's numbers must belong to the person standing at the desk; on a
    // mismatch nothing about the numbers' holder is revealed.
    std::optional<std::string_view> birth;
    if (found->patient) birth = json::GetString(*found->patient, "birthDate");
    if (!birth || *birth != *request.birth_date) {
      v.reason = Eligibility::kUnknown;
      return v;
    }
  }

  std::vector<const json::object*> candidates;
  for (const json::object& c : found->coverages) {
    // By numbers all coverages found share the identifier; keep those of one person.
    if (request.card || BeneficiaryOf(c) == patient_id) candidates.push_back(&c);
  }
  int chosen = ChooseCoverage(candidates, v.date);
  if (chosen >= 0) {
    v.reason = Evaluate(*candidates[chosen], v.date);
    v.coverage = *candidates[chosen];
  }
  v.patient = std::move(found->patient);
  return v;
}

json::object EligibilityService::ToParameters(const Verification& v) {
  json::array params;
  auto add = [&](std::string_view name, std::string_view key, json::value value) {
    json::object p;
    p["name"] = name;
    p[key] = std::move(value);
    params.emplace_back(std::move(p));
  };
  add("eligible", "valueBoolean", v.reason == Eligibility::kEligible);
  add("reason", "valueCode", boost::json::string(ToString(v.reason)));
  add("date", "valueDate", boost::json::string(v.date));
  if (v.coverage) add("coverage", "resource", *v.coverage);
  if (v.patient) add("patient", "resource", *v.patient);
  json::object out;
  out["resourceType"] = "Parameters";
  out["parameter"] = std::move(params);
  return out;
}

Response EligibilityService::HandleVerify(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  auto parsed = ParseVerifyRequest(req.body, limits_);
  if (!parsed.ok()) {
    audit::AuditEntry entry =
        audit::EntryFor(*req.principal, "", kAction, kCategory, kPurpose, "error");
    entry.detail = R"({"reason":"malformed"})";
    Status s = audit_.Record(std::move(entry));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
    return fhir::ErrorResponse(parsed.error());
  }
  auto v = Verify(*req.principal, *parsed);
  if (!v.ok()) return fhir::ErrorResponse(v.error());
  return Response::Json(200, json::Serialize(ToParameters(*v)));
}

Result<ImportSummary> EligibilityService::Import(const Principal& who, std::string_view ndjson) {
  return ImportCoverages(store_, audit_, clock_, limits_, who, ndjson);
}

json::object EligibilityService::ToParameters(const ImportSummary& s) {
  json::array params;
  auto add = [&](std::string_view name, int64_t value) {
    json::object p;
    p["name"] = name;
    p["valueInteger"] = value;
    params.emplace_back(std::move(p));
  };
  add("patientsCreated", s.patients_created);
  add("patientsUpdated", s.patients_updated);
  add("coveragesCreated", s.coverages_created);
  add("coveragesUpdated", s.coverages_updated);
  json::object out;
  out["resourceType"] = "Parameters";
  out["parameter"] = std::move(params);
  return out;
}

Response EligibilityService::HandleImport(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  std::string_view type = req.Header("content-type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type != "application/fhir+ndjson" && type != "application/ndjson" &&
      type != "application/x-ndjson") {
    return fhir::ErrorResponse(Error(ErrorCode::kUnsupportedMedia,
                                     "the load is NDJSON: Content-Type application/fhir+ndjson"));
  }
  auto summary = Import(*req.principal, req.body);
  if (!summary.ok()) return fhir::ErrorResponse(summary.error());
  return Response::Json(200, json::Serialize(ToParameters(*summary)));
}

RouteTable EligibilityService::Routes() {
  RouteTable routes;
  Route verify;
  verify.method = Method::kPost;
  verify.pattern = "/fhir/Coverage/$verify-eligibility";
  verify.interaction = Interaction::kOperation;
  verify.resource_type = "Coverage";
  verify.operation = "$verify-eligibility";
  verify.auth = AuthRequirement::kToken;
  // Eligibility (coverage and demographics) is what clerks may see; no clinical data, so
  // no consent decision is asked (DESIGN.md §5: clerks see eligibility only).
  verify.returns_patient_data = false;
  verify.summary = "Verify health-insurance eligibility by card or certificate numbers";
  verify.handler = [this](Request& req) { return HandleVerify(req); };
  routes.push_back(std::move(verify));

  Route import;
  import.method = Method::kPost;
  import.pattern = "/fhir/Coverage/$import";
  import.interaction = Interaction::kOperation;
  import.resource_type = "Coverage";
  import.operation = "$import";
  import.auth = AuthRequirement::kToken;
  import.summary = "Insurers: load Patients and Coverages from NDJSON, all or nothing";
  import.max_body_bytes = kMaxImportBytes;
  import.handler = [this](Request & req) { return HandleImport(req);
};
routes.push_back(std::move(import));
return routes;
}  // namespace renkei::eligibility

}  // namespace renkei::eligibility
