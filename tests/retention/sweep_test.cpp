// The sweeper on SQLite and PostgreSQL with a simulated clock: registered items (built with
// clinical::ApplyRegistration from the golden bundles), documents and their prescriptions
// (rows written as the document store writes them), each rule just before and at its boundary,
// one audit entry per deletion, idempotence, and the release of attachment files.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "clinical/clinical_test_files.h"
#include "clinical/document_store.h"
#include "clinical/registration_store.h"
#include "sweep_fixture.h"

namespace renkei::retention {
namespace {

using renkei::testing::AllEngines;
using renkei::testing::Engine;
using renkei::testing::EngineName;
using std::chrono::days;
using std::chrono::seconds;
using testing::At;

json::object Golden(const char* name) {
  return clinical::testing::ReadObject(clinical::testing::TestDir() / "valid" /
                                       (std::string(name) + ".json"));
}

json::object& Resource(json::object& bundle, size_t entry) {
  return bundle["entry"].as_array()[entry].as_object()["resource"].as_object();
}

// The bundle with its Patient and the given entries only.
json::object Only(json::object bundle, std::vector<size_t> entries) {
  json::array& all = bundle["entry"].as_array();
  json::array kept{all[0]};
  for (size_t i : entries) kept.push_back(all[i]);
  bundle["entry"] = std::move(kept);
  return bundle;
}

void DropFlags(json::object& resource) {
  if (!json::GetObject(resource, "meta")) return;
  resource["meta"].as_object().erase("tag");
  if (resource["meta"].as_object().empty()) resource.erase("meta");
}

class ItemSweep : public testing::SweepTest {
 protected:
  // Registers bundle under identifier for patient at when; the stored ids in entry order.
  std::vector<std::string> Register(json::object bundle, const std::string& identifier,
                                    const std::string& patient, TimePoint when) {
    bundle["identifier"].as_object()["value"] = identifier;
    auto valid = clinical::ValidateRegistrationBundle(bundle, "1310000011");
    EXPECT_TRUE(valid.ok()) << valid.error().ToString();
    if (!valid.ok()) return {};
    auto out = store::RunInTransactionWithResult<clinical::RegistrationOutcome>(
        *store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
          return clinical::ApplyRegistration(tx, *valid, patient, when);
        });
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    return out.ok() ? out->ids : std::vector<std::string>{};
  }

  std::string RegisterLab(const std::string& patient, const char* effective, int n,
                          size_t entry = 1) {
    json::object b = Only(Golden("observation"), {entry});
    Resource(b, 1)["effectiveDateTime"] = effective;
    auto ids = Register(b, "1310000011^2026^lab-" + patient + "-" + std::to_string(n), patient,
                        At("2026-03-16T00:00:00Z"));
    return ids.empty() ? "" : ids[0];
  }
};

TEST_P(ItemSweep, ItemsGoFiveYearsAfterRegistrationUnlessFlaggedLts) {
  const TimePoint t0 = At("2020-06-01T01:00:00Z");
  auto conditions = Register(Golden("condition"), "1310000011^2020^cond-1", "pat-a", t0);
  auto allergies = Register(Golden("allergy"), "1310000011^2020^alg-1", "pat-a", t0);
  json::object infection = Only(Golden("observation"), {2});
  DropFlags(Resource(infection, 1));
  auto infections = Register(infection, "1310000011^2020^inf-1", "pat-a", t0);
  auto infections_lts =
      Register(Only(Golden("observation"), {2}), "1310000011^2020^inf-2", "pat-a", t0);
  auto younger = Register(Golden("condition"), "1310000011^2020^cond-2", "pat-b", t0 + days(10));
  ASSERT_EQ(conditions.size(), 3u);
  ASSERT_EQ(allergies.size(), 5u);
  ASSERT_EQ(infections.size(), 1u);
  ASSERT_EQ(infections_lts.size(), 1u);

  const TimePoint boundary = At("2025-06-01T01:00:00Z");
  EXPECT_EQ(Run(boundary - seconds(1)).deleted, 0);
  EXPECT_TRUE(Deletions().empty());

  SweepReport report = Run(boundary);
  EXPECT_EQ(report.deleted, 7);
  EXPECT_EQ(report.Deleted("Condition", Rule::kItemFiveYears), 2);
  EXPECT_EQ(report.Deleted("AllergyIntolerance", Rule::kItemFiveYears), 4);
  EXPECT_EQ(report.Deleted("Observation", Rule::kItemFiveYears), 1);
  EXPECT_TRUE(report.complete);
  // c1 (UNINFORMED) and c3 go; c2 carries LTS.
  EXPECT_TRUE(Deleted("Condition", conditions[0]));
  EXPECT_FALSE(Deleted("Condition", conditions[1]));
  EXPECT_TRUE(Deleted("Condition", conditions[2]));
  EXPECT_FALSE(Deleted("AllergyIntolerance", allergies[0]));  // LTS
  for (size_t i = 1; i < allergies.size(); ++i) {
    EXPECT_TRUE(Deleted("AllergyIntolerance", allergies[i]));
  }
  EXPECT_TRUE(Deleted("Observation", infections[0]));
  EXPECT_FALSE(Deleted("Observation", infections_lts[0]));
  for (const auto& id : younger) EXPECT_FALSE(Deleted("Condition", id));
  // A tombstone: a deleted version with no content.
  auto row = Read("Condition", conditions[0]);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->json.empty());
  EXPECT_EQ(row->version, 2);
  // ... and nothing of the content left in the history.
  EXPECT_FALSE(ReadVersion("Condition", conditions[0], 1).has_value());

  // One audit entry per deleted record, naming the rule, the type and the id.
  auto entries = Deletions();
  ASSERT_EQ(entries.size(), 7u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.patient_id, "pat-a");
    EXPECT_EQ(e.purpose, "HOPERAT");
    EXPECT_EQ(e.qualification, "system");
    EXPECT_EQ(e.outcome, "success");
    auto detail = json::ParseObject(e.detail, Limits{});
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(json::GetString(*detail, "rule"), "item-5y");
    EXPECT_EQ(json::GetString(*detail, "type"), e.category);
    auto id = std::string(json::GetString(*detail, "id").value_or(""));
    EXPECT_TRUE(Deleted(e.category, id)) << e.category << "/" << id;
  }
  auto verified = audit::Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;

  // A second run finds nothing more.
  EXPECT_EQ(Run(boundary + days(1)).deleted, 0);
  EXPECT_EQ(Deletions().size(), 7u);

  // "Longer with LTS": the facility re-sends the diagnoses without the flag; they then keep
  // their 5 years from that registration.
  json::object resent = Golden("condition");
  DropFlags(Resource(resent, 2));
  const TimePoint t1 = boundary + days(2);
  auto replaced = Register(resent, "1310000011^2020^cond-1", "pat-a", t1);
  ASSERT_EQ(replaced.size(), 3u);
  EXPECT_TRUE(Deleted("Condition", conditions[1]));  // replaced by the re-sent bundle
  report = Run(t1 + days(365));
  EXPECT_EQ(report.Deleted("Condition", Rule::kItemFiveYears), 2);  // pat-b's, 10 days younger
  for (const auto& id : replaced) EXPECT_FALSE(Deleted("Condition", id));
  report = Run(At("2030-06-03T01:00:00Z"));
  EXPECT_EQ(report.Deleted("Condition", Rule::kItemFiveYears), 3);
  for (const auto& id : replaced) EXPECT_TRUE(Deleted("Condition", id));
}

TEST_P(ItemSweep, LabResultsKeepOneYearAndTheLastThreePerItem) {
  // Patient A, one item (albumin, JLAC 3A015...): one result of the last year, four older.
  const std::string e1 = RegisterLab("a", "2026-03-15T09:30:00+09:00", 1);
  const std::string e2 = RegisterLab("a", "2025-10-01T09:30:00+09:00", 2);
  const std::string e3 = RegisterLab("a", "2025-08-01T09:30:00+09:00", 3);
  const std::string e4 = RegisterLab("a", "2025-04-01T09:30:00+09:00", 4);
  const std::string e5 = RegisterLab("a", "2024-12-01T09:30:00+09:00", 5);
  // The same patient's other item (local code only: the JLAC code is the placeholder).
  const std::string other_item = RegisterLab("a", "2024-01-10T09:30:00+09:00", 6, 3);
  // Another patient, two old results of the same item.
  const std::string b1 = RegisterLab("b", "2024-06-01T09:30:00+09:00", 1);
  const std::string b2 = RegisterLab("b", "2024-07-01T09:30:00+09:00", 2);
  // An old infection result of patient A (5-year rule, not the lab rule).
  json::object infection = Only(Golden("observation"), {2});
  DropFlags(Resource(infection, 1));
  Resource(infection, 1)["effectiveDateTime"] = "2023-01-01T09:30:00+09:00";
  auto inf = Register(infection, "1310000011^2026^inf-a", "a", At("2026-03-16T00:00:00Z"));
  ASSERT_EQ(inf.size(), 1u);

  // Just before e4's year is over: only e5 (the 5th newest, a year old) goes.
  const TimePoint boundary = At("2026-04-01T09:30:00+09:00");
  SweepReport report = Run(boundary - seconds(1));
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(report.Deleted("Observation", Rule::kLabOneYear), 1);
  EXPECT_TRUE(Deleted("Observation", e5));
  EXPECT_FALSE(Deleted("Observation", e4));
  // At it, e4 (4th newest) goes: the 3 newest stay.
  report = Run(boundary);
  EXPECT_EQ(report.deleted, 1);
  EXPECT_TRUE(Deleted("Observation", e4));
  for (const auto& id : {e1, e2, e3, other_item, b1, b2, inf[0]}) {
    EXPECT_FALSE(Deleted("Observation", id)) << id;
  }
  // Years later the last 3 of each item still stay.
  EXPECT_EQ(Run(At("2029-01-01T00:00:00Z")).deleted, 0);
  auto entries = Deletions();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.patient_id, "a");
    EXPECT_NE(e.detail.find("lab-1y-last-3"), std::string::npos);
  }
}

TEST_P(ItemSweep, UndatedLabResultsCountFromTheirRegistration) {
  std::vector<std::string> ids;
  for (const char* when : {"2024-01-01T03:00:00Z", "2024-02-01T03:00:00Z", "2024-03-01T03:00:00Z",
                           "2024-04-01T03:00:00Z"}) {
    json::object b = Only(Golden("observation"), {1});
    Resource(b, 1).erase("effectiveDateTime");
    auto registered =
        Register(b, "1310000011^2024^undated-" + std::to_string(ids.size()), "pat-c", At(when));
    ASSERT_EQ(registered.size(), 1u);
    ids.push_back(registered[0]);
  }
  const TimePoint boundary = At("2025-01-01T03:00:00Z");
  EXPECT_EQ(Run(boundary - seconds(1)).deleted, 0);
  SweepReport report = Run(boundary);
  EXPECT_EQ(report.Deleted("Observation", Rule::kLabOneYear), 1);
  EXPECT_TRUE(Deleted("Observation", ids[0]));
  EXPECT_EQ(Run(At("2030-01-01T00:00:00Z")).deleted, 0);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_FALSE(Deleted("Observation", ids[i]));
}

// A sweep while the facilities re-send the same bundle identifiers: every old item ends
// deleted (by the sweep or by its replacement), every re-sent item stays, each writer's
// transactions succeed (conflicts are retried), and the audit chain holds.
TEST_P(ItemSweep, ASweepWhileTheSameItemsAreReplaced) {
  constexpr int kBundles = 12;
  const TimePoint t0 = At("2020-06-01T01:00:00Z");
  const TimePoint now = At("2026-06-01T01:00:00Z");
  std::vector<std::string> old_ids;
  for (int i = 0; i < kBundles; ++i) {
    auto ids = Register(Golden("condition"), "1310000011^2020^race-" + std::to_string(i),
                        "pat-" + std::to_string(i), t0);
    ASSERT_EQ(ids.size(), 3u);
    old_ids.insert(old_ids.end(), ids.begin(), ids.end());
  }
  clock_.Set(now);
  Result<SweepReport> report = SweepReport{};
  std::thread sweeper([&] {
    SweepOptions small;
    small.batch_size = 2;
    report = Sweep(*store_, *audit_, now, small);
  });
  std::vector<std::string> new_ids;
  for (int i = 0; i < kBundles; ++i) {
    auto ids = Register(Golden("condition"), "1310000011^2020^race-" + std::to_string(i),
                        "pat-" + std::to_string(i), now);
    EXPECT_EQ(ids.size(), 3u);
    new_ids.insert(new_ids.end(), ids.begin(), ids.end());
  }
  sweeper.join();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  for (const auto& id : old_ids) EXPECT_TRUE(Deleted("Condition", id)) << id;
  for (const auto& id : new_ids) EXPECT_FALSE(Deleted("Condition", id)) << id;
  EXPECT_EQ(static_cast<int64_t>(Deletions().size()), report->deleted);
  EXPECT_LE(report->deleted, 2 * kBundles);  // never an LTS item, never a re-sent one
  auto verified = audit::Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_P(ItemSweep, SmallBatchesAndABoundedRun) {
  const TimePoint t0 = At("2020-06-01T01:00:00Z");
  for (int p = 0; p < 5; ++p) {
    ASSERT_EQ(Register(Golden("condition"), "1310000011^2020^c-" + std::to_string(p),
                       "pat-" + std::to_string(p), t0)
                  .size(),
              3u);
  }
  SweepOptions bounded;
  bounded.batch_size = 2;
  bounded.max_batches = 3;
  SweepReport first = Run(At("2026-01-01T00:00:00Z"), bounded);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.batches, 3);
  EXPECT_LE(first.deleted, 6);
  EXPECT_GT(first.deleted, 0);
  bounded.max_batches = 1000;
  SweepReport rest = Run(At("2026-01-01T00:00:00Z"), bounded);
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(first.deleted + rest.deleted, 10);  // 5 of the 15 carry LTS
  EXPECT_EQ(Deletions().size(), 10u);
}

class DocumentSweep : public testing::SweepTest {
 protected:
  // A DocumentBundle row as the document store writes it: its state in the meta extension
  // (clinical::SetDocumentState) and its index terms (clinical::DocumentTerms).
  void WriteDocument(const std::string& id, const std::string& patient, std::string_view doc_type,
                     TimePoint submitted, std::optional<TimePoint> retrieved,
                     const std::vector<std::string>& hashes) {
    clinical::DocumentState state;
    state.type = doc_type == kCheckupDocType ? clinical::DocumentType::kCheckupReport
                                             : clinical::DocumentType::kReferralLetter;
    state.author = "1310000011";
    state.submitter = "prac-13-hosp-physician-1";
    state.submitted = FormatInstant(submitted);
    if (doc_type == kReferralDocType) {
      state.addressee = "1310000029";
      state.status = retrieved ? "retrieved" : "pending";
    }
    if (retrieved) state.retrieved = FormatInstant(*retrieved);
    json::array entries{json::object{
        {"resource",
         json::object{{"resourceType", "Composition"},
                      {"type", json::object{{"coding", json::array{json::object{
                                                           {"system", "http://loinc.org"},
                                                           {"code", doc_type}}}}}}}}}};
    std::vector<clinical::StoredAttachment> attachments;
    for (const auto& h : hashes) {
      entries.push_back(json::object{
          {"resource",
           json::object{
               {"resourceType", "DocumentReference"},
               {"content", json::array{json::object{
                               {"attachment", json::object{{"contentType", "application/pdf"},
                                                           {"url", "Binary/" + h}}}}}}}}});
      attachments.push_back({h, "application/pdf", 100, false});
    }
    json::object stored{
        {"resourceType", "Bundle"}, {"id", id}, {"type", "document"}, {"entry", entries}};
    clinical::SetDocumentState(stored, state);
    store::ResourceRow row;
    row.type = std::string(kDocumentBundleType);
    row.id = id;
    row.patient_id = patient;
    row.last_updated = retrieved.value_or(submitted);
    row.json = json::Serialize(stored);
    Write(row, clinical::DocumentTerms(patient, state, attachments, row.last_updated));
  }

  void WritePrescription(const std::string& id, const std::string& patient,
                         std::optional<TimePoint> authored, TimePoint submitted) {
    json::object mr{{"resourceType", "MedicationRequest"},
                    {"id", id},
                    {"subject", json::object{{"reference", "Patient/" + patient}}}};
    if (authored) mr["authoredOn"] = FormatInstant(*authored);
    store::ResourceRow row;
    row.type = std::string(kDocumentPrescriptionType);
    row.id = id;
    row.patient_id = patient;
    row.last_updated = submitted;
    row.json = json::Serialize(mr);
    Write(row, {{"patient", "", "Patient/" + patient},
                {"date", "", FormatInstant(authored.value_or(submitted))},
                {"source", "", "doc-1"},
                {"_lastUpdated", "", FormatInstant(submitted)}});
  }

  std::vector<std::string> released_;
  SweepOptions Releasing() {
    SweepOptions o;
    o.release_blob = [this](std::string_view h) { released_.emplace_back(h); };
    return o;
  }
};

std::string Hash(char c) {
  return std::string(64, c);
}

TEST_P(DocumentSweep, ReferralLettersCheckupsAndTheirAttachments) {
  const TimePoint s1 = At("2026-01-10T03:00:00Z");
  const TimePoint s3 = At("2026-05-01T03:00:00Z");
  const TimePoint retrieved = At("2026-02-01T05:00:00Z");
  const TimePoint checkup = At("2021-03-10T02:00:00Z");
  WriteDocument("r1", "pat-a", kReferralDocType, s1, std::nullopt, {Hash('1'), Hash('2')});
  WriteDocument("r3", "pat-b", kReferralDocType, s3, std::nullopt, {Hash('2')});
  // Submitted 245 days before its retrieval: retrieval decides, not the 180 days.
  WriteDocument("r2", "pat-a", kReferralDocType, retrieved - days(245), retrieved, {Hash('3')});
  WriteDocument("c1", "pat-a", kCheckupDocType, checkup, std::nullopt, {});

  // 7 days after retrieval.
  EXPECT_EQ(Run(retrieved + days(7) - seconds(1), Releasing()).deleted, 0);
  SweepReport report = Run(retrieved + days(7), Releasing());
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(report.Deleted(kDocumentBundleType, Rule::kReferralRetrieved), 1);
  EXPECT_TRUE(Deleted(kDocumentBundleType, "r2"));
  EXPECT_EQ(released_, std::vector<std::string>{Hash('3')});

  // Checkup report: 5 years.
  const TimePoint five = At("2026-03-10T02:00:00Z");
  EXPECT_EQ(Run(five - seconds(1), Releasing()).deleted, 0);
  report = Run(five, Releasing());
  EXPECT_EQ(report.Deleted(kDocumentBundleType, Rule::kCheckupFiveYears), 1);
  EXPECT_TRUE(Deleted(kDocumentBundleType, "c1"));

  // Never retrieved: 180 days; hash 2 is still referenced by r3, hash 1 is released.
  EXPECT_EQ(Run(s1 + days(180) - seconds(1), Releasing()).deleted, 0);
  report = Run(s1 + days(180), Releasing());
  EXPECT_EQ(report.Deleted(kDocumentBundleType, Rule::kReferralUnretrieved), 1);
  EXPECT_TRUE(Deleted(kDocumentBundleType, "r1"));
  EXPECT_FALSE(Deleted(kDocumentBundleType, "r3"));
  EXPECT_EQ(released_, (std::vector<std::string>{Hash('3'), Hash('1')}));

  // r3 goes too, and with it the last reference to hash 2.
  report = Run(s3 + days(180), Releasing());
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(report.blobs_released, 1);
  EXPECT_EQ(released_, (std::vector<std::string>{Hash('3'), Hash('1'), Hash('2')}));

  // Idempotent: nothing more, nothing released twice.
  EXPECT_EQ(Run(s3 + days(400), Releasing()).deleted, 0);
  EXPECT_EQ(released_.size(), 3u);
  auto entries = Deletions();
  ASSERT_EQ(entries.size(), 4u);
  for (const auto& e : entries) EXPECT_EQ(e.category, kDocumentBundleType);
}

TEST_P(DocumentSweep, DocumentPrescriptionsKeepHundredDaysAndTheLastThree) {
  const TimePoint now = At("2026-11-21T00:00:00Z");
  WritePrescription("p1", "pat-a", now - days(10), now - days(9));
  WritePrescription("p2", "pat-a", now - days(120), now - days(119));
  WritePrescription("p3", "pat-a", now - days(130), now - days(129));
  WritePrescription("p4", "pat-a", now - days(140), now - days(139));
  // No authoredOn: the submission counts.
  WritePrescription("p5", "pat-a", std::nullopt, now - days(150));
  // Another patient's two old ones stay (the last 3 are counted per patient).
  WritePrescription("q1", "pat-b", now - days(300), now - days(300));
  WritePrescription("q2", "pat-b", now - days(310), now - days(310));

  // p5 is 100 days old at now - 50 days; p4 then is not yet.
  SweepReport report = Run(now - days(50));
  EXPECT_EQ(report.deleted, 1);
  EXPECT_TRUE(Deleted(kDocumentPrescriptionType, "p5"));
  // p4 is the 4th newest: it goes exactly 100 days after it was authored.
  EXPECT_EQ(Run(now - days(40) - seconds(1)).deleted, 0);
  report = Run(now - days(40));
  EXPECT_EQ(report.Deleted(kDocumentPrescriptionType, Rule::kDocumentPrescription), 1);
  EXPECT_TRUE(Deleted(kDocumentPrescriptionType, "p4"));
  // Later on the last 3 of each patient stay.
  EXPECT_EQ(Run(now + days(1000)).deleted, 0);
  for (const char* id : {"p1", "p2", "p3", "q1", "q2"}) {
    EXPECT_FALSE(Deleted(kDocumentPrescriptionType, id)) << id;
  }
  EXPECT_EQ(Deletions().size(), 2u);
}

// More records than SweepOptions::max_ranked to rank: the ranks are unknown and every record is
// kept; with the bound back the same records are judged normally.
TEST_P(DocumentSweep, RankingBeyondItsBoundKeepsTheRecords) {
  const TimePoint now = At("2026-11-21T00:00:00Z");
  for (int i = 0; i < 5; ++i) {
    WritePrescription("p" + std::to_string(i), "pat-a", now - days(200 + i), now - days(200 + i));
  }
  SweepOptions small;
  small.max_ranked = 4;
  EXPECT_EQ(Run(now, small).deleted, 0);
  SweepOptions normal;
  normal.principal.facility_code = "0000000001";
  SweepReport report = Run(now, normal);
  EXPECT_EQ(report.deleted, 2);
  EXPECT_TRUE(Deleted(kDocumentPrescriptionType, "p3"));
  EXPECT_TRUE(Deleted(kDocumentPrescriptionType, "p4"));
  auto entries = Deletions();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) EXPECT_EQ(e.facility_code, "0000000001");
}

INSTANTIATE_TEST_SUITE_P(Engines, ItemSweep, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });
INSTANTIATE_TEST_SUITE_P(Engines, DocumentSweep, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace renkei::retention
