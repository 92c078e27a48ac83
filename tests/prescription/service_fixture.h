// A store on one engine with the prescription service, registered patients, principals of a
// hospital, a clinic and two pharmacies, and helpers to build prescription Bundles and call the
// routes as the router would. Shared by the store-backed prescription tests.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "access/consent_resource.h"
#include "access/decision.h"
#include "audit/audit_log.h"
#include "auth/card.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/text.h"
#include "fhir/jp_systems.h"
#include "prescription/prescription_service.h"
#include "prescription/test_master.h"
#include "support/test_db.h"

namespace renkei::prescription::testing {

using renkei::testing::Engine;

// 10:00 in Japan on 2026-03-10.
inline const TimePoint kNow = *ParseDateTime("2026-03-10T01:00:00Z");
inline constexpr std::string_view kHospital = "1310000011";
inline constexpr std::string_view kClinic = "1310000029";
inline constexpr std::string_view kPharmacy = "1340000013";
inline constexpr std::string_view kPharmacy2 = "1340000021";

// Real codes of the shipped price list.
inline constexpr std::string_view kAmlodipine = "2171022F2025";       // ノルバスク錠５ｍｇ
inline constexpr std::string_view kAmlodipineOther = "2171022F2041";  // same ingredient
inline constexpr std::string_view kWarfarin = "3332001F1016";
inline constexpr std::string_view kMiconazoleGel = "6290003X1039";    // oral gel: contraindicated
inline constexpr std::string_view kMiconazoleCream = "2655702N1060";  // skin: not

inline Principal Staff(std::string_view code, FacilityType type, Qualification q,
                       std::string_view suffix = "1") {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = fmt::format("prac-{}-{}-{}", code, ToString(q), suffix);
  p.practitioner_id = p.subject;
  p.facility_code = std::string(code);
  p.facility_type = type;
  p.prefecture = code.substr(0, 2) == "27" ? "27" : "13";
  p.emergency_hospital = type == FacilityType::kHospital;
  p.qualification = q;
  return p;
}

struct Med {
  std::string code;
  int days = 14;
  bool as_needed = false;
  std::string system = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
};

class PrescriptionServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    cards_ = std::make_unique<auth::CardVerifier>(*store_, clock_);
    holder_ = std::make_unique<MasterHolder>(ShippedMaster());
    service_ = std::make_unique<PrescriptionService>(*store_, *audit_, *cards_, clock_, *holder_,
                                                     DefaultMasterFiles(DataDir()));
    routes_ = service_->Routes();
    AddPatient("pat-1", kMember1);
    AddPatient("pat-2", kMember2);
  }

  static constexpr std::string_view kMember1 = "01130012:あいう:10000007:01";
  static constexpr std::string_view kMember2 = "06270015::10000014:02";

  void AddPatient(std::string_view id, std::string_view member) {
    json::object p{{"resourceType", "Patient"},
                   {"id", id},
                   {"identifier", json::array{json::object{{"system", fhir::kMemberIdSystem},
                                                           {"value", member}}}}};
    store::ResourceRow row{"Patient",       std::string(id),   0, clock_.Now(), false,
                           std::string(id), json::Serialize(p)};
    std::vector<store::IndexTerm> terms{
        {"identifier", std::string(fhir::kMemberIdSystem), text::SearchKey(member)}};
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) -> Status {
                                         RK_TRY(tx.WriteResource(row, terms, std::nullopt));
                                         return Ok();
                                       });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  // A card consent at facility (all groups) signed now: opens the details for 24 hours.
  void Consent(std::string_view patient, std::string_view facility) {
    access::CardConsent c;
    c.facility_code = std::string(facility);
    c.groups = access::kConsentAll;
    c.signed_at = clock_.Now();
    json::object r = access::BuildCardConsent(patient, facility, c.groups, c.signed_at);
    const std::string id = NewId();
    r["id"] = id;
    store::ResourceRow row{std::string(access::kConsentType),
                           id,
                           0,
                           clock_.Now(),
                           false,
                           std::string(patient),
                           json::Serialize(r)};
    Status s = store::RunInTransaction(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          RK_TRY(tx.WriteResource(row, access::ConsentIndexTerms(c, patient), int64_t{0}));
          return Ok();
        });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  static json::object MedicationRequest(const Med& m) {
    json::object mr{{"resourceType", "MedicationRequest"},
                    {"status", "active"},
                    {"intent", "order"},
                    {"authoredOn", "2026-03-10T10:00:00+09:00"},
                    {"medicationCodeableConcept",
                     json::object{{"coding", json::array{json::object{{"system", m.system},
                                                                      {"code", m.code}}}}}}};
    json::object dosage{{"text", "1日1回"}};
    if (m.as_needed) dosage["asNeededBoolean"] = true;
    mr["dosageInstruction"] = json::array{dosage};
    if (m.days > 0) {
      mr["dispenseRequest"] = json::object{
          {"expectedSupplyDuration", json::object{{"value", m.days},
                                                  {"unit", "日"},
                                                  {"system", "http://unitsofmeasure.org"},
                                                  {"code", "d"}}}};
    }
    return mr;
  }

  // A prescription document: entry[0] Composition, entry[1] Patient, entry[2..] the items.
  static std::string PrescriptionBundle(std::string_view member, const std::vector<Med>& meds) {
    json::array entries;
    entries.push_back(json::object{
        {"fullUrl", "urn:uuid:1"},
        {"resource", json::object{{"resourceType", "Composition"}, {"status", "final"}}}});
    entries.push_back(json::object{
        {"fullUrl", "urn:uuid:2"},
        {"resource",
         json::object{{"resourceType", "Patient"},
                      {"identifier", json::array{json::object{{"system", fhir::kMemberIdSystem},
                                                              {"value", member}}}}}}});
    for (const Med& m : meds) {
      entries.push_back(json::object{{"resource", MedicationRequest(m)}});
    }
    return json::Serialize(json::object{{"resourceType", "Bundle"},
                                        {"type", "document"},
                                        {"timestamp", "2026-03-10T10:00:00+09:00"},
                                        {"entry", std::move(entries)}});
  }

  static std::string Params(json::array params) {
    return json::Serialize(json::object{{"resourceType", "Parameters"}, {"parameter", params}});
  }
  static json::object Str(std::string_view name, std::string_view v) {
    return json::object{{"name", name}, {"valueString", v}};
  }
  static json::object PatientRef(std::string_view id) {
    return json::object{
        {"name", "patient"},
        {"valueReference", json::object{{"reference", fmt::format("Patient/{}", id)}}}};
  }
  static json::object Candidate(std::string_view code, int days = 14) {
    return json::object{
        {"name", "medication"},
        {"part", json::array{json::object{{"name", "code"}, {"valueCode", code}},
                             json::object{{"name", "daysSupply"}, {"valueInteger", days}}}}};
  }
  static json::object Dispense(std::string_view code, int days = 14) {
    return json::object{
        {"name", "dispense"},
        {"resource",
         json::object{{"resourceType", "MedicationDispense"},
                      {"status", "completed"},
                      {"whenHandedOver", "2026-03-10"},
                      {"daysSupply", json::object{{"value", days}, {"code", "d"}}},
                      {"medicationCodeableConcept",
                       json::object{{"coding", json::array{json::object{
                                                   {"system", "urn:oid:1.2.392.100495.20.2.73"},
                                                   {"code", code}}}}}}}}};
  }

  using Headers = std::vector<std::pair<std::string, std::string>>;
  Response Call(std::string_view pattern, const Principal& who, std::string body,
                Headers headers = {}) {
    for (Route& r : routes_) {
      if (r.pattern != pattern) continue;
      Request req;
      req.method = r.method;
      req.path = std::string(pattern);
      req.headers["content-type"] = "application/fhir+json";
      for (auto& [k, v] : headers) req.headers[k] = v;
      req.body = std::move(body);
      req.principal = who;
      req.base_url = "http://127.0.0.1:8080";
      return r.handler(req);
    }
    ADD_FAILURE() << "no route " << pattern;
    return {};
  }

  static json::object Body(const Response& r) {
    auto o = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(o.ok()) << r.body;
    return o.ok() ? *o : json::object{};
  }
  // The valueX of the first top-level parameter with this name ("" when absent).
  static std::string Value(const json::object& params, std::string_view name) {
    const json::array* list = json::GetArray(params, "parameter");
    for (size_t i = 0; list && i < list->size(); ++i) {
      const json::object& p = (*list)[i].get_object();
      if (json::GetString(p, "name") != name) continue;
      for (auto key : {"valueString", "valueCode", "valueDate"}) {
        if (auto v = json::GetString(p, key)) return std::string(*v);
      }
      if (auto b = json::GetBool(p, "valueBoolean")) return *b ? "true" : "false";
      if (auto n = json::GetInt(p, "valueInteger")) return std::to_string(*n);
    }
    return "";
  }
  // Alerts of item i: each alert's parts as name -> value (first value).
  static std::vector<std::map<std::string, std::string>> Alerts(const json::object& params,
                                                                size_t item) {
    std::vector<std::map<std::string, std::string>> out;
    const json::array* list = json::GetArray(params, "parameter");
    size_t seen = 0;
    for (size_t i = 0; list && i < list->size(); ++i) {
      const json::object& p = (*list)[i].get_object();
      if (json::GetString(p, "name") != "item") continue;
      if (seen++ != item) continue;
      for (const auto& part : *json::GetArray(p, "part")) {
        if (json::GetString(part.get_object(), "name") != "alert") continue;
        std::map<std::string, std::string> alert;
        for (const auto& a : *json::GetArray(part.get_object(), "part")) {
          json::object wrapped{{"parameter", json::array{a}}};
          std::string name(json::GetString(a.get_object(), "name").value_or(""));
          if (!alert.count(name)) alert[name] = Value(wrapped, name);
        }
        out.push_back(std::move(alert));
      }
    }
    return out;
  }

  // Prescribes meds for member by who; returns the answer (expects 201).
  json::object Prescribe(const Principal& who, std::string_view member,
                         const std::vector<Med>& meds, Headers headers = {}) {
    Response r = Call("/fhir/MedicationRequest/$prescribe", who, PrescriptionBundle(member, meds),
                      std::move(headers));
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }
  Response Receive(const Principal& who, std::string_view code, std::string_view member,
                   Headers headers = {}) {
    return Call("/fhir/MedicationRequest/$receive", who,
                Params({Str("accessCode", code), Str("insuredNumber", member)}),
                std::move(headers));
  }

  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<auth::CardVerifier> cards_;
  std::unique_ptr<MasterHolder> holder_;
  std::unique_ptr<PrescriptionService> service_;
  RouteTable routes_;

  const Principal hospital_doctor_ =
      Staff(kHospital, FacilityType::kHospital, Qualification::kPhysician);
  const Principal clinic_doctor_ = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  const Principal pharmacist_ =
      Staff(kPharmacy, FacilityType::kPharmacy, Qualification::kPharmacist);
  const Principal pharmacist2_ =
      Staff(kPharmacy2, FacilityType::kPharmacy, Qualification::kPharmacist);
  const Principal clerk_ = Staff(kClinic, FacilityType::kClinic, Qualification::kClerk);
};

}  // namespace renkei::prescription::testing
