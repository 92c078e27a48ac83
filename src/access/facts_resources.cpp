#include "access/facts_resources.h"

#include <fmt/format.h>

#include "access/consent_resource.h"

namespace renkei::access {
namespace {

constexpr std::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr std::string_view kPrefectureExtension =
    "http://renkei.jp/fhir/StructureDefinition/disaster-prefecture";
constexpr std::string_view kPeriodExtension =
    "http://renkei.jp/fhir/StructureDefinition/disaster-period";

json::object Concept(std::string_view system, std::string_view code) {
  return json::object{{"coding", json::array{json::object{{"system", system}, {"code", code}}}}};
}

json::object FacilityActor(std::string_view code) {
  return json::object{
      {"role", Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")},
      {"reference", json::object{{"identifier", json::object{{"system", kFacilityCodeSystem},
                                                             {"value", code}}}}}};
}

Error Corrupt(std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("a stored {} is malformed", what));
}

std::vector<std::string> FacilitiesOf(const json::object& provision) {
  std::vector<std::string> out;
  if (const json::array* actors = json::GetArray(provision, "actor")) {
    for (const auto& a : *actors) {
      const json::object* ref =
          a.is_object() ? json::GetObject(a.get_object(), "reference") : nullptr;
      const json::object* ident = ref ? json::GetObject(*ref, "identifier") : nullptr;
      if (auto v = ident ? json::GetString(*ident, "value") : std::nullopt) {
        out.emplace_back(*v);
      }
    }
  }
  return out;
}

}  // namespace

json::object BuildRestrictions(std::string_view patient_id, const PatientRestrictions& r,
                               TimePoint at) {
  const std::string patient_ref = fmt::format("Patient/{}", patient_id);
  json::array nested;
  if (!r.allowed_facilities.empty()) {
    json::array actors;
    for (const auto& f : r.allowed_facilities) actors.push_back(FacilityActor(f));
    nested.push_back(json::object{{"type", "permit"}, {"actor", std::move(actors)}});
  }
  if (!r.blocked_facilities.empty()) {
    json::array actors;
    for (const auto& f : r.blocked_facilities) actors.push_back(FacilityActor(f));
    nested.push_back(json::object{{"type", "deny"}, {"actor", std::move(actors)}});
  }
  if (!r.hidden_item_ids.empty()) {
    json::array data;
    for (const auto& item : r.hidden_item_ids) {
      data.push_back(
          json::object{{"meaning", "instance"}, {"reference", json::object{{"reference", item}}}});
    }
    nested.push_back(json::object{{"type", "deny"}, {"data", std::move(data)}});
  }
  json::object provision{
      {"type", r.opted_out || !r.allowed_facilities.empty() ? "deny" : "permit"}};
  if (!nested.empty()) provision["provision"] = std::move(nested);
  return json::object{
      {"resourceType", "Consent"},
      {"status", "active"},
      {"scope", Concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")},
      {"category", json::array{Concept(kConsentCategorySystem, kRestrictionsCategory)}},
      {"patient", json::object{{"reference", patient_ref}}},
      {"dateTime", FormatInstant(at)},
      {"performer", json::array{json::object{{"reference", patient_ref}}}},
      {"policyRule", Concept(kActCode, r.opted_out ? "OPTOUT" : "OPTIN")},
      {"provision", std::move(provision)},
  };
}

Result<PatientRestrictions> ReadRestrictions(const json::object& consent) {
  PatientRestrictions r;
  const json::object* rule = json::GetObject(consent, "policyRule");
  const json::array* codings = rule ? json::GetArray(*rule, "coding") : nullptr;
  if (codings == nullptr || codings->empty() || !(*codings)[0].is_object()) {
    return Corrupt("restriction Consent (policyRule)");
  }
  r.opted_out = json::GetString((*codings)[0].get_object(), "code") == "OPTOUT";
  const json::object* provision = json::GetObject(consent, "provision");
  if (provision == nullptr) return Corrupt("restriction Consent (provision)");
  if (const json::array* nested = json::GetArray(*provision, "provision")) {
    for (const auto& n : *nested) {
      if (!n.is_object()) return Corrupt("restriction Consent (nested provision)");
      const json::object& p = n.get_object();
      const bool permit = json::GetString(p, "type") == "permit";
      auto facilities = FacilitiesOf(p);
      auto& list = permit ? r.allowed_facilities : r.blocked_facilities;
      list.insert(list.end(), facilities.begin(), facilities.end());
      if (const json::array* data = json::GetArray(p, "data"); data && !permit) {
        for (const auto& d : *data) {
          const json::object* ref =
              d.is_object() ? json::GetObject(d.get_object(), "reference") : nullptr;
          if (auto v = ref ? json::GetString(*ref, "reference") : std::nullopt) {
            r.hidden_item_ids.emplace_back(*v);
          }
        }
      }
    }
  }
  return r;
}

std::vector<store::IndexTerm> RestrictionIndexTerms(std::string_view patient_id) {
  return {{"patient", "", fmt::format("Patient/{}", patient_id)},
          {"category", std::string(kConsentCategorySystem), std::string(kRestrictionsCategory)},
          {std::string(kInForceUntilParam), "", std::string(kForever)}};
}

json::object BuildDeclaration(const DisasterDeclaration& d, std::string_view declared_by,
                              TimePoint at) {
  json::array ext;
  for (const auto& p : d.prefectures) {
    ext.push_back(json::object{{"url", kPrefectureExtension}, {"valueString", p}});
  }
  ext.push_back(json::object{{"url", kPeriodExtension},
                             {"valuePeriod", json::object{{"start", FormatInstant(d.start)},
                                                          {"end", FormatInstant(d.end)}}}});
  return json::object{
      {"resourceType", "Basic"},
      {"extension", std::move(ext)},
      {"code", Concept(kRenkeiCodeSystem, kDisasterCode)},
      {"created", FormatDate(at)},
      {"author", json::object{{"identifier", json::object{{"system", kFacilityCodeSystem},
                                                          {"value", declared_by}}}}},
  };
}

Result<DisasterDeclaration> ReadDeclaration(const json::object& basic) {
  DisasterDeclaration d;
  bool period = false;
  if (const json::array* ext = json::GetArray(basic, "extension")) {
    for (const auto& e : *ext) {
      if (!e.is_object()) continue;
      const json::object& o = e.get_object();
      auto url = json::GetString(o, "url");
      if (url == kPrefectureExtension) {
        if (auto v = json::GetString(o, "valueString")) d.prefectures.emplace_back(*v);
      } else if (url == kPeriodExtension) {
        const json::object* p = json::GetObject(o, "valuePeriod");
        auto start = p ? json::GetString(*p, "start") : std::nullopt;
        auto end = p ? json::GetString(*p, "end") : std::nullopt;
        auto s = start ? ParseDateTime(*start) : std::nullopt;
        auto t = end ? ParseDateTime(*end) : std::nullopt;
        if (!s || !t) return Corrupt("disaster declaration (period)");
        d.start = *s;
        d.end = *t;
        period = true;
      }
    }
  }
  if (!period || d.prefectures.empty()) return Corrupt("disaster declaration");
  return d;
}

std::vector<store::IndexTerm> DeclarationIndexTerms(const DisasterDeclaration& d) {
  return {{"code", std::string(kRenkeiCodeSystem), std::string(kDisasterCode)},
          {"end", "", FormatInstant(d.end)}};
}

}  // namespace renkei::access
