// Golden invalid bundles: tests/clinical/invalid/<rule>.json, each one change away from a
// valid bundle of tests/clinical/valid/, must be rejected with exactly the OperationOutcome
// issues (element path and rule id) listed in <rule>.expected.json beside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include "clinical/registration_bundle.h"
#include "clinical_test_files.h"
#include "fhir/operation_outcome.h"

namespace renkei::clinical {
namespace {

using testing::ReadObject;
using testing::TestDir;

std::vector<std::string> InvalidCases() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(TestDir() / "invalid")) {
    std::string file = entry.path().filename().string();
    if (file.ends_with(".json") && !file.ends_with(".expected.json"))
      names.push_back(file.substr(0, file.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The rule id an issue text starts with: "[renkei:xyz] ...".
std::string RuleOf(const std::string& text) {
  static const std::regex kRule(R"(^\[([^\]]+)\] )");
  std::smatch m;
  return std::regex_search(text, m, kRule) ? m[1].str() : std::string();
}

class InvalidBundle : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidBundle, RejectedWithExpectedIssues) {
  std::string name = GetParam();
  json::object bundle = ReadObject(TestDir() / "invalid" / (name + ".json"));
  json::object expected = ReadObject(TestDir() / "invalid" / (name + ".expected.json"));

  auto result = ValidateRegistrationBundle(bundle, json::GetString(expected, "sender").value());
  ASSERT_FALSE(result.ok()) << name << " was accepted";
  EXPECT_EQ(result.error().http_status(), json::GetInt(expected, "status").value());

  std::vector<std::pair<std::string, std::string>> want, got;
  for (const auto& v : *json::GetArray(expected, "issues")) {
    const auto& o = v.get_object();
    want.emplace_back(std::string(*json::GetString(o, "expression")),
                      std::string(*json::GetString(o, "rule")));
  }
  // Compared on the OperationOutcome clients receive (fhir::ErrorResponse's body):
  // issue.expression[0] and the rule id leading issue.diagnostics.
  json::object outcome = fhir::OperationOutcomeOf(result.error());
  for (const auto& v : *json::GetArray(outcome, "issue")) {
    const auto& issue = v.get_object();
    std::string diagnostics(json::GetString(issue, "diagnostics").value_or(""));
    const json::array* expression = json::GetArray(issue, "expression");
    ASSERT_NE(expression, nullptr) << diagnostics;
    EXPECT_EQ(json::GetString(issue, "code"), "business-rule");
    EXPECT_FALSE(RuleOf(diagnostics).empty()) << "issue without a rule id: " << diagnostics;
    got.emplace_back(std::string((*expression)[0].as_string()), RuleOf(diagnostics));
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << result.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Golden, InvalidBundle, ::testing::ValuesIn(InvalidCases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Every invalid case is derived from a valid bundle, which must itself be accepted (else the
// golden issues would not be the effect of the one change).
TEST(ValidBundles, EveryBaseIsAccepted) {
  for (const char* name : {"condition", "allergy", "observation", "deletion"}) {
    auto result = ValidateRegistrationBundle(
        ReadObject(TestDir() / "valid" / (std::string(name) + ".json")), "1310000011");
    EXPECT_TRUE(result.ok()) << name << ": "
                             << (result.ok() ? ""
                                             : result.error().ToString() + " " +
                                                   result.error().issues()[0].expression + " " +
                                                   result.error().issues()[0].text);
  }
}

TEST(InvalidBundles, OneCasePerRuleAtLeast) {
  // Every rule id of the validator has a golden case.
  std::set<std::string> rules;
  for (const auto& name : InvalidCases()) {
    json::object expected = ReadObject(TestDir() / "invalid" / (name + ".expected.json"));
    for (const auto& v : *json::GetArray(expected, "issues"))
      rules.insert(std::string(*json::GetString(v.get_object(), "rule")));
  }
  for (const char* rule : {"renkei:bundle-type",
                           "renkei:bundle-profile",
                           "renkei:bundle-resource-tag",
                           "renkei:bundle-identifier",
                           "renkei:sender-facility",
                           "renkei:first-entry-patient",
                           "renkei:insured-person-id",
                           "renkei:entry-resource-type",
                           "renkei:reference-scope",
                           "renkei:subject-patient",
                           "renkei:institution-number",
                           "renkei:local-id-facility",
                           "renkei:name-fullwidth-space",
                           "renkei:flag-code",
                           "renkei:flag-placement",
                           "renkei:contained-encounter",
                           "renkei:department",
                           "renkei:condition-code",
                           "renkei:condition-onset",
                           "renkei:condition-abatement",
                           "renkei:observation-performer",
                           "renkei:observation-local-code",
                           "renkei:observation-lab-code",
                           "renkei:allergy-drug-code",
                           "renkei:allergy-other-code",
                           "renkei:placeholder-text"})
    EXPECT_TRUE(rules.count(rule)) << "no golden case for " << rule;
}

}  // namespace
}  // namespace renkei::clinical
