// Pure pieces: insured numbers, coverage periods in Japan time, request parsing.
#include <gtest/gtest.h>

#include "eligibility/coverage_status.h"
#include "eligibility/import_parse.h"
#include "eligibility/insured_number.h"
#include "eligibility/verify_request.h"

namespace renkei::eligibility {
namespace {

json::object Coverage(std::string_view text) {
  auto o = json::ParseObject(text, Limits{});
  EXPECT_TRUE(o.ok());
  return o.ok() ? std::move(o).value() : json::object{};
}

TEST(InsuredNumberTest, ChecksAndFolds) {
  EXPECT_EQ(CheckInsurer("06139999"), "");
  EXPECT_EQ(CheckInsurer("０６１３９９９９"), "");
  EXPECT_NE(CheckInsurer("6139999"), "");
  EXPECT_NE(CheckInsurer("0613999a"), "");
  EXPECT_EQ(CheckBranch(""), "");
  EXPECT_EQ(CheckBranch("０５"), "");
  EXPECT_NE(CheckBranch("5"), "");
  EXPECT_NE(CheckNumber(""), "");
  EXPECT_NE(CheckNumber("1:2"), "");
  EXPECT_NE(CheckSymbol("あ　い"), "");  // ideographic space
  EXPECT_EQ(CheckSymbol(""), "");
  EXPECT_EQ(FoldDigits("a１２b"), "a12b");
  InsuredNumber n{"０６１３９９９９", "あいう", "１８７", "０５"};
  EXPECT_EQ(MemberIdValue(n), "06139999:あいう:１８７:05");
  auto parsed = ParseMemberId("00012345::１８７:");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->symbol, "");
  EXPECT_EQ(parsed->number, "１８７");
  EXPECT_FALSE(ParseMemberId("00012345:a:b").has_value());
  EXPECT_FALSE(ParseMemberId("0001234:a:b:").has_value());
  EXPECT_EQ(MemberIdKey(InsuredNumber{"06139999", "あいう", "187", "05"}),
            MemberIdKey(InsuredNumber{"06139999", "アイウ", "１８７", "05"}));
}

TEST(CoverageStatusTest, JapanDateAndPeriods) {
  const TimePoint utc_evening =
      TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 3 / 31)) + std::chrono::hours(15);
  EXPECT_EQ(JapanDate(utc_evening), "2026-04-01");
  EXPECT_EQ(JapanDate(utc_evening - std::chrono::microseconds(1)), "2026-03-31");

  auto cov = Coverage(R"({"status":"active","period":{"start":"2025-04-01","end":"2026-03-31"}})");
  EXPECT_EQ(Evaluate(cov, "2025-03-31"), Eligibility::kNotYetValid);
  EXPECT_EQ(Evaluate(cov, "2025-04-01"), Eligibility::kEligible);
  EXPECT_EQ(Evaluate(cov, "2026-03-31"), Eligibility::kEligible);
  EXPECT_EQ(Evaluate(cov, "2026-04-01"), Eligibility::kLapsed);
  // A month-precision end covers the whole month; a dateTime end counts at its Japan date.
  EXPECT_EQ(Evaluate(Coverage(R"({"status":"active","period":{"end":"2026-03"}})"), "2026-03-31"),
            Eligibility::kEligible);
  EXPECT_EQ(Evaluate(Coverage(R"({"status":"active","period":{"end":"2026-03-31T15:00:00Z"}})"),
                     "2026-04-01"),
            Eligibility::kEligible);
  EXPECT_EQ(Evaluate(Coverage(R"({"status":"cancelled"})"), "2026-04-01"), Eligibility::kLapsed);
  EXPECT_EQ(Evaluate(Coverage(R"({"status":"entered-in-error"})"), "2026-04-01"),
            Eligibility::kUnknown);
  EXPECT_EQ(Evaluate(Coverage(R"({"status":"active"})"), "2026-04-01"), Eligibility::kEligible);
}

TEST(CoverageStatusTest, ChoosesValidThenFutureThenLatestLapsed) {
  auto old1 = Coverage(R"({"status":"active","period":{"end":"2020-01-01"}})");
  auto old2 = Coverage(R"({"status":"active","period":{"end":"2024-01-01"}})");
  auto future = Coverage(R"({"status":"active","period":{"start":"2027-01-01"}})");
  auto valid = Coverage(R"({"status":"active","period":{"start":"2025-01-01"}})");
  EXPECT_EQ(ChooseCoverage({&old1, &old2, &future, &valid}, "2026-01-01"), 3);
  EXPECT_EQ(ChooseCoverage({&old1, &old2, &future}, "2026-01-01"), 2);
  EXPECT_EQ(ChooseCoverage({&old1, &old2}, "2026-01-01"), 1);
  EXPECT_EQ(ChooseCoverage({}, "2026-01-01"), -1);
}

TEST(VerifyRequestTest, ParsesNumbersAndCard) {
  auto r = ParseVerifyRequest(R"({"resourceType":"Parameters","parameter":[
      {"name":"insurer","valueString":"06139999"},{"name":"symbol","valueString":""},
      {"name":"number","valueString":"１８７"},{"name":"branch","valueString":""},
      {"name":"birthDate","valueDate":"1980-01-02"},{"name":"date","valueString":"2026-04-01"}]})",
                              Limits{});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(r->numbers.has_value());
  EXPECT_EQ(r->numbers->number, "１８７");
  EXPECT_EQ(r->birth_date, "1980-01-02");
  EXPECT_EQ(r->date, "2026-04-01");
  auto c = ParseVerifyRequest(
      R"({"resourceType":"Parameters","parameter":[{"name":"card","valueString":"x.y.z"}]})",
      Limits{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->card, "x.y.z");
  EXPECT_FALSE(c->numbers.has_value());
}

TEST(VerifyRequestTest, JsonLimitsApply) {
  std::string deep(100, '[');
  auto r = ParseVerifyRequest(deep, Limits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTooLarge);
}

TEST(ImportParseTest, InsurerNumbersAndLineNumbers) {
  EXPECT_EQ(InsurerNumberOf("138057"), "00138057");
  EXPECT_EQ(InsurerNumberOf("06139999"), "06139999");
  auto r = ParseImport("\n{\"resourceType\":\"Patient\"}\n", "06139999", Limits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().issues().at(0).expression, "line[2].identifier");
}

TEST(ImportParseTest, JsonLimitsApplyPerLine) {
  Limits limits;
  limits.max_json_depth = 8;
  std::string deep = R"({"resourceType":"Patient","extension":)" + std::string(10, '[') +
                     std::string(10, ']') + "}";
  auto r = ParseImport(deep + "\n", "06139999", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().issues().at(0).expression, "line[1]");
  EXPECT_NE(r.error().issues().at(0).text.find("deeper"), std::string::npos);
}

}  // namespace
}  // namespace renkei::eligibility
