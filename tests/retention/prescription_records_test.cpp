// The sweeper over the prescription records of issue 4 (rows as prescription/records.h writes
// them), on SQLite and PostgreSQL: each record 100 days after its last day of use, and a
// prescription Bundle once none of its items is left.
#include <gtest/gtest.h>

#include "prescription/records.h"
#include "sweep_fixture.h"

namespace renkei::retention {
namespace {

using renkei::testing::AllEngines;
using renkei::testing::EngineName;
using std::chrono::seconds;
using testing::At;

json::object Request(const char* authored, int days_supply) {
  return json::object{
      {"resourceType", "MedicationRequest"},
      {"authoredOn", authored},
      {"medicationCodeableConcept",
       json::object{{"coding", json::array{json::object{{"system", prescription::kYjSystem},
                                                        {"code", "1149019F1560"}}}}}},
      {"dispenseRequest",
       json::object{{"expectedSupplyDuration",
                     json::object{{"value", days_supply}, {"unit", "日"}, {"code", "d"}}}}}};
}

class PrescriptionSweep : public testing::SweepTest {
 protected:
  // A prescription Bundle row and one MedicationRequest row per days' supply.
  void Prescribe(const std::string& id, const char* authored, TimePoint at,
                 const std::vector<int>& supplies) {
    store::ResourceRow row;
    row.type = std::string(prescription::kPrescriptionType);
    row.id = id;
    row.patient_id = "pat-a";
    row.last_updated = at;
    row.json = json::Serialize(json::object{{"resourceType", "Bundle"}, {"id", id}});
    Write(row, {{std::string(prescription::kAccessCodeParam), "", "CODE-" + id},
                {"patient", "", "Patient/pat-a"},
                {"status", "", "active"},
                {"facility", "", "1310000011"},
                {"_lastUpdated", "", FormatInstant(at)}});
    for (size_t i = 0; i < supplies.size(); ++i) {
      json::object mr = Request(authored, supplies[i]);
      std::vector<Issue> issues;
      prescription::ItemInput item = prescription::ReadRequestItem(mr, "mr", issues);
      ASSERT_TRUE(issues.empty()) << issues.front().text;
      auto stored = prescription::RequestRow(mr, item, id + "-" + std::to_string(i + 1), id,
                                             "pat-a", "1310000011", at);
      Write(stored.row, stored.terms);
    }
  }

  void Dispense(const std::string& id, const char* handed_over, int days_supply, TimePoint at) {
    json::object md{
        {"resourceType", "MedicationDispense"},
        {"whenHandedOver", handed_over},
        {"daysSupply", json::object{{"value", days_supply}, {"code", "d"}}},
        {"medicationCodeableConcept",
         json::object{{"coding", json::array{json::object{{"system", prescription::kYjSystem},
                                                          {"code", "1149019F1560"}}}}}}};
    std::vector<Issue> issues;
    prescription::ItemInput item = prescription::ReadDispenseItem(md, "md", issues);
    ASSERT_TRUE(issues.empty()) << issues.front().text;
    auto stored =
        prescription::DispenseRow(md, item, id, "D-" + id, "rx1", "pat-a", "1340000013", at);
    Write(stored.row, stored.terms);
  }
};

TEST_P(PrescriptionSweep, RecordsGoHundredDaysAfterTheirLastDayOfUse) {
  const TimePoint issued = At("2025-01-01T10:00:00+09:00");
  Prescribe("rx1", "2025-01-01", issued, {30, 7});
  Prescribe("rx3", "2025-01-01", issued, {90});
  Dispense("disp1", "2025-01-02T10:00:00+09:00", 7, At("2025-01-02T10:00:00+09:00"));

  // rx1-2: days 1-8 January (first day + 7), kept through 18 April.
  const TimePoint short_item = At("2025-04-19T00:00:00+09:00");
  EXPECT_EQ(Run(short_item - seconds(1)).deleted, 0);
  SweepReport report = Run(short_item);
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(report.Deleted("MedicationRequest", Rule::kPrescriptionRecord), 1);
  EXPECT_TRUE(Deleted("MedicationRequest", "rx1-2"));
  // The dispensing: from 2 January, 7 days.
  report = Run(At("2025-04-20T00:00:00+09:00"));
  EXPECT_EQ(report.Deleted("MedicationDispense", Rule::kPrescriptionRecord), 1);
  EXPECT_TRUE(Deleted("MedicationDispense", "disp1"));

  // rx1-1: 30 days, last day 31 January, kept through 11 May; with it goes rx1 itself.
  const TimePoint long_item = At("2025-05-12T00:00:00+09:00");
  EXPECT_EQ(Run(long_item - seconds(1)).deleted, 0);
  report = Run(long_item);
  EXPECT_EQ(report.Deleted("MedicationRequest", Rule::kPrescriptionRecord), 1);
  EXPECT_EQ(report.Deleted("Bundle", Rule::kPrescriptionBundle), 1);
  EXPECT_TRUE(Deleted("MedicationRequest", "rx1-1"));
  EXPECT_TRUE(Deleted("Bundle", "rx1"));
  // rx3 is as old, but its 90-day item is left.
  EXPECT_FALSE(Deleted("Bundle", "rx3"));
  EXPECT_FALSE(Deleted("MedicationRequest", "rx3-1"));

  // 1 January + 90 days = 1 April; + 100 days: gone when 11 July begins.
  report = Run(At("2025-07-11T00:00:00+09:00"));
  EXPECT_EQ(report.deleted, 2);
  EXPECT_TRUE(Deleted("Bundle", "rx3"));
  EXPECT_EQ(Run(At("2026-01-01T00:00:00Z")).deleted, 0);

  auto entries = Deletions();
  ASSERT_EQ(entries.size(), 6u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.patient_id, "pat-a");
    EXPECT_EQ(e.purpose, "HOPERAT");
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, PrescriptionSweep, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace renkei::retention
