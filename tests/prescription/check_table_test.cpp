// Runs the decision table check_table.json: every case's history, candidates and flags
// against the shipped master, comparing the alerts of each candidate item exactly (kinds in
// order; the detail fields a row names) or the refusal.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/json.h"
#include "prescription/check.h"
#include "test_master.h"

namespace renkei::prescription {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Date ToDate(std::string_view text) {
  auto t = ParseDateTime(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t ? std::chrono::floor<std::chrono::days>(*t) : Date{};
}

std::string Str(const json::object& o, std::string_view key, std::string_view fallback = "") {
  auto v = json::GetString(o, key);
  return std::string(v ? *v : fallback);
}

Usage UsageOf(const json::object& o) {
  const std::string u = Str(o, "usage", "days");
  if (u == "as-needed") return Usage::kAsNeeded;
  if (u == "external") return Usage::kExternal;
  EXPECT_EQ(u, "days");
  return Usage::kDaysSupply;
}

CheckRequest RequestOf(const json::object& defaults, const json::object& c) {
  auto flag = [&](std::string_view key) {
    auto v = json::GetBool(c, key);
    return v ? *v : *json::GetBool(defaults, key);
  };
  CheckRequest r;
  r.check_date = ToDate(Str(c, "check_date", Str(defaults, "check_date")));
  r.requesting_facility = Str(c, "requesting_facility", Str(defaults, "requesting_facility"));
  r.include_own_facility = flag("include_own_facility");
  r.details_allowed = flag("details_allowed");
  r.exclude_prescription_id = Str(c, "exclude_prescription_id");
  if (const auto* history = json::GetArray(c, "history")) {
    for (const auto& v : *history) {
      const auto& h = v.as_object();
      HistoryItem item;
      item.code = Str(h, "code");
      item.facility = Str(h, "facility");
      item.kind =
          Str(h, "kind") == "dispensing" ? RecordKind::kDispensing : RecordKind::kPrescription;
      item.record_id = Str(h, "id");
      item.prescription_id = Str(h, "prescription_id");
      item.start = ToDate(Str(h, "start"));
      item.usage = UsageOf(h);
      item.days_supply = static_cast<int>(json::GetInt(h, "days").value_or(0));
      r.history.push_back(std::move(item));
    }
  }
  for (const auto& v : *json::GetArray(c, "candidates")) {
    const auto& o = v.as_object();
    CandidateItem item;
    item.code = Str(o, "code");
    item.start = ToDate(Str(o, "start"));
    item.usage = UsageOf(o);
    item.days_supply = static_cast<int>(json::GetInt(o, "days").value_or(0));
    r.candidates.push_back(std::move(item));
  }
  return r;
}

void ExpectAlert(const json::object& want, const Alert& got, bool details) {
  EXPECT_EQ(Str(want, "kind"), ToString(got.kind));
  if (!details) {
    EXPECT_FALSE(got.detail.has_value()) << "masked answer carries a detail";
    return;
  }
  ASSERT_TRUE(got.detail.has_value());
  const AlertDetail& d = *got.detail;
  auto check = [&](std::string_view key, const std::string& actual) {
    if (auto w = json::GetString(want, key)) {
      EXPECT_EQ(*w, actual) << key;
    }
  };
  check("other_code", d.other_code);
  check("other_name", d.other_name);
  check("other_facility", d.other_facility);
  check("other_record_id", d.other_record_id);
  check("stated_in", d.stated_in);
  check("rule_status", d.rule_status);
  if (!d.other_is_candidate) check("other_kind", std::string(ToString(d.other_kind)));
  check("other_start", FormatDate(TimePoint(d.other_start)));
  check("other_end", FormatDate(TimePoint(d.other_end)));
  if (auto idx = json::GetInt(want, "other_is_candidate")) {
    EXPECT_TRUE(d.other_is_candidate);
    EXPECT_EQ(static_cast<size_t>(*idx), d.other_candidate_index);
  } else {
    EXPECT_FALSE(d.other_is_candidate);
  }
  if (const auto* ings = json::GetArray(want, "ingredients")) {
    std::vector<std::string> expected;
    for (const auto& i : *ings) expected.emplace_back(i.as_string());
    EXPECT_EQ(expected, d.ingredients);
  }
}

// One case; ASSERTs end only this case, so every failing case is reported.
void RunCase(const DrugMaster& master, const json::object& defaults, const json::object& c) {
  const CheckRequest request = RequestOf(defaults, c);
  auto result = RunCheck(master, request);
  if (const auto* err = json::GetObject(c, "expect_error")) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(Str(*err, "code"), InfoOf(result.error().code()).name);
    for (const auto& s : *json::GetArray(*err, "contains")) {
      EXPECT_NE(result.error().message().find(std::string(s.as_string())), std::string::npos)
          << result.error().message();
    }
    ASSERT_EQ(result.error().issues().size(), 1u);
    EXPECT_FALSE(result.error().issues()[0].expression.empty());
    return;
  }
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->master_version, master.version());
  EXPECT_EQ(result->details_shown, request.details_allowed);
  EXPECT_EQ(result->unresolved_history,
            static_cast<size_t>(json::GetInt(c, "expect_unresolved_history").value_or(0)));
  const json::array& expect = *json::GetArray(c, "expect");
  ASSERT_EQ(expect.size(), result->items.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    SCOPED_TRACE("candidate " + std::to_string(i));
    const auto& want = expect[i].as_array();
    const auto& got = result->items[i];
    EXPECT_EQ(got.candidate_index, i);
    EXPECT_EQ(got.code, request.candidates[i].code);
    EXPECT_EQ(want.size(), got.alerts.size());
    for (size_t a = 0; a < std::min(want.size(), got.alerts.size()); ++a) {
      ExpectAlert(want[a].as_object(), got.alerts[a], request.details_allowed);
    }
  }
}

TEST(CheckTableTest, EveryCaseGivesTheExpectedAlerts) {
  auto master = testing::ShippedMaster();
  auto table =
      json::ParseObject(ReadText(std::string(RENKEI_TEST_DIR) + "/check_table.json"), Limits{});
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  const json::object& defaults = *json::GetObject(*table, "defaults");
  const json::array& cases = *json::GetArray(*table, "cases");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& v : cases) {
    const auto& c = v.as_object();
    SCOPED_TRACE(Str(c, "name"));
    RunCase(*master, defaults, c);
  }
}

}  // namespace
}  // namespace renkei::prescription
