// A store with the registry kinds, an audit log, a card verifier and the eligibility service,
// on a fresh database of one engine; helpers to build principals, NDJSON loads and requests.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "auth/card.h"
#include "eligibility/eligibility_service.h"
#include "registry/registry_kinds.h"
#include "registry/resource_service.h"
#include "support/test_db.h"

namespace renkei::eligibility::testing {

using renkei::testing::Engine;

inline constexpr std::string_view kInsurer = "06139999";
inline constexpr std::string_view kOtherInsurer = "06130001";
inline constexpr std::string_view kClinicCode = "1310000001";

inline Principal Staff(FacilityType type, Qualification q,
                       std::string code = std::string(kClinicCode)) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.subject = "prac-" + std::string(ToString(q));
  p.practitioner_id = p.subject;
  p.facility_code = std::move(code);
  p.facility_type = type;
  p.qualification = q;
  return p;
}

inline Principal Insurer(std::string_view number = kInsurer) {
  Principal p;
  p.kind = PrincipalKind::kSystem;
  p.subject = "insurer-client";
  p.facility_code = std::string(number);
  p.facility_type = FacilityType::kInsurer;
  return p;
}

inline Principal Ministry() {
  Principal p;
  p.kind = PrincipalKind::kSystem;
  p.subject = "ministry-client";
  p.facility_code = "0000000001";
  p.facility_type = FacilityType::kMinistry;
  return p;
}

inline std::string MemberId(std::string_view insurer, std::string_view symbol,
                            std::string_view number, std::string_view branch) {
  return fmt::format("{}:{}:{}:{}", insurer, symbol, number, branch);
}

inline std::string PatientLine(std::string_view member, std::string_view family,
                               std::string_view birth = "1980-01-02") {
  return fmt::format(
      R"({{"resourceType":"Patient","identifier":[{{"system":"{}","value":"{}"}}],)"
      R"("name":[{{"family":"{}","given":["太郎"]}}],"gender":"male","birthDate":"{}"}})",
      kMemberIdSystem, member, family, birth);
}

// A Coverage whose beneficiary is given by the insured-person identifier (logical reference).
inline std::string CoverageLine(std::string_view member, std::string_view start,
                                std::string_view end, std::string_view status = "active",
                                std::string_view beneficiary_member = "") {
  std::string period = end.empty() ? fmt::format(R"({{"start":"{}"}})", start)
                                   : fmt::format(R"({{"start":"{}","end":"{}"}})", start, end);
  return fmt::format(
      R"({{"resourceType":"Coverage","identifier":[{{"system":"{0}","value":"{1}"}}],)"
      R"("status":"{2}","beneficiary":{{"identifier":{{"system":"{0}","value":"{3}"}}}},)"
      R"("payor":[{{"identifier":{{"system":"urn:oid:1.2.392.100495.20.3.61","value":"{4}"}}}}],)"
      R"("period":{5}}})",
      kMemberIdSystem, member, status, beneficiary_member.empty() ? member : beneficiary_member,
      member.substr(0, 8), period);
}

class EligibilityFixture : public ::testing::TestWithParam<Engine> {
 protected:
  // 2026-04-10 12:00 in Japan.
  static constexpr TimePoint kNow =
      TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 4 / 10)) + std::chrono::hours(3);

  void SetUp() override {
    db_ = renkei::testing::MakeTestDatabase(GetParam());
    auto opened = store::Open(db_->url(), 8);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->Migrate().ok());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    cards_ = std::make_unique<auth::CardVerifier>(*store_, clock_, std::chrono::seconds(300));
    registry_ = std::make_unique<registry::ResourceService>(*store_, *audit_, clock_, Limits{},
                                                            registry::RegistryKinds());
    service_ = std::make_unique<EligibilityService>(*store_, *audit_, *cards_, clock_);
    RegisterInsurer(kInsurer);
    RegisterInsurer(kOtherInsurer);
  }

  void TearDown() override {
    service_.reset();
    registry_.reset();
    cards_.reset();
    audit_.reset();
    store_.reset();
    db_.reset();
  }

  void RegisterInsurer(std::string_view number) {
    auto org = json::ParseObject(
        fmt::format(R"({{"resourceType":"Organization","name":"健康保険組合 {}",)"
                    R"("identifier":[{{"system":"urn:oid:1.2.392.100495.20.3.61","value":"{}"}}],)"
                    R"("type":[{{"coding":[{{"system":"http://renkei.jp/fhir/CodeSystem/)"
                    R"(facility-type","code":"insurer"}}]}}]}})",
                    number, number),
        Limits{});
    ASSERT_TRUE(org.ok());
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
      auto id = registry_->CreateInTransaction(tx, Ministry(), *org);
      if (!id.ok()) return Status(std::move(id).error());
      return Ok();
    });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  // Loads lines as the insurer kInsurer; fails the test when the load fails.
  ImportSummary MustImport(const std::vector<std::string>& lines) {
    std::string body;
    for (const auto& l : lines) body += l + "\n";
    auto r = service_->Import(Insurer(), body);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : ImportSummary{};
  }

  // The id of the current Patient holding member (the insured-person identifier).
  std::string PatientIdOf(std::string_view member) {
    auto n = ParseMemberId(member);
    EXPECT_TRUE(n.has_value());
    store::SearchQuery q;
    q.type = "Patient";
    q.criteria.push_back(
        {"identifier", store::MatchOp::kEq, true, std::string(kMemberIdSystem), {MemberIdKey(*n)}});
    auto page = store::RunInTransactionWithResult<store::SearchPage>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.Search(q); });
    EXPECT_TRUE(page.ok());
    return page.ok() && !page->rows.empty() ? page->rows[0].id : std::string();
  }

  int64_t CountOf(std::string_view type) {
    store::SearchQuery q;
    q.type = std::string(type);
    q.count = 1;
    q.include_total = true;
    auto page = store::RunInTransactionWithResult<store::SearchPage>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.Search(q); });
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->total.value_or(-1) : -1;
  }

  store::AuditRow LastAudit() {
    store::AuditFilter f;
    f.count = 1;
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0] : store::AuditRow{};
  }

  std::unique_ptr<renkei::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{kNow};
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<auth::CardVerifier> cards_;
  std::unique_ptr<registry::ResourceService> registry_;
  std::unique_ptr<EligibilityService> service_;
};

inline std::string EngineParamName(const ::testing::TestParamInfo<Engine>& info) {
  return renkei::testing::EngineName(info.param);
}

}  // namespace renkei::eligibility::testing
