// A ResourceService over a fresh migrated store of each engine, with principals and example
// resources, called through its route table as the HTTP layer will call it.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "access/consent_service.h"
#include "audit/audit_log.h"
#include "auth/card.h"
#include "auth/test_keys.h"
#include "core/clock.h"
#include "core/json.h"
#include "fhir/url.h"
#include "registry/identifiers.h"
#include "registry/registry_kinds.h"
#include "registry/resource_service.h"
#include "support/test_db.h"

namespace renkei::registry::testing {

using renkei::testing::Engine;

inline Principal Ministry() {
  Principal p;
  p.kind = PrincipalKind::kSystem;
  p.subject = "mhlw-admin";
  p.facility_code = "0000000001";
  p.facility_type = FacilityType::kMinistry;
  return p;
}

inline Principal Insurer(std::string number) {
  Principal p;
  p.kind = PrincipalKind::kSystem;
  p.subject = "insurer-loader-" + number;
  p.facility_code = std::move(number);
  p.facility_type = FacilityType::kInsurer;
  return p;
}

inline Principal Staff(Qualification q, std::string practitioner = "pr-1") {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = practitioner;
  p.practitioner_id = practitioner;
  p.facility_code = "1312345678";
  p.facility_type = FacilityType::kHospital;
  p.prefecture = "13";
  p.qualification = q;
  return p;
}

inline json::object Parse(std::string_view text) {
  auto r = json::ParseObject(text, Limits{});
  if (!r.ok()) throw std::runtime_error("test JSON: " + r.error().ToString());
  return std::move(r).value();
}

inline std::string HospitalJson(std::string code = "1312345678", bool emergency = true) {
  return fmt::format(R"({{"resourceType":"Organization",
    "identifier":[{{"system":"{}","value":"{}"}}],
    "type":[{{"coding":[{{"system":"{}","code":"hospital"}}]}}],
    "name":"港総合病院",
    "extension":[{{"url":"{}","valueCoding":{{"system":"{}","code":"{}"}}}},
                 {{"url":"{}","valueBoolean":{}}}]}})",
                     kInstitutionNoSystem, code, kFacilityTypeSystem, kPrefectureExtension,
                     kPrefectureSystem, code.substr(0, 2), kEmergencyHospitalExtension,
                     emergency ? "true" : "false");
}

inline std::string InsurerJson(std::string number) {
  return fmt::format(R"({{"resourceType":"Organization",
    "identifier":[{{"system":"{}","value":"{}"}}],
    "type":[{{"coding":[{{"system":"{}","code":"insurer"}}]}}],
    "name":"あじさい健康保険組合"}})",
                     kInsurerNumberSystem, number, kFacilityTypeSystem);
}

inline std::string PatientJson(std::string_view kanji_family, std::string_view kanji_given,
                               std::string_view kana_family, std::string_view kana_given,
                               std::string_view member_id, std::string_view birth = "1930-06-28") {
  return fmt::format(R"({{"resourceType":"Patient",
    "identifier":[{{"system":"{}","value":"{}"}}],
    "active":true,
    "name":[{{"extension":[{{"url":"{}","valueCode":"IDE"}}],
              "text":"{} {}","family":"{}","given":["{}"]}},
            {{"extension":[{{"url":"{}","valueCode":"SYL"}}],
              "text":"{} {}","family":"{}","given":["{}"]}}],
    "gender":"female","birthDate":"{}",
    "address":[{{"text":"高知県高知市五台山4200-6","postalCode":"781-8125","city":"高知市","state":"高知県"}}]}})",
                     kMemberIdSystem, member_id, kNameRepresentationExtension, kanji_family,
                     kanji_given, kanji_family, kanji_given, kNameRepresentationExtension,
                     kana_family, kana_given, kana_family, kana_given, birth);
}

inline std::string MakinoJson() {
  return PatientJson("牧野", "爛漫", "マキノ", "ランマン", "06123456:あいう:１８７:05");
}

inline std::string CoverageJson(std::string_view patient_ref, std::string_view payor_json,
                                std::string_view member_id) {
  return fmt::format(R"({{"resourceType":"Coverage","status":"active",
    "identifier":[{{"system":"{}","value":"{}"}}],
    "beneficiary":{{"reference":"{}"}},
    "payor":[{}],
    "dependent":"05",
    "period":{{"start":"2024-04-01","end":"2027-03-31"}},
    "costToBeneficiary":[{{"type":{{"coding":[{{"system":"{}","code":"copaypct"}}]}},
      "valueQuantity":{{"value":30,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}}}],
    "extension":[{{"url":"{}","valueCoding":{{"system":"{}","code":"ウ"}}}}]}})",
                     kMemberIdSystem, member_id, patient_ref, payor_json, kCopayTypeSystem,
                     kHighCostCategoryExtension, kHighCostCategorySystem);
}

inline std::string PayorById(std::string_view number) {
  return fmt::format(R"({{"identifier":{{"system":"{}","value":"{}"}}}})", kInsurerNumberSystem,
                     number);
}

inline std::string PayorByRef(std::string_view org_id) {
  return fmt::format(R"({{"reference":"Organization/{}"}})", org_id);
}

class RegistryTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { Start(Limits{}); }
  void TearDown() override {
    consents_.reset();
    cards_.reset();
    service_.reset();
    audit_.reset();
    store_.reset();
    db_.reset();
  }

  void Start(Limits limits) {
    consents_.reset();
    cards_.reset();
    service_.reset();
    audit_.reset();
    if (!store_) {
      db_ = renkei::testing::MakeTestDatabase(GetParam());
      auto opened = store::Open(db_->url(), 4);
      if (!opened.ok()) throw std::runtime_error(opened.error().ToString());
      store_ = std::move(opened).value();
      auto migrated = store_->Migrate();
      if (!migrated.ok()) throw std::runtime_error(migrated.error().ToString());
    }
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    service_ = std::make_unique<ResourceService>(*store_, *audit_, clock_, limits, RegistryKinds());
    cards_ = std::make_unique<auth::CardVerifier>(*store_, clock_);
    consents_ = std::make_unique<access::ConsentService>(*store_, *audit_, *cards_, clock_);
    routes_ = service_->Routes();
  }

  // Calls the route matching method and target (path with optional query).
  Response Call(Method method, std::string_view target, const Principal& who, std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = method;
    req.base_url = "http://test";
    std::string_view t = target;
    if (t.starts_with(req.base_url)) t.remove_prefix(req.base_url.size());
    size_t q = t.find('?');
    req.path = std::string(t.substr(0, q));
    if (q != std::string_view::npos) {
      auto parsed = fhir::ParseQueryString(t.substr(q + 1));
      if (!parsed) throw std::runtime_error("bad test query");
      req.query = std::move(*parsed);
    }
    req.body = std::move(body);
    req.principal = who;
    for (auto& [k, v] : headers) req.headers[k] = v;
    for (const auto& r : routes_) {
      if (r.method != method) continue;
      std::map<std::string, std::string, std::less<>> params;
      if (!Match(r.pattern, req.path, params)) continue;
      req.path_params = std::move(params);
      return r.handler(req);
    }
    Response none;
    none.status = 404;
    return none;
  }

  static bool Match(std::string_view pattern, std::string_view path,
                    std::map<std::string, std::string, std::less<>>& params) {
    auto split = [](std::string_view s) {
      std::vector<std::string_view> out;
      while (!s.empty()) {
        if (s.front() == '/') s.remove_prefix(1);
        size_t slash = s.find('/');
        out.push_back(s.substr(0, slash));
        s = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
      }
      return out;
    };
    auto ps = split(pattern), xs = split(path);
    if (ps.size() != xs.size()) return false;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (ps[i].starts_with('{')) {
        params[std::string(ps[i].substr(1, ps[i].size() - 2))] = std::string(xs[i]);
      } else if (ps[i] != xs[i]) {
        return false;
      }
    }
    return true;
  }

  static std::string HeaderOf(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  // Creates and returns the new id (asserting 201).
  std::string MustCreate(std::string_view type, const std::string& body, const Principal& who) {
    Response r = Call(Method::kPost, fmt::format("/fhir/{}", type), who, body);
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    return std::string(Parse(r.body).at("id").as_string());
  }

  std::string MustCreateInsurer(std::string number) {
    return MustCreate("Organization", InsurerJson(std::move(number)), Ministry());
  }

  std::vector<store::AuditRow> AuditFor(std::string patient_id) {
    store::AuditFilter f;
    f.patient_id = std::move(patient_id);
    f.count = 1000;
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<store::AuditRow>{};
  }

  // The patient consents at the card reader of at's facility (access::ConsentService, the real
  // path): a card key is registered for the patient on first use.
  void Consent(const std::string& patient_id, const Principal& at,
               std::vector<std::string> categories = {"all"}) {
    auto& key = card_keys_[patient_id];
    if (!key) {
      key = std::make_unique<auth::KeyPair>(auth::testkeys::MakeKey("ES256"));
      Status s = store::RunInTransaction(
          *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
            return tx.PutKey(
                auth::testkeys::RecordFor(*key, "patient", patient_id, "card-" + patient_id));
          });
      ASSERT_TRUE(s.ok()) << s.error().ToString();
    }
    auto jws = auth::SignCardAssertion(*key, "card-" + patient_id, patient_id, at.facility_code,
                                       "TREAT", categories, clock_.Now());
    ASSERT_TRUE(jws.ok()) << jws.error().ToString();
    auto consent = consents_->RecordCardConsent(at, *jws);
    ASSERT_TRUE(consent.ok()) << consent.error().ToString();
  }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'795'000'000))};
  std::unique_ptr<auth::CardVerifier> cards_;
  std::unique_ptr<access::ConsentService> consents_;
  std::map<std::string, std::unique_ptr<auth::KeyPair>> card_keys_;
  std::unique_ptr<renkei::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ResourceService> service_;
  RouteTable routes_;
};

inline std::string EngineParamName(const ::testing::TestParamInfo<Engine>& info) {
  return renkei::testing::EngineName(info.param);
}

}  // namespace renkei::registry::testing
