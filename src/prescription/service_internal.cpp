#include "prescription/service_internal.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/crypto.h"
#include "core/text.h"
#include "fhir/jp_systems.h"
#include "fhir/resource.h"
#include "prescription/prescription_service.h"

namespace renkei::prescription::internal {
namespace {

constexpr std::string_view kStateExtension =
    "http://renkei.jp/fhir/StructureDefinition/prescription-state";

Error Invalid(size_t index, std::string text) {
  std::string path = ParamPath(index);
  return Error(ErrorCode::kInvalid, fmt::format("{}: {}", path, text),
               {Issue{Issue::Severity::kError, "invalid", path, text}});
}

}  // namespace

std::string ParamPath(size_t index) {
  return fmt::format("Parameters.parameter[{}]", index);
}

Result<std::vector<Param>> ReadParameters(const json::object& body,
                                          const std::vector<std::string_view>& known) {
  if (json::GetString(body, "resourceType") != "Parameters") {
    return Error(ErrorCode::kInvalid, "the body must be a Parameters resource");
  }
  std::vector<Param> out;
  const json::array* list = json::GetArray(body, "parameter");
  if (!list) return out;
  std::vector<Issue> issues;
  for (size_t i = 0; i < list->size(); ++i) {
    const json::value& v = (*list)[i];
    auto name = v.is_object() ? json::GetString(v.get_object(), "name") : std::nullopt;
    if (!name) {
      issues.push_back({Issue::Severity::kError, "invalid", ParamPath(i) + ".name",
                        "each parameter needs a name"});
      continue;
    }
    if (std::find(known.begin(), known.end(), *name) == known.end()) {
      issues.push_back({Issue::Severity::kError, "not-supported", ParamPath(i) + ".name",
                        fmt::format("unknown parameter '{}'", *name)});
      continue;
    }
    out.push_back(Param{i, &v.get_object()});
  }
  if (!issues.empty()) return IssuesError("the Parameters", std::move(issues));
  return out;
}

std::vector<Param> Named(const std::vector<Param>& params, std::string_view name) {
  std::vector<Param> out;
  for (const Param& p : params) {
    if (json::GetString(*p.p, "name") == name) out.push_back(p);
  }
  return out;
}

Result<std::optional<std::string>> SingleString(const std::vector<Param>& params,
                                                std::string_view name, std::string_view value_key) {
  auto found = Named(params, name);
  if (found.empty()) return std::optional<std::string>();
  if (found.size() > 1) return Invalid(found[1].index, fmt::format("give {} once", name));
  auto v = json::GetString(*found[0].p, value_key);
  if (!v || v->empty()) {
    return Invalid(found[0].index, fmt::format("{} needs a non-empty {}", name, value_key));
  }
  return std::optional<std::string>(std::string(*v));
}

Result<std::optional<bool>> SingleBool(const std::vector<Param>& params, std::string_view name) {
  auto found = Named(params, name);
  if (found.empty()) return std::optional<bool>();
  if (found.size() > 1) return Invalid(found[1].index, fmt::format("give {} once", name));
  auto v = json::GetBool(*found[0].p, "valueBoolean");
  if (!v) return Invalid(found[0].index, fmt::format("{} needs a valueBoolean", name));
  return std::optional<bool>(*v);
}

json::object StringParam(std::string_view name, std::string_view value, std::string_view key) {
  json::object p;
  p["name"] = name;
  p[key] = value;
  return p;
}

json::object ParametersOf(json::array params) {
  json::object o;
  o["resourceType"] = "Parameters";
  o["parameter"] = std::move(params);
  return o;
}

void AppendCheck(json::array& out, const CheckResult& result, const std::vector<ItemInput>& items) {
  out.push_back(StringParam("masterVersion", result.master_version));
  out.push_back(json::object{{"name", "detailsShown"}, {"valueBoolean", result.details_shown}});
  out.push_back(json::object{{"name", "unresolvedHistory"},
                             {"valueInteger", static_cast<int64_t>(result.unresolved_history)}});
  for (const ItemResult& item : result.items) {
    json::array part;
    part.push_back(json::object{{"name", "index"},
                                {"valueInteger", static_cast<int64_t>(item.candidate_index)}});
    part.push_back(StringParam("code", item.code, "valueCode"));
    if (item.candidate_index < items.size() && !items[item.candidate_index].path.empty()) {
      part.push_back(StringParam("path", items[item.candidate_index].path));
    }
    for (const Alert& alert : item.alerts) {
      json::array a;
      a.push_back(StringParam("kind", ToString(alert.kind), "valueCode"));
      if (alert.detail) {
        const AlertDetail& d = *alert.detail;
        if (d.other_is_candidate) {
          a.push_back(
              json::object{{"name", "otherCandidate"},
                           {"valueInteger", static_cast<int64_t>(d.other_candidate_index)}});
        } else {
          a.push_back(StringParam("otherKind", ToString(d.other_kind), "valueCode"));
          a.push_back(StringParam("otherRecord", d.other_record_id));
          a.push_back(StringParam("otherFacility", d.other_facility));
          a.push_back(StringParam("otherStart", FormatDay(d.other_start), "valueDate"));
          a.push_back(StringParam("otherEnd", FormatDay(d.other_end), "valueDate"));
        }
        a.push_back(StringParam("otherCode", d.other_code, "valueCode"));
        a.push_back(StringParam("otherName", d.other_name));
        for (const std::string& ing : d.ingredients) a.push_back(StringParam("ingredient", ing));
        if (!d.stated_in.empty()) a.push_back(StringParam("statedIn", d.stated_in));
        if (!d.rule_status.empty()) a.push_back(StringParam("ruleStatus", d.rule_status));
      }
      part.push_back(json::object{{"name", "alert"}, {"part", std::move(a)}});
    }
    out.push_back(json::object{{"name", "item"}, {"part", std::move(part)}});
  }
}

std::optional<std::string> PatientIdOf(std::string_view reference) {
  constexpr std::string_view kPrefix = "Patient/";
  if (!reference.starts_with(kPrefix)) return std::nullopt;
  std::string id(reference.substr(kPrefix.size()));
  if (id.empty() || id.size() > 64 || id.find('/') != std::string::npos) return std::nullopt;
  return id;
}

Result<bool> PatientExists(store::Transaction& tx, std::string_view patient_id) {
  RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent("Patient", patient_id));
  return row.has_value() && !row->deleted;
}

RxState StateOf(const json::object& bundle) {
  RxState s;
  for (const auto& [url, v] : fhir::MetaExtensionParts(bundle, kStateExtension)) {
    if (url == "status") s.status = v;
    if (url == "prescriberFacility") s.prescriber_facility = v;
    if (url == "prescriber") s.prescriber = v;
    if (url == "receivedBy") s.received_by = v;
    if (url == "dispensing") s.dispensing_id = v;
    if (url == "accessCode") s.access_code = v;
  }
  return s;
}

void SetState(json::object& bundle, const RxState& state) {
  fhir::SetMetaExtensionParts(bundle, kStateExtension,
                              {{"status", state.status},
                               {"prescriberFacility", state.prescriber_facility},
                               {"prescriber", state.prescriber},
                               {"receivedBy", state.received_by},
                               {"dispensing", state.dispensing_id},
                               {"accessCode", state.access_code}});
}

std::vector<store::IndexTerm> PrescriptionTerms(std::string_view patient_id, const RxState& state,
                                                TimePoint now) {
  std::vector<store::IndexTerm> terms;
  terms.push_back({std::string(kAccessCodeParam), "", state.access_code});
  terms.push_back({"patient", "", fmt::format("Patient/{}", patient_id)});
  terms.push_back({"status", "", state.status});
  terms.push_back({"facility", "", state.prescriber_facility});
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});
  return terms;
}

std::string NewAccessCode() {
  const size_t n = kAccessCodeAlphabet.size();
  // Rejection sampling keeps every symbol equally likely.
  const size_t limit = 256 - (256 % n);
  std::string code;
  while (code.size() < kAccessCodeLength) {
    for (unsigned char b : crypto::RandomBytes(kAccessCodeLength * 2)) {
      if (b >= limit) continue;
      code.push_back(kAccessCodeAlphabet[b % n]);
      if (code.size() == kAccessCodeLength) break;
    }
  }
  return code;
}

Result<std::optional<store::ResourceRow>> FindByAccessCode(store::Transaction& tx,
                                                           std::string_view access_code) {
  store::SearchQuery q;
  q.type = std::string(kPrescriptionType);
  q.criteria.push_back(
      {std::string(kAccessCodeParam), store::MatchOp::kEq, false, "", {std::string(access_code)}});
  q.count = 2;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  if (page.rows.size() != 1) return std::optional<store::ResourceRow>();
  return std::optional<store::ResourceRow>(std::move(page.rows.front()));
}

Error IssuesError(std::string_view what, std::vector<Issue> issues) {
  bool business = false;
  for (const Issue& i : issues) business = business || i.type == "business-rule";
  std::string message = issues.size() == 1 ? issues.front().text
                                           : fmt::format("{} problems in {}: {}", issues.size(),
                                                         what, issues.front().text);
  return Error(business ? ErrorCode::kBusinessRule : ErrorCode::kInvalid, std::move(message),
               std::move(issues));
}

}  // namespace renkei::prescription::internal
