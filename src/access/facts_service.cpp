#include "access/facts_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "access/consent_resource.h"
#include "access/facts_resources.h"
#include "core/ids.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"

namespace renkei::access {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// DESIGN.md §4: the 10-digit medical institution code.
bool IsFacilityCode(std::string_view s) {
  return s.size() == 10 && AllDigits(s);
}

// JIS X 0401 prefecture codes "01" (Hokkaido) .. "47" (Okinawa).
bool IsPrefecture(std::string_view s) {
  if (s.size() != 2 || !AllDigits(s)) return false;
  int n = (s[0] - '0') * 10 + (s[1] - '0');
  return n >= 1 && n <= 47;
}

// "Condition/abc": a resource type (letters) and a FHIR id.
bool IsItemReference(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view type = s.substr(0, slash);
  if (!std::all_of(type.begin(), type.end(),
                   [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }))
    return false;
  return IsValidFhirId(s.substr(slash + 1));
}

Issue At(std::string expression, std::string text) {
  Issue i;
  i.expression = std::move(expression);
  i.text = std::move(text);
  return i;
}

// Each parameter of a Parameters body as (name, the parameter object).
Result<json::object> ParseParameters(std::string_view body, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(json::object params, json::ParseObject(body, limits));
  if (json::GetString(params, "resourceType") != "Parameters") {
    return Error(ErrorCode::kInvalid, "the body must be a Parameters resource");
  }
  return params;
}

}  // namespace

Result<PatientRestrictions> ParseRestrictions(std::string_view body, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(json::object params, ParseParameters(body, limits));
  PatientRestrictions r;
  std::vector<Issue> issues;
  const json::array* list = json::GetArray(params, "parameter");
  const size_t n = list ? list->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string path = fmt::format("Parameters.parameter[{}]", i);
    if (!(*list)[i].is_object()) {
      issues.push_back(At(path, "a parameter must be an object"));
      continue;
    }
    const json::object& p = (*list)[i].get_object();
    auto name = json::GetString(p, "name").value_or("");
    if (name == "optOut") {
      auto v = json::GetBool(p, "valueBoolean");
      if (!v) {
        issues.push_back(At(path, "optOut takes valueBoolean"));
      } else {
        r.opted_out = *v;
      }
      continue;
    }
    auto v = json::GetString(p, "valueString");
    if (name == "allow" || name == "block") {
      if (!v || !IsFacilityCode(*v)) {
        issues.push_back(At(path, fmt::format("{} takes a 10-digit facility code", name)));
        continue;
      }
      (name == "allow" ? r.allowed_facilities : r.blocked_facilities).emplace_back(*v);
    } else if (name == "hide") {
      if (!v || !IsItemReference(*v)) {
        issues.push_back(At(path, "hide takes an item reference such as Condition/abc"));
        continue;
      }
      r.hidden_item_ids.emplace_back(*v);
    } else {
      issues.push_back(
          At(path, fmt::format("unknown parameter '{}' (optOut, allow, block, hide)", name)));
    }
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kInvalid, "the restrictions are malformed", std::move(issues));
  }
  for (const auto* l : {&r.allowed_facilities, &r.blocked_facilities, &r.hidden_item_ids}) {
    if (l->size() > kMaxRestrictionEntries) {
      return Error(ErrorCode::kTooLarge,
                   fmt::format("at most {} entries per list", kMaxRestrictionEntries));
    }
  }
  return r;
}

Result<DisasterDeclaration> ParseDeclaration(std::string_view body, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(json::object params, ParseParameters(body, limits));
  DisasterDeclaration d;
  std::vector<Issue> issues;
  std::optional<TimePoint> start, end;
  const json::array* list = json::GetArray(params, "parameter");
  const size_t n = list ? list->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string path = fmt::format("Parameters.parameter[{}]", i);
    if (!(*list)[i].is_object()) {
      issues.push_back(At(path, "a parameter must be an object"));
      continue;
    }
    const json::object& p = (*list)[i].get_object();
    auto name = json::GetString(p, "name").value_or("");
    if (name == "prefecture") {
      auto v = json::GetString(p, "valueString");
      if (!v || !IsPrefecture(*v)) {
        issues.push_back(At(path, "prefecture takes a code 01..47"));
      } else if (std::find(d.prefectures.begin(), d.prefectures.end(), *v) == d.prefectures.end()) {
        d.prefectures.emplace_back(*v);
      }
    } else if (name == "start" || name == "end") {
      auto v = json::GetString(p, "valueDateTime");
      auto t = v ? ParseDateTime(*v) : std::nullopt;
      if (!t) {
        issues.push_back(At(path, fmt::format("{} takes valueDateTime", name)));
      } else {
        (name == "start" ? start : end) = t;
      }
    } else {
      issues.push_back(
          At(path, fmt::format("unknown parameter '{}' (prefecture, start, end)", name)));
    }
  }
  if (d.prefectures.empty()) issues.push_back(At("Parameters", "name at least one prefecture"));
  if (!start || !end) {
    issues.push_back(At("Parameters", "a declaration needs start and end"));
  } else if (*end <= *start) {
    issues.push_back(At("Parameters", "end must be after start"));
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kInvalid, "the declaration is malformed", std::move(issues));
  }
  d.start = *start;
  d.end = *end;
  return d;
}

FactsService::FactsService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                           Limits limits)
    : store_(store), audit_(audit), clock_(clock), limits_(limits) {}

Result<json::object> FactsService::SetRestrictions(const Principal& who,
                                                   const PatientRestrictions& r) {
  if (who.kind != PrincipalKind::kPatient || who.subject.empty()) {
    return Error(ErrorCode::kForbidden, "only the patient sets their restrictions");
  }
  const std::string& patient = who.subject;
  const TimePoint now = clock_.Now();
  return store::RunInTransactionWithResult<json::object>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<json::object> {
        // One restriction record per patient: replaced as a whole (a new version).
        store::SearchQuery q;
        q.type = std::string(kConsentType);
        q.patient_id = patient;
        q.criteria.push_back({"category",
                              store::MatchOp::kEq,
                              true,
                              std::string(kConsentCategorySystem),
                              {std::string(kRestrictionsCategory)}});
        q.count = 1;
        q.include_total = false;
        RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
        store::ResourceRow row;
        std::optional<int64_t> expected = int64_t{0};
        if (!page.rows.empty()) {
          row = page.rows[0];
          expected = row.version;
        } else {
          row.type = std::string(kConsentType);
          row.id = NewId();
          row.patient_id = patient;
        }
        json::object resource = BuildRestrictions(patient, r, now);
        fhir::StampMeta(resource, row.id, *expected + 1, now);
        row.last_updated = now;
        row.json = json::Serialize(resource);
        RK_TRY(tx.WriteResource(row, RestrictionIndexTerms(patient), expected));
        audit::AuditEntry entry = audit::EntryFor(who, patient, "update", "Consent", "PATRQT");
        entry.detail = fmt::format(
            R"({{"restrictions":{{"optOut":{},"allow":{},"block":{},"hide":{}}}}})", r.opted_out,
            r.allowed_facilities.size(), r.blocked_facilities.size(), r.hidden_item_ids.size());
        RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        return resource;
      });
}

Result<json::object> FactsService::DeclareDisaster(const Principal& who,
                                                   const DisasterDeclaration& d) {
  // DOMAIN.md §1: the ministry designates the affected region and period.
  if (who.facility_type != FacilityType::kMinistry) {
    return Error(ErrorCode::kForbidden, "only the ministry declares a disaster");
  }
  const TimePoint now = clock_.Now();
  json::object resource = BuildDeclaration(d, who.facility_code, now);
  const std::string id = NewId();
  fhir::StampMeta(resource, id, 1, now);
  store::ResourceRow row;
  row.type = std::string(kDisasterType);
  row.id = id;
  row.last_updated = now;
  row.json = json::Serialize(resource);
  audit::AuditEntry entry = audit::EntryFor(who, "", "create", "DisasterDeclaration", "HOPERAT");
  entry.detail =
      fmt::format(R"({{"declaration":"{}","prefectures":"{}","start":"{}","end":"{}"}})", id,
                  fmt::join(d.prefectures, " "), FormatInstant(d.start), FormatInstant(d.end));
  RK_TRY(
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_TRY(tx.WriteResource(row, DeclarationIndexTerms(d), int64_t{0}));
        return audit_.AppendInTransaction(tx, {entry});
      }));
  if (declarations_ != nullptr) declarations_->Invalidate();
  return resource;
}

Response FactsService::HandleRestrictions(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  if (!HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send a Parameters resource as application/fhir+json"));
  }
  if (req.principal->kind != PrincipalKind::kPatient) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, "only the patient sets their restrictions"));
  }
  auto r = ParseRestrictions(req.body, limits_);
  if (!r.ok()) return fhir::ErrorResponse(r.error());
  auto stored = SetRestrictions(*req.principal, *r);
  if (!stored.ok()) return fhir::ErrorResponse(stored.error());
  return Response::Json(200, json::Serialize(*stored));
}

Response FactsService::HandleDeclare(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  if (!HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send a Parameters resource as application/fhir+json"));
  }
  if (req.principal->facility_type != FacilityType::kMinistry) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kForbidden, "only the ministry declares a disaster"));
  }
  auto d = ParseDeclaration(req.body, limits_);
  if (!d.ok()) return fhir::ErrorResponse(d.error());
  auto stored = DeclareDisaster(*req.principal, *d);
  if (!stored.ok()) return fhir::ErrorResponse(stored.error());
  const std::string id(json::GetString(*stored, "id").value_or(""));
  Response res = Response::Json(201, json::Serialize(*stored));
  res.headers.emplace_back("Location",
                           fhir::ResourceUrl(req.base_url, kDisasterType, id) + "/_history/1");
  return res;
}

RouteTable FactsService::Routes() {
  RouteTable routes;
  Route restrict;
  restrict.method = Method::kPost;
  restrict.pattern = "/fhir/Consent/$restrictions";
  restrict.interaction = Interaction::kOperation;
  restrict.resource_type = "Consent";
  restrict.operation = "$restrictions";
  restrict.auth = AuthRequirement::kToken;
  // Answers only the patient themself with what they just set.
  restrict.returns_patient_data = false;
  restrict.summary = "The patient hides items, allows or blocks facilities, or opts out";
  restrict.max_body_bytes = 256 * 1024;
  restrict.handler = [this](Request& req) { return HandleRestrictions(req); };
  routes.push_back(std::move(restrict));

  Route declare;
  declare.method = Method::kPost;
  declare.pattern = "/fhir/Basic/$declare-disaster";
  declare.interaction = Interaction::kOperation;
  declare.resource_type = "Basic";
  declare.operation = "$declare-disaster";
  declare.auth = AuthRequirement::kToken;
  declare.returns_patient_data = false;
  declare.summary = "The ministry declares a disaster: prefectures, start and end";
  declare.max_body_bytes = 64 * 1024;
  declare.handler = [this](Request& req) { return HandleDeclare(req); };
  routes.push_back(std::move(declare));
  return routes;
}

}  // namespace renkei::access
