// The document service fixture shared by the document tests: real SQLite and PostgreSQL
// stores, a real blob directory, a simulated clock, and the handlers called without sockets.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "access/consent_resource.h"
#include "auth/jws.h"
#include "auth/test_keys.h"
#include "clinical/document_service.h"
#include "clinical/item_service.h"
#include "clinical_test_files.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/text.h"
#include "fhir/jp_systems.h"
#include "support/test_db.h"

namespace renkei::clinical {

namespace fs = std::filesystem;
using renkei::testing::AllEngines;
using renkei::testing::Engine;
using renkei::testing::EngineName;
using testing::ExamplesDir;
using testing::ReadObject;
using testing::ReadText;
using testing::TestDir;

inline const TimePoint kNow = *ParseDateTime("2026-03-10T01:00:00Z");
constexpr std::string_view kHospital = "1310000011";  // the referral's author
constexpr std::string_view kClinic = "1310000029";    // its addressee
constexpr std::string_view kOsaka = "2710000017";     // a third facility
constexpr std::string_view kCheckupFacility = "1311234567";
constexpr std::string_view kCheckupInsurer = "06123456";
constexpr std::string_view kReferralMember = "01130012:ほけん:１２３４:01";
// The checkup example names its person on the insurance Coverage (full-width symbol/number).
constexpr std::string_view kCheckupMember = "06123456:１２３４５:６７８９０:01";

inline Principal Staff(std::string_view code, FacilityType type, Qualification q) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = fmt::format("prac-{}-{}", code, ToString(q));
  p.practitioner_id = p.subject;
  p.facility_code = std::string(code);
  p.facility_type = type;
  p.prefecture = std::string(code.substr(0, 2));
  p.qualification = q;
  return p;
}

inline Principal PatientPrincipal(std::string_view id) {
  Principal p;
  p.kind = PrincipalKind::kPatient;
  p.subject = std::string(id);
  return p;
}

inline Principal Insurer(std::string_view code) {
  Principal p = Staff(code, FacilityType::kInsurer, Qualification::kClerk);
  return p;
}

// The referral letter test instance with a valid discharge summary as its FHIR attachment.
inline std::string ReferralWithSummary() {
  json::object b = ReadObject(TestDir() / "documents" / "referral.json");
  std::string summary = ReadText(TestDir() / "documents" / "discharge-summary.json");
  b["entry"]
      .as_array()[9]
      .as_object()["resource"]
      .as_object()["content"]
      .as_array()[0]
      .as_object()["attachment"]
      .as_object()["data"] = crypto::Base64Encode(summary);
  return json::Serialize(b);
}

class DocumentServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    dir_ = fs::temp_directory_path() / ("renkei-docs-" + std::to_string(std::random_device{}()));
    auto blobs = BlobStore::Open(dir_ / "blobs");
    ASSERT_TRUE(blobs.ok()) << blobs.error().ToString();
    blobs_ = std::move(blobs).value();
    service_ = std::make_unique<DocumentService>(*store_, *audit_, *blobs_, clock_);
    routes_ = service_->Routes();
    AddPatient("pat-1", kReferralMember);
    AddPatient("pat-2", kCheckupMember);
  }
  void TearDown() override {
    service_.reset();
    audit_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void AddPatient(std::string_view id, std::string_view member) {
    json::object p{{"resourceType", "Patient"},
                   {"id", id},
                   {"identifier", json::array{json::object{{"system", fhir::kMemberIdSystem},
                                                           {"value", member}}}}};
    store::ResourceRow row{"Patient",       std::string(id),   0, clock_.Now(), false,
                           std::string(id), json::Serialize(p)};
    std::vector<store::IndexTerm> terms{
        {"identifier", std::string(fhir::kMemberIdSystem), text::SearchKey(member)}};
    ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite,
                                        [&](store::Transaction& tx) -> Status {
                                          RK_TRY(tx.WriteResource(row, terms, std::nullopt));
                                          return Ok();
                                        })
                    .ok());
  }

  // A card consent at facility for groups, signed now.
  void Consent(std::string_view patient, std::string_view facility, uint8_t groups) {
    access::CardConsent c;
    c.facility_code = std::string(facility);
    c.groups = groups;
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
    ASSERT_TRUE(
        store::RunInTransaction(*store_, store::TxMode::kWrite,
                                [&](store::Transaction& tx) -> Status {
                                  RK_TRY(tx.WriteResource(
                                      row, access::ConsentIndexTerms(c, patient), int64_t{0}));
                                  return Ok();
                                })
            .ok());
  }

  using Headers = std::vector<std::pair<std::string, std::string>>;
  using Query = std::vector<std::pair<std::string, std::string>>;
  Response Call(Method method, std::string_view pattern, const Principal& who, std::string id = "",
                std::string body = "", Headers headers = {}, Query query = {}) {
    for (Route& r : routes_) {
      if (r.pattern != pattern || r.method != method) continue;
      Request req;
      req.method = r.method;
      req.path = std::string(pattern);
      if (!id.empty()) {
        req.path_params["id"] = id;
        req.path.replace(req.path.find("{id}"), 4, id);
      }
      if (!body.empty()) req.headers["content-type"] = "application/fhir+json";
      for (auto& [k, v] : headers) req.headers[k] = v;
      req.query = std::move(query);
      req.body = std::move(body);
      req.principal = who;
      req.base_url = "http://127.0.0.1:8080";
      return r.handler(req);
    }
    ADD_FAILURE() << "no route " << pattern;
    return {};
  }
  Response Submit(const Principal& who, std::string body, Headers headers = {}) {
    return Call(Method::kPost, "/fhir/Bundle/$submit-document", who, "", std::move(body),
                std::move(headers));
  }
  Response Read(const Principal& who, std::string_view id, Headers headers = {}) {
    return Call(Method::kGet, "/fhir/Bundle/{id}", who, std::string(id), "", std::move(headers));
  }
  Response Receipt(const Principal& who, std::string_view id) {
    return Call(Method::kGet, "/fhir/Bundle/{id}/$receipt", who, std::string(id));
  }
  Response List(const Principal& who, Query query, Headers headers = {}) {
    return Call(Method::kGet, "/fhir/DocumentReference", who, "", "", std::move(headers),
                std::move(query));
  }

  static json::object Body(const Response& r) {
    auto o = json::ParseObject(r.body, Limits{});
    EXPECT_TRUE(o.ok()) << r.body;
    return o.ok() ? *o : json::object{};
  }
  // Submits the referral (201) and returns its id.
  std::string SendReferral(Headers headers = {}) {
    Response r = Submit(hospital_, ReferralWithSummary(), std::move(headers));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::GetString(Body(r), "id").value_or(""));
  }
  // The entries' DocumentReferences of a searchset.
  static std::vector<json::object> Listed(const Response& r) {
    std::vector<json::object> out;
    json::object b = Body(r);
    if (const json::array* entries = json::GetArray(b, "entry")) {
      for (const auto& e : *entries) out.push_back(e.at("resource").as_object());
    }
    return out;
  }
  static std::string Delivery(const json::object& ref, std::string_view url) {
    for (const auto& part : ref.at("extension").at(0).at("extension").as_array()) {
      if (part.at("url").as_string() != url) continue;
      if (auto s = json::GetString(part.as_object(), "valueString")) return std::string(*s);
      if (auto b = json::GetBool(part.as_object(), "valueBoolean")) return *b ? "true" : "false";
    }
    return "";
  }
  static std::string Param(const json::object& params, std::string_view name) {
    for (const auto& p : params.at("parameter").as_array()) {
      if (p.at("name").as_string() != name) continue;
      for (auto key : {"valueCode", "valueInstant", "valueString"}) {
        if (auto v = json::GetString(p.as_object(), key)) return std::string(*v);
      }
    }
    return "";
  }
  std::vector<store::AuditRow> AuditOf(std::string_view patient) {
    store::AuditFilter f;
    f.patient_id = std::string(patient);
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }
  std::optional<store::ResourceRow> Row(std::string_view type, std::string_view id) {
    auto row = store::RunInTransactionWithResult<std::optional<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ReadCurrent(type, id); });
    EXPECT_TRUE(row.ok());
    return row.ok() ? *row : std::nullopt;
  }
  size_t Count(std::string_view type, store::Criterion c) {
    store::SearchQuery q;
    q.type = std::string(type);
    q.criteria.push_back(std::move(c));
    auto page = store::RunInTransactionWithResult<store::SearchPage>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.Search(q); });
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->rows.size() : 0;
  }

  ManualClock clock_{kNow};
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<DocumentService> service_;
  RouteTable routes_;

  const Principal hospital_ = Staff(kHospital, FacilityType::kHospital, Qualification::kPhysician);
  const Principal clinic_ = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician);
  const Principal clinic_clerk_ = Staff(kClinic, FacilityType::kClinic, Qualification::kClerk);
  const Principal osaka_ = Staff(kOsaka, FacilityType::kHospital, Qualification::kPhysician);
  const Principal checkup_doctor_ =
      Staff(kCheckupFacility, FacilityType::kClinic, Qualification::kPhysician);
};

}  // namespace renkei::clinical
