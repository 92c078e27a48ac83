// The published JP-CLINS examples (data/fhir/examples/, used unmodified): the real 5-item
// bundle is accepted as is, and each single-resource example, placed after the example
// Patient in a bundle envelope built here in memory, is accepted or rejected for the
// documented reason.
#include <gtest/gtest.h>

#include <set>

#include "clinical/registration_bundle.h"
#include "clinical_test_files.h"

namespace renkei::clinical {
namespace {

using testing::ExamplesDir;
using testing::ReadObject;
using testing::TestDir;

constexpr std::string_view kExampleFacility = "1318814790";

TEST(RealExample, ObservationBundleAcceptedAsIs) {
  json::object bundle =
      ReadObject(ExamplesDir() / "Bundle-Bundle-CLINS-Observations-Example-01.json");
  auto result = ValidateRegistrationBundle(bundle, kExampleFacility);
  ASSERT_TRUE(result.ok()) << result.error().ToString()
                           << " first: " << result.error().issues()[0].expression << " "
                           << result.error().issues()[0].text;
  const RegistrationBundle& r = *result;
  EXPECT_EQ(r.identifier.value, "1318814790^2024^0123-IDa-203949583949");
  EXPECT_EQ(r.identifier.facility_code, "1318814790");
  EXPECT_EQ(r.identifier.year, 2024);
  EXPECT_EQ(r.identifier.local_id, "0123-IDa-203949583949");
  EXPECT_EQ(r.item_type, ItemType::kObservation);
  EXPECT_EQ(r.insured_person_id, "00012345:あいう:１８７:01");
  ASSERT_TRUE(r.patient_local_id.has_value());
  EXPECT_EQ(*r.patient_local_id, "000999739");
  EXPECT_FALSE(r.is_deletion());
  ASSERT_EQ(r.resources.size(), 4u);
  for (size_t i = 0; i < r.resources.size(); ++i) {
    EXPECT_EQ(r.resources[i].entry_index, i + 1);
    EXPECT_EQ(r.resources[i].type, ItemType::kObservation);
    EXPECT_FALSE(r.resources[i].flags.lts);
    EXPECT_FALSE(r.resources[i].infection);
  }
  EXPECT_EQ(r.resources[0].id, "InlineExample-JP-Obs-LabResult-eCS-Alb");
}

TEST(RealExample, RejectedFromAnotherSender) {
  json::object bundle =
      ReadObject(ExamplesDir() / "Bundle-Bundle-CLINS-Observations-Example-01.json");
  auto result = ValidateRegistrationBundle(bundle, "1310000011");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().http_status(), 422);
  // The bundle identifier, each Observation's institution number and the Patient's local id
  // all name 1318814790.
  EXPECT_EQ(result.error().issues().size(), 1u + 4u + 1u) << result.error().ToString();
}

// Wraps the example Patient and one example resource in a registration bundle envelope.
json::object Wrap(const json::object& resource, std::string_view type) {
  json::object patient = ReadObject(ExamplesDir() / "Patient-Example-JP-Patient-eCS-MAKINO.json");
  json::object bundle;
  bundle["resourceType"] = "Bundle";
  bundle["meta"] = json::object{
      {"profile", json::array{"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS"}},
      {"tag", json::array{json::object{
                  {"system", "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS"},
                  {"code", type}}}}};
  bundle["identifier"] = json::object{{"system", "http://jpfhir.jp/fhir/clins/bundle-identifier"},
                                      {"value", "1318814790^2024^examples-1"}};
  bundle["type"] = "collection";
  bundle["entry"] =
      json::array{json::object{{"fullUrl", "urn:uuid:11111111-2222-4333-8444-555555555555"},
                               {"resource", patient}},
                  json::object{{"fullUrl", "urn:uuid:11111111-2222-4333-8444-666666666666"},
                               {"resource", resource}}};
  return bundle;
}

struct ResourceCase {
  const char* file;
  const char* type;
  // Rule ids of the expected issues; empty when the example is accepted.
  std::set<std::string> rules;
};

class ResourceExample : public ::testing::TestWithParam<ResourceCase> {};

TEST_P(ResourceExample, AcceptedOrRejectedForTheDocumentedReason) {
  const ResourceCase& c = GetParam();
  json::object resource = ReadObject(ExamplesDir() / c.file);
  auto result = ValidateRegistrationBundle(Wrap(resource, c.type), kExampleFacility);
  std::set<std::string> got;
  if (!result.ok()) {
    for (const auto& issue : result.error().issues())
      got.insert(issue.text.substr(1, issue.text.find(']') - 1));
  }
  EXPECT_EQ(got, c.rules) << c.file << (result.ok() ? "" : " " + result.error().ToString());
}

INSTANTIATE_TEST_SUITE_P(
    Published, ResourceExample,
    ::testing::Values(
        ResourceCase{"AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json",
                     "AllergyIntolerance",
                     {}},
        // Its encounter references "Encounter/..." in no entry of the bundle: in a
        // registration bundle only the Patient is referenced across entries.
        ResourceCase{"AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-02.json",
                     "AllergyIntolerance",
                     {"renkei:reference-scope"}},
        ResourceCase{"AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-03.json",
                     "AllergyIntolerance",
                     {}},
        // Its patient.identifier system is misspelt (".../eCS/Idsysmem/...") so it names no
        // patient of the bundle.
        ResourceCase{"AllergyIntolerance-Example-JP-DrugContraindications-CLINS-eCS-03.json",
                     "AllergyIntolerance",
                     {"renkei:subject-patient"}},
        ResourceCase{"Condition-Example-JP-Condition-eCS-01.json", "Condition", {}},
        // ANGINA and Fx are core-profile examples without the JP-CLINS institution number,
        // department or contained Encounter.
        ResourceCase{
            "Condition-Example-JP-Condition-eCS-ANGINA.json",
            "Condition",
            {"renkei:institution-number", "renkei:department", "renkei:contained-encounter"}},
        ResourceCase{
            "Condition-Example-JP-Condition-eCS-Fx.json",
            "Condition",
            {"renkei:institution-number", "renkei:department", "renkei:contained-encounter"}},
        ResourceCase{"Observation-Example-JP-Obs-LabResult-eCS-K.json", "Observation", {}}));

TEST(ValidBundles, FactsOfTheConditionBundle) {
  auto result =
      ValidateRegistrationBundle(ReadObject(TestDir() / "valid" / "condition.json"), "1310000011");
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  ASSERT_EQ(result->resources.size(), 3u);
  EXPECT_EQ(result->item_type, ItemType::kCondition);
  EXPECT_EQ(result->insured_person_id, "01130012:ほけん:１２３４:01");
  EXPECT_TRUE(result->resources[0].flags.uninformed);
  EXPECT_FALSE(result->resources[0].flags.lts);
  EXPECT_TRUE(result->resources[1].flags.lts);
  EXPECT_TRUE(result->resources[2].flags.undelivered);
  EXPECT_EQ(result->resources[2].id, "c3");
}

TEST(ValidBundles, FactsOfTheAllergyAndObservationBundles) {
  auto allergy =
      ValidateRegistrationBundle(ReadObject(TestDir() / "valid" / "allergy.json"), "1310000011");
  ASSERT_TRUE(allergy.ok()) << allergy.error().ToString();
  EXPECT_EQ(allergy->item_type, ItemType::kAllergyIntolerance);
  ASSERT_EQ(allergy->resources.size(), 5u);
  EXPECT_TRUE(allergy->resources[0].flags.lts);

  auto lab = ValidateRegistrationBundle(ReadObject(TestDir() / "valid" / "observation.json"),
                                        "1310000011");
  ASSERT_TRUE(lab.ok()) << lab.error().ToString();
  ASSERT_EQ(lab->resources.size(), 3u);
  EXPECT_FALSE(lab->resources[0].infection);
  EXPECT_TRUE(lab->resources[1].infection);
  EXPECT_TRUE(lab->resources[1].flags.lts);
}

TEST(ValidBundles, PatientOnlyBundleIsADeletion) {
  auto result =
      ValidateRegistrationBundle(ReadObject(TestDir() / "valid" / "deletion.json"), "1310000011");
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE(result->is_deletion());
  EXPECT_EQ(result->identifier.value, "1310000011^2025^cond-0001");
}

}  // namespace
}  // namespace renkei::clinical
