// A store on one engine with the access services, their routes, a card key for pat-1 and
// pat-2, and helpers to call routes, load facts and decide; shared by the store-backed tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "access/access_routes.h"
#include "access/consent_service.h"
#include "access/decision.h"
#include "access/facts_service.h"
#include "access/facts_store.h"
#include "audit/audit_log.h"
#include "auth/card.h"
#include "auth/test_keys.h"
#include "core/json.h"
#include "support/test_db.h"

namespace renkei::access::testing {

using renkei::testing::Engine;
using std::chrono::hours;
using std::chrono::minutes;

inline const TimePoint kStart = *ParseDateTime("2026-03-01T09:00:00Z");
inline constexpr std::string_view kHospital = "1310000011";
inline constexpr std::string_view kClinic = "1310000029";

inline Principal Staff(std::string_view code, FacilityType type, Qualification q) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = "prac-" + std::string(code) + "-" + std::string(ToString(q));
  p.practitioner_id = p.subject;
  p.facility_code = std::string(code);
  p.facility_type = type;
  p.prefecture = "13";
  p.emergency_hospital = type == FacilityType::kHospital;
  p.qualification = q;
  return p;
}

inline Principal PatientPrincipal(std::string_view id) {
  Principal p;
  p.kind = PrincipalKind::kPatient;
  p.subject = std::string(id);
  return p;
}

class AccessStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    cards_ = std::make_unique<auth::CardVerifier>(*store_, clock_);
    service_ = std::make_unique<ConsentService>(*store_, *audit_, *cards_, clock_);
    facts_service_ = std::make_unique<FactsService>(*store_, *audit_, clock_);
    history_ = std::make_unique<AccessHistoryService>(*store_, *audit_, clock_);
    routes_ = AccessRoutes(*service_, *facts_service_, *history_);
    card_ = auth::testkeys::MakeKey("ES256");
    other_card_ = auth::testkeys::MakeKey("ES256");
    Status s = store::RunInTransaction(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          RK_TRY(tx.PutKey(auth::testkeys::RecordFor(card_, "patient", "pat-1", "card-1")));
          return tx.PutKey(auth::testkeys::RecordFor(other_card_, "patient", "pat-2", "card-2"));
        });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  std::string Sign(std::string_view facility, std::vector<std::string> categories = {"all"},
                   std::string_view purpose = "TREAT", std::string_view patient = "pat-1") {
    const auth::KeyPair& key = patient == "pat-1" ? card_ : other_card_;
    auto jws = auth::SignCardAssertion(key, patient == "pat-1" ? "card-1" : "card-2", patient,
                                       facility, purpose, categories, clock_.Now());
    EXPECT_TRUE(jws.ok()) << jws.error().ToString();
    return jws.ok() ? *jws : "";
  }

  static std::string Body(std::string_view jws) {
    return json::Serialize(json::object{
        {"resourceType", "Parameters"},
        {"parameter", json::array{json::object{{"name", "card"}, {"valueString", jws}}}}});
  }

  using Query = std::vector<std::pair<std::string, std::string>>;
  // Calls the handler of the route with this pattern, as the router would after matching.
  Response Call(std::string_view pattern, const Principal& who, std::string body,
                std::string id = "", std::string content_type = "application/fhir+json",
                Query query = {}) {
    for (Route& r : routes_) {
      if (r.pattern != pattern) continue;
      Request req;
      req.method = r.method;
      req.path = std::string(pattern);
      req.query = std::move(query);
      if (!id.empty()) req.path_params["id"] = id;
      req.headers["content-type"] = content_type;
      req.body = std::move(body);
      req.principal = who;
      req.base_url = "http://127.0.0.1:8080";
      return r.handler(req);
    }
    ADD_FAILURE() << "no route " << pattern;
    return {};
  }

  Response PostCard(const Principal& who, std::string_view jws) {
    return Call("/fhir/Consent/$card", who, Body(jws));
  }

  AccessFacts Facts(std::string_view patient = "pat-1") {
    auto facts = store::RunInTransactionWithResult<AccessFacts>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return LoadFacts(tx, patient, clock_.Now()); });
    EXPECT_TRUE(facts.ok()) << facts.error().ToString();
    return facts.ok() ? *facts : AccessFacts{};
  }

  // The decision for a physician of `who`'s facility reading an item registered elsewhere.
  Decision DecideFor(const Principal& who, Category category, std::string_view patient = "pat-1") {
    AccessRequest r;
    r.actor.facility_code = who.facility_code;
    r.actor.facility_type = who.facility_type;
    r.actor.prefecture = who.prefecture;
    r.actor.emergency_hospital = who.emergency_hospital;
    r.actor.qualification = Qualification::kPhysician;
    r.patient_id = patient;
    r.item.category = category;
    r.item.item_id = "Condition/c1";
    r.item.registering_facility = "2710000017";
    r.purpose.purpose = Purpose::kTreat;
    return Decide(r, Facts(patient));
  }

  std::vector<store::AuditRow> AuditOf(std::string_view patient) {
    store::AuditFilter f;
    f.patient_id = std::string(patient);
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<auth::CardVerifier> cards_;
  std::unique_ptr<ConsentService> service_;
  std::unique_ptr<FactsService> facts_service_;
  std::unique_ptr<AccessHistoryService> history_;
  RouteTable routes_;
  auth::KeyPair card_, other_card_;
  Principal physician_ = Staff(kHospital, FacilityType::kHospital, Qualification::kPhysician);
};

}  // namespace renkei::access::testing
