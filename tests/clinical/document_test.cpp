// Document validators: the published referral letters and checkup report (used unmodified)
// are accepted as is; the original referral and discharge-summary documents of
// tests/clinical/documents/ are accepted with their facts; each invalid document of
// tests/clinical/invalid-documents/ is rejected with exactly the issues listed beside it.
#include "clinical/document.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "clinical_test_files.h"

namespace renkei::clinical {
namespace {

using testing::ExamplesDir;
using testing::ReadObject;
using testing::TestDir;

std::string Describe(const Error& e) {
  std::string out = e.ToString();
  for (const auto& i : e.issues()) out += "\n  " + i.expression + " " + i.text;
  return out;
}

TEST(PublishedDocuments, ReferralLetterAcceptedAsIs) {
  auto result =
      ValidateDocument(ReadObject(ExamplesDir() / "Bundle-Bundle-CLINS-Referral-Example-01.json"),
                       DocumentType::kReferralLetter);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_EQ(result->addressee_facility_code, "1311234567");
  EXPECT_EQ(result->author_facility_code, "1319876543");
  EXPECT_EQ(result->insured_person_id, "00012345:あいう:１８７:05");
  EXPECT_EQ(result->identifier_value, "1318814790^2024^0123-Referral-203949583949");
  ASSERT_EQ(result->attachments.size(), 1u);
  EXPECT_EQ(result->attachments[0].content_type, "application/pdf");
  EXPECT_TRUE(result->medication_entries.empty());
  EXPECT_NE(std::find(result->section_codes.begin(), result->section_codes.end(), "340"),
            result->section_codes.end());
}

TEST(PublishedDocuments, TextOnlyReferralLetterAcceptedAsIs) {
  auto result = ValidateDocument(
      ReadObject(ExamplesDir() / "Bundle-Bundle-CLINS-Referral-NoEntry-Example-01.json"),
      DocumentType::kReferralLetter);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_EQ(result->addressee_facility_code, "1311234567");
  EXPECT_TRUE(result->attachments.empty());
}

TEST(PublishedDocuments, CheckupReportAcceptedAsIs) {
  auto result =
      ValidateDocument(ReadObject(ExamplesDir() / "Bundle-Bundle-eCheckupReport-Sample-01.json"),
                       DocumentType::kCheckupReport);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_FALSE(result->addressee_facility_code.has_value());
  EXPECT_EQ(result->author_facility_code, "1311234567");
  EXPECT_EQ(result->insurer_number, "06123456");
  // The checkup example identifies the examinee by a checkup-specific id, not by the
  // insured-person identifier.
  EXPECT_FALSE(result->insured_person_id.has_value());
}

TEST(PublishedDocuments, DocumentOfAnotherTypeIsRejected) {
  auto result =
      ValidateDocument(ReadObject(ExamplesDir() / "Bundle-Bundle-eCheckupReport-Sample-01.json"),
                       DocumentType::kReferralLetter);
  ASSERT_FALSE(result.ok());
  std::set<std::string> paths;
  for (const auto& i : result.error().issues()) paths.insert(i.expression);
  EXPECT_EQ(paths, (std::set<std::string>{"Bundle.entry[0].resource.type",
                                          "Bundle.entry[0].resource.section"}));
}

TEST(PublishedDocuments, CheckupReportWithAnAttachmentIsRejected) {
  // Built in memory from the published example (the file itself stays unmodified).
  json::object bundle = ReadObject(ExamplesDir() / "Bundle-Bundle-eCheckupReport-Sample-01.json");
  auto& entries = bundle["entry"].as_array();
  entries.push_back(json::object{
      {"fullUrl", "urn:uuid:7d2c0e3a-5b1f-4c6d-8e9f-000000000777"},
      {"resource",
       json::object{{"resourceType", "DocumentReference"},
                    {"status", "current"},
                    {"content", json::array{json::object{
                                    {"attachment", json::object{{"contentType", "application/pdf"},
                                                                {"data", "JVBERi0="}}}}}}}}});
  auto result = ValidateDocument(bundle, DocumentType::kCheckupReport);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.error().issues().size(), 1u) << Describe(result.error());
  EXPECT_EQ(result.error().issues()[0].expression,
            "Bundle.entry[" + std::to_string(entries.size() - 1) + "].resource.resourceType");
  EXPECT_NE(result.error().issues()[0].text.find("[renkei:doc-no-attachments]"), std::string::npos);
}

TEST(OwnDocuments, ReferralWithMedicationAndAttachments) {
  auto result = ValidateDocument(ReadObject(TestDir() / "documents" / "referral.json"),
                                 DocumentType::kReferralLetter);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_EQ(result->addressee_facility_code, "1310000029");
  EXPECT_EQ(result->author_facility_code, "1310000011");
  EXPECT_EQ(result->medication_entries, (std::vector<size_t>{7}));
  ASSERT_EQ(result->attachments.size(), 2u);
  EXPECT_EQ(result->attachments[1].content_type, "application/fhir+json");
}

TEST(OwnDocuments, DischargeSummaryWithoutAddressee) {
  auto result = ValidateDocument(ReadObject(TestDir() / "documents" / "discharge-summary.json"),
                                 DocumentType::kDischargeSummary);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_FALSE(result->addressee_facility_code.has_value());
  EXPECT_EQ(result->medication_entries, (std::vector<size_t>{6}));
  EXPECT_EQ(result->section_codes.size(), 7u);
}

TEST(AttachmentTypes, AllowList) {
  EXPECT_TRUE(IsAllowedAttachmentType("application/pdf"));
  EXPECT_TRUE(IsAllowedAttachmentType("application/fhir+json; charset=utf-8"));
  EXPECT_FALSE(IsAllowedAttachmentType("text/html"));
  EXPECT_FALSE(IsAllowedAttachmentType(""));
}

std::vector<std::string> InvalidDocuments() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(TestDir() / "invalid-documents")) {
    std::string file = entry.path().filename().string();
    if (file.ends_with(".json") && !file.ends_with(".expected.json"))
      names.push_back(file.substr(0, file.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

class InvalidDocument : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidDocument, RejectedWithExpectedIssues) {
  std::string name = GetParam();
  json::object bundle = ReadObject(TestDir() / "invalid-documents" / (name + ".json"));
  json::object expected = ReadObject(TestDir() / "invalid-documents" / (name + ".expected.json"));
  DocumentType type = json::GetString(expected, "document_type") == "referral"
                          ? DocumentType::kReferralLetter
                          : DocumentType::kDischargeSummary;
  auto result = ValidateDocument(bundle, type);
  ASSERT_FALSE(result.ok()) << name << " was accepted";
  EXPECT_EQ(result.error().http_status(), json::GetInt(expected, "status").value());
  std::vector<std::pair<std::string, std::string>> want, got;
  for (const auto& v : *json::GetArray(expected, "issues"))
    want.emplace_back(std::string(*json::GetString(v.get_object(), "expression")),
                      std::string(*json::GetString(v.get_object(), "rule")));
  for (const auto& i : result.error().issues()) {
    size_t close = i.text.find(']');
    got.emplace_back(i.expression, i.text.starts_with('[') && close != std::string::npos
                                       ? i.text.substr(1, close - 1)
                                       : std::string());
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << Describe(result.error());
}

INSTANTIATE_TEST_SUITE_P(Golden, InvalidDocument, ::testing::ValuesIn(InvalidDocuments()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace renkei::clinical
