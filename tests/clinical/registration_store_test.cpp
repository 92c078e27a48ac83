// Storage of registrations on both engines: replacement by bundle identifier, deletion by a
// Patient-only bundle, and all or nothing when the unit of work fails.
#include "clinical/registration_store.h"

#include <gtest/gtest.h>

#include <set>

#include "clinical_test_files.h"
#include "support/test_db.h"

namespace renkei::clinical {
namespace {

using renkei::testing::AllEngines;
using renkei::testing::Engine;
using renkei::testing::EngineName;
using renkei::testing::MakeTestStore;
using testing::ReadObject;
using testing::TestDir;

RegistrationBundle Validated(const char* name) {
  auto r = ValidateRegistrationBundle(
      ReadObject(TestDir() / "valid" / (std::string(name) + ".json")), "1310000011");
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return std::move(r).value();
}

TimePoint At(const char* text) {
  return *ParseDateTime(text);
}

class RegistrationStore : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { store_ = MakeTestStore(GetParam()); }

  RegistrationOutcome Apply(const RegistrationBundle& b, const char* patient, const char* when) {
    auto out = store::RunInTransactionWithResult<RegistrationOutcome>(
        *store_, store::TxMode::kWrite,
        [&](store::Transaction& tx) { return ApplyRegistration(tx, b, patient, At(when)); });
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    return out.ok() ? std::move(out).value() : RegistrationOutcome{};
  }

  std::vector<store::ResourceRow> Registered(std::string_view identifier) {
    auto rows = store::RunInTransactionWithResult<std::vector<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return FindRegistered(tx, identifier); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? std::move(rows).value() : std::vector<store::ResourceRow>{};
  }

  std::optional<store::ResourceRow> Read(std::string_view type, std::string_view id) {
    auto row = store::RunInTransactionWithResult<std::optional<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ReadCurrent(type, id); });
    EXPECT_TRUE(row.ok());
    return row.ok() ? *row : std::nullopt;
  }

  size_t Count(const store::Criterion& criterion, const char* type = "Condition") {
    store::SearchQuery q;
    q.type = type;
    q.criteria.push_back(criterion);
    auto page = store::RunInTransactionWithResult<store::SearchPage>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.Search(q); });
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->rows.size() : 0;
  }

  std::unique_ptr<store::Store> store_;
};

TEST_P(RegistrationStore, RegistersEveryItemWithItsTerms) {
  RegistrationBundle b = Validated("condition");
  RegistrationOutcome out = Apply(b, "pat-000001", "2025-06-01T01:00:00Z");
  EXPECT_EQ(out.removed, 0u);
  ASSERT_EQ(out.ids.size(), 3u);
  EXPECT_EQ(Registered(b.identifier.value).size(), 3u);

  auto row = Read("Condition", out.ids[0]);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->patient_id, "pat-000001");
  auto stored = json::ParseObject(row->json, Limits{});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(json::GetString(*json::GetObject(*stored, "subject"), "reference"),
            "Patient/pat-000001");
  EXPECT_EQ(json::GetString(*stored, "id"), out.ids[0]);

  // The visibility terms of the access policy: category and flags, and the own facility.
  EXPECT_EQ(Count({"visibility", store::MatchOp::kEq, false, "", {"diagnoses:0"}}), 1u);  // LTS
  EXPECT_EQ(Count({"visibility", store::MatchOp::kEq, false, "", {"diagnoses:1"}}), 1u);
  EXPECT_EQ(Count({"visibility", store::MatchOp::kEq, false, "", {"diagnoses:2"}}), 1u);
  EXPECT_EQ(Count({"visibility", store::MatchOp::kEq, false, "", {"own:1310000011:diagnoses"}}),
            3u);
  EXPECT_EQ(Count({"_tag",
                   store::MatchOp::kEq,
                   true,
                   "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication",
                   {"UNINFORMED"}}),
            1u);
  EXPECT_EQ(Count({"code",
                   store::MatchOp::kEq,
                   true,
                   "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
                   {"20058911"}}),
            1u);
  EXPECT_EQ(Count({"date", store::MatchOp::kGe, false, "", {"2024-01-01T00:00:00.000Z"}}), 2u);
}

TEST_P(RegistrationStore, SameIdentifierReplacesEverything) {
  RegistrationBundle first = Validated("condition");
  RegistrationOutcome a = Apply(first, "pat-000001", "2025-06-01T01:00:00Z");
  // Another identifier of the same patient is not touched by the replacement.
  RegistrationBundle other = Validated("allergy");
  Apply(other, "pat-000001", "2025-06-01T01:00:00Z");

  RegistrationBundle second = Validated("condition");
  second.resources.pop_back();
  RegistrationOutcome b = Apply(second, "pat-000001", "2025-06-02T01:00:00Z");
  EXPECT_EQ(b.removed, 3u);
  EXPECT_EQ(b.ids.size(), 2u);
  EXPECT_EQ(Registered(first.identifier.value).size(), 2u);
  EXPECT_EQ(Registered(other.identifier.value).size(), 5u);
  for (const auto& id : a.ids) {
    auto old = Read("Condition", id);
    ASSERT_TRUE(old.has_value());
    EXPECT_TRUE(old->deleted) << "a replaced item answers 410";
    // What the identifier replaced is deleted, not kept as history.
    auto first_version = store::RunInTransactionWithResult<std::optional<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ReadVersion("Condition", id, 1); });
    ASSERT_TRUE(first_version.ok());
    EXPECT_FALSE(first_version->has_value());
  }
}

TEST_P(RegistrationStore, PatientOnlyBundleDeletesTheIdentifier) {
  Apply(Validated("condition"), "pat-000001", "2025-06-01T01:00:00Z");
  RegistrationBundle deletion = Validated("deletion");
  ASSERT_TRUE(deletion.is_deletion());
  RegistrationOutcome out = Apply(deletion, "pat-000001", "2025-06-03T01:00:00Z");
  EXPECT_EQ(out.removed, 3u);
  EXPECT_TRUE(out.ids.empty());
  EXPECT_TRUE(Registered(deletion.identifier.value).empty());
  EXPECT_EQ(Count({"visibility", store::MatchOp::kEq, false, "", {"own:1310000011:diagnoses"}}),
            0u);
}

TEST_P(RegistrationStore, AllOrNothingWhenTheUnitOfWorkFails) {
  RegistrationBundle first = Validated("condition");
  RegistrationOutcome a = Apply(first, "pat-000001", "2025-06-01T01:00:00Z");
  RegistrationBundle second = Validated("condition");
  // The replacement succeeds, then a later step of the same unit of work (the audit entry,
  // say) fails: nothing of the replacement may remain.
  Status s = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_TRY(ApplyRegistration(tx, second, "pat-000001", At("2025-06-02T01:00:00Z")));
        return Error(ErrorCode::kInternal, "a later step failed");
      });
  ASSERT_FALSE(s.ok());
  auto rows = Registered(first.identifier.value);
  ASSERT_EQ(rows.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : rows) ids.insert(r.id);
  EXPECT_EQ(ids, std::set<std::string>(a.ids.begin(), a.ids.end()));
}

INSTANTIATE_TEST_SUITE_P(Engines, RegistrationStore, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace renkei::clinical
