#include "access/consent_resource.h"

#include <fmt/format.h>

#include "access/facts_resources.h"

namespace renkei::access {
namespace {

constexpr std::string_view kRevokedExtension =
    "http://renkei.jp/fhir/StructureDefinition/consent-revoked-at";

json::object Coding(std::string_view system, std::string_view code) {
  return json::object{{"system", system}, {"code", code}};
}
json::object Concept(std::string_view system, std::string_view code) {
  return json::object{{"coding", json::array{Coding(system, code)}}};
}

Error Corrupt(std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("a stored card Consent lacks {}", what));
}

}  // namespace

json::object BuildCardConsent(std::string_view patient_id, std::string_view facility_code,
                              uint8_t groups, TimePoint signed_at) {
  const std::string patient_ref = fmt::format("Patient/{}", patient_id);
  json::object facility{
      {"identifier", json::object{{"system", kFacilityCodeSystem}, {"value", facility_code}}}};
  json::array codes;
  for (std::string_view word : ConsentGroupWords(groups)) {
    codes.push_back(Concept(kConsentCategorySystem, word));
  }
  json::object provision{
      {"type", "permit"},
      // DOMAIN.md §2: "in general outpatient care the view is open for 24 hours after consent".
      {"period", json::object{{"start", FormatInstant(signed_at)},
                              {"end", FormatInstant(signed_at + kConsentWindow)}}},
      {"actor",
       json::array{json::object{
           {"role", Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")},
           {"reference", facility}}}},
      {"purpose",
       json::array{Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT")}},
      {"code", std::move(codes)},
  };
  return json::object{
      {"resourceType", "Consent"},
      {"status", "active"},
      {"scope", Concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")},
      {"category", json::array{Concept("http://loinc.org", "59284-0"),
                               Concept(kConsentCategorySystem, "card")}},
      {"patient", json::object{{"reference", patient_ref}}},
      {"dateTime", FormatInstant(signed_at)},
      {"performer", json::array{json::object{{"reference", patient_ref}}}},
      {"organization", json::array{facility}},
      // R4 invariant ppc-1: policy or policyRule. The card reader consent is an opt-in.
      {"policyRule", Concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN")},
      {"provision", std::move(provision)},
  };
}

void MarkRevoked(json::object& consent, TimePoint at) {
  consent["status"] = "inactive";
  json::array ext;
  if (const json::array* old = json::GetArray(consent, "extension")) ext = *old;
  ext.push_back(json::object{{"url", kRevokedExtension}, {"valueInstant", FormatInstant(at)}});
  consent["extension"] = std::move(ext);
  if (auto* provision = consent.if_contains("provision"); provision && provision->is_object()) {
    if (auto* period = provision->get_object().if_contains("period");
        period && period->is_object()) {
      auto end = json::GetString(period->get_object(), "end");
      auto end_at = end ? ParseDateTime(*end) : std::nullopt;
      if (!end_at || at < *end_at) period->get_object()["end"] = FormatInstant(at);
    }
  }
}

Result<CardConsent> ReadCardConsent(const json::object& consent) {
  CardConsent out;
  auto date = json::GetString(consent, "dateTime");
  auto signed_at = date ? ParseDateTime(*date) : std::nullopt;
  if (!signed_at) return Corrupt("dateTime");
  out.signed_at = *signed_at;
  const json::object* provision = json::GetObject(consent, "provision");
  if (provision == nullptr) return Corrupt("provision");
  if (const json::array* actors = json::GetArray(*provision, "actor")) {
    for (const auto& a : *actors) {
      const json::object* ref =
          a.is_object() ? json::GetObject(a.get_object(), "reference") : nullptr;
      const json::object* ident = ref ? json::GetObject(*ref, "identifier") : nullptr;
      if (ident && json::GetString(*ident, "system") == kFacilityCodeSystem) {
        if (auto v = json::GetString(*ident, "value")) out.facility_code = std::string(*v);
      }
    }
  }
  if (out.facility_code.empty()) return Corrupt("the consented facility");
  if (const json::array* codes = json::GetArray(*provision, "code")) {
    for (const auto& c : *codes) {
      const json::array* codings =
          c.is_object() ? json::GetArray(c.get_object(), "coding") : nullptr;
      if (codings == nullptr) continue;
      for (const auto& coding : *codings) {
        if (!coding.is_object()) continue;
        if (json::GetString(coding.get_object(), "system") != kConsentCategorySystem) continue;
        if (auto code = json::GetString(coding.get_object(), "code")) {
          out.groups |= ParseConsentGroup(*code);
        }
      }
    }
  }
  if (out.groups == 0) return Corrupt("its categories");
  if (json::GetString(consent, "status") != "active") {
    out.revoked = true;
    out.revoked_at = TimePoint{};  // revoked with no recorded instant: closed since always
    if (const json::array* ext = json::GetArray(consent, "extension")) {
      for (const auto& e : *ext) {
        if (!e.is_object() || json::GetString(e.get_object(), "url") != kRevokedExtension) continue;
        auto v = json::GetString(e.get_object(), "valueInstant");
        if (auto at = v ? ParseDateTime(*v) : std::nullopt) out.revoked_at = *at;
      }
    }
  }
  return out;
}

std::vector<store::IndexTerm> ConsentIndexTerms(const CardConsent& consent,
                                                std::string_view patient_id) {
  std::vector<store::IndexTerm> terms;
  terms.push_back({"patient", "", fmt::format("Patient/{}", patient_id)});
  terms.push_back({"category", std::string(kConsentCategorySystem), "card"});
  terms.push_back({"actor", std::string(kFacilityCodeSystem), consent.facility_code});
  terms.push_back({"status", "", consent.revoked ? "inactive" : "active"});
  terms.push_back({"date", "", FormatInstant(consent.signed_at)});
  terms.push_back(
      {std::string(kInForceUntilParam), "", FormatInstant(consent.signed_at + kConsentWindow)});
  return terms;
}

}  // namespace renkei::access
