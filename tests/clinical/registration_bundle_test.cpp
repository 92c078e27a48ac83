// Unit tests of the registration bundle validator: the 10 MB limit, every issue reported at
// once, malformed JSON shapes (400) versus rule violations (422), and the identifier formats.
#include "clinical/registration_bundle.h"

#include <gtest/gtest.h>

#include "clinical/clins_codes.h"
#include "clinical_test_files.h"

namespace renkei::clinical {
namespace {

using testing::ReadObject;
using testing::TestDir;

constexpr std::string_view kSender = "1310000011";

json::object Valid(const char* name) {
  return ReadObject(TestDir() / "valid" / (std::string(name) + ".json"));
}

json::object& Resource(json::object& bundle, size_t i) {
  return bundle["entry"].as_array()[i].as_object()["resource"].as_object();
}

TEST(SizeLimit, BodyOverTenMegabytesIsRefused) {
  json::object bundle = Valid("condition");
  auto at_limit = ValidateRegistrationBundle(bundle, kSender, kMaxRegistrationBundleBytes);
  EXPECT_TRUE(at_limit.ok());
  auto over = ValidateRegistrationBundle(bundle, kSender, kMaxRegistrationBundleBytes + 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(over.error().http_status(), 413);
}

TEST(SizeLimit, ARealOversizedBundleIsRefused) {
  // A valid bundle grown past 10 MB with notes: its serialized size is what the caller
  // passes as body_bytes.
  json::object bundle = Valid("condition");
  json::array notes;
  for (int i = 0; i < 11; ++i)
    notes.push_back(json::object{{"text", std::string(1024 * 1024, 'x')}});
  Resource(bundle, 1)["note"] = notes;
  std::string body = json::Serialize(bundle);
  ASSERT_GT(body.size(), kMaxRegistrationBundleBytes);
  auto result = ValidateRegistrationBundle(bundle, kSender, body.size());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kTooLarge);
}

TEST(AllIssues, EveryViolationIsReportedInOneError) {
  json::object bundle = Valid("condition");
  bundle["type"] = "batch";
  Resource(bundle, 1).erase("onsetDateTime");
  Resource(bundle, 2).erase("abatementDateTime");
  Resource(bundle, 3)["meta"].as_object()["tag"].as_array()[0].as_object()["code"] = "LTX";
  auto result = ValidateRegistrationBundle(bundle, kSender);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kBusinessRule);
  ASSERT_EQ(result.error().issues().size(), 4u) << result.error().ToString();
  std::set<std::string> paths;
  for (const auto& i : result.error().issues()) paths.insert(i.expression);
  EXPECT_EQ(paths, (std::set<std::string>{"Bundle.type", "Bundle.entry[1].resource.onset",
                                          "Bundle.entry[2].resource.abatement",
                                          "Bundle.entry[3].resource.meta.tag[0].code"}));
}

TEST(Shapes, MalformedJsonShapesAreInvalid) {
  json::object bundle = Valid("condition");
  Resource(bundle, 1)["note"] = json::array{};  // empty arrays are not FHIR JSON
  auto result = ValidateRegistrationBundle(bundle, kSender);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(result.error().issues()[0].expression, "Bundle.entry[1].resource.note");

  json::object wrong_type = Valid("condition");
  wrong_type["resourceType"] = "Patient";
  auto not_bundle = ValidateRegistrationBundle(wrong_type, kSender);
  ASSERT_FALSE(not_bundle.ok());
  EXPECT_EQ(not_bundle.error().code(), ErrorCode::kInvalid);

  json::object no_resource = Valid("condition");
  no_resource["entry"].as_array()[2].as_object().erase("resource");
  auto missing = ValidateRegistrationBundle(no_resource, kSender);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(missing.error().issues().back().expression, "Bundle.entry[2].resource");
}

TEST(Shapes, NoEntriesIsARuleViolation) {
  json::object bundle = Valid("condition");
  bundle.erase("entry");
  auto result = ValidateRegistrationBundle(bundle, kSender);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().issues()[0].expression, "Bundle.entry");
}

TEST(Flags, FlagsOnThePatientAreMisplaced) {
  json::object bundle = Valid("allergy");
  Resource(bundle, 0)["meta"] =
      json::object{{"tag", json::array{json::object{{"system", kFlagSystem}, {"code", "LTS"}}}}};
  auto result = ValidateRegistrationBundle(bundle, kSender);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.error().issues().size(), 1u);
  EXPECT_EQ(result.error().issues()[0].expression, "Bundle.entry[0].resource.meta.tag[0]");
}

TEST(Formats, InsuredPersonIdentifier) {
  EXPECT_TRUE(IsInsuredPersonId("00012345:あいう:１８７:05"));
  EXPECT_TRUE(IsInsuredPersonId("00012345::１８７:"));
  EXPECT_FALSE(IsInsuredPersonId("0012345:あいう:１８７:05"));       // 7-digit insurer
  EXPECT_FALSE(IsInsuredPersonId("00012345:あいう:１８７:5"));       // 1-digit branch
  EXPECT_FALSE(IsInsuredPersonId("00012345:あ い:１８７:05"));       // space
  EXPECT_FALSE(IsInsuredPersonId("00012345:あ\u3000い:１８７:05"));  // full-width space
  EXPECT_FALSE(IsInsuredPersonId("00012345:あいう:１８７"));         // three parts
  EXPECT_FALSE(IsInsuredPersonId("00012345:a:b:05:06"));
}

TEST(Formats, BundleIdentifierAndFacility) {
  std::string facility, local;
  int year = 0;
  EXPECT_TRUE(
      ParseBundleIdentifier("1318814790^2024^0123-IDa-203949583949", facility, year, local));
  EXPECT_EQ(facility, "1318814790");
  EXPECT_EQ(year, 2024);
  EXPECT_EQ(local, "0123-IDa-203949583949");
  EXPECT_TRUE(
      ParseBundleIdentifier("1310000011^2039^" + std::string(36, 'a'), facility, year, local));
  EXPECT_FALSE(
      ParseBundleIdentifier("1310000011^2039^" + std::string(37, 'a'), facility, year, local));
  EXPECT_FALSE(ParseBundleIdentifier("1310000011^2040^x", facility, year, local));
  EXPECT_FALSE(ParseBundleIdentifier("1310000011^2019^x", facility, year, local));
  EXPECT_FALSE(ParseBundleIdentifier("1340000013^2025^a_b", facility, year, local));
  EXPECT_FALSE(ParseBundleIdentifier("5310000011^2025^x", facility, year, local));
  EXPECT_FALSE(ParseBundleIdentifier("1310000011^2025", facility, year, local));
  EXPECT_TRUE(IsClinsFacilityCode("1330000013"));  // dental
  // The JP-CLINS regex allows point tables 1-3: pharmacies (4) send no registration bundles.
  EXPECT_FALSE(IsClinsFacilityCode("1340000013"));
  EXPECT_FALSE(IsClinsFacilityCode("1350000013"));
  EXPECT_FALSE(IsClinsFacilityCode("131000001"));
}

TEST(Formats, YjCheckDigit) {
  EXPECT_TRUE(IsYjCode("1141007F3023"));  // JP-FHIR.md's example
  EXPECT_TRUE(IsYjCode("1149019F1560"));
  EXPECT_TRUE(IsYjCode("2260701F1271"));  // in the published YCM allergy example
  EXPECT_FALSE(IsYjCode("1141007F3024"));
  EXPECT_FALSE(IsYjCode("2000000X0000"));  // the dummy fails its check digit
  EXPECT_FALSE(IsYjCode("1141007F302"));
}

TEST(ItemTypes, RoundTrip) {
  for (ItemType t : {ItemType::kAllergyIntolerance, ItemType::kCondition, ItemType::kObservation})
    EXPECT_EQ(ParseItemType(ToString(t)), t);
  EXPECT_FALSE(ParseItemType("MedicationRequest").has_value());
}

}  // namespace
}  // namespace renkei::clinical
