#include "fhir/validation.h"

#include <gtest/gtest.h>

namespace renkei::fhir {
namespace {

TEST(IssueCollectorTest, EmptyIsOk) {
  IssueCollector c;
  EXPECT_TRUE(c.ToStatus("Patient is not valid").ok());
}

TEST(IssueCollectorTest, CollectsEveryIssueWithPaths) {
  IssueCollector c;
  c.Invalid("Patient.name[0].family", "must be a string");
  c.Invalid("Patient.birthDate", "not a date");
  c.Rule("Patient.identifier[1].value", "unknown insurer");
  Status s = c.ToStatus("Patient is not valid");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalid);
  ASSERT_EQ(s.error().issues().size(), 3u);
  EXPECT_EQ(s.error().issues()[0].expression, "Patient.name[0].family");
  EXPECT_EQ(s.error().issues()[1].expression, "Patient.birthDate");
  EXPECT_EQ(s.error().issues()[2].type, "business-rule");
}

TEST(IssueCollectorTest, OnlyRulesMakeABusinessRuleError) {
  IssueCollector c;
  c.Rule("Coverage.payor[0]", "the insurer is not registered");
  Status s = c.ToStatus("Coverage is not valid");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kBusinessRule);
  EXPECT_EQ(s.error().http_status(), 422);
}

TEST(IssueCollectorTest, MergeReplacesTheResourceTypeByThePrefix) {
  IssueCollector inner;
  inner.Invalid("Patient.name[0].family", "must be a string");
  inner.Invalid("Patient", "whole resource");
  IssueCollector outer;
  outer.Merge(inner, "Bundle.entry[2].resource");
  ASSERT_EQ(outer.size(), 2u);
  EXPECT_EQ(outer.issues()[0].expression, "Bundle.entry[2].resource.name[0].family");
  EXPECT_EQ(outer.issues()[1].expression, "Bundle.entry[2].resource");
}

TEST(PathTest, ChildAndIndex) {
  EXPECT_EQ(Index(Child("Patient", "name"), 0), "Patient.name[0]");
  EXPECT_EQ(Child(Index("Patient.name", 1), "given"), "Patient.name[1].given");
}

TEST(CheckResourceShapeTest, ReportsEveryShapeProblem) {
  auto r = json::ParseObject(
      R"({"resourceType":"Patient","id":"bad id!","name":[],"gender":"","x":null,"a":{}})",
      Limits{});
  ASSERT_TRUE(r.ok());
  IssueCollector c;
  CheckResourceShape(*r, "Patient", c);
  EXPECT_TRUE(c.HasPath("Patient.id"));
  EXPECT_TRUE(c.HasPath("Patient.name"));
  EXPECT_TRUE(c.HasPath("Patient.gender"));
  EXPECT_TRUE(c.HasPath("Patient.x"));
  EXPECT_TRUE(c.HasPath("Patient.a"));
  EXPECT_EQ(c.size(), 5u);
}

TEST(CheckResourceShapeTest, WrongResourceType) {
  auto r = json::ParseObject(R"({"resourceType":"Coverage"})", Limits{});
  ASSERT_TRUE(r.ok());
  IssueCollector c;
  CheckResourceShape(*r, "Patient", c);
  EXPECT_TRUE(c.HasPath("Patient.resourceType"));
}

TEST(TypedGettersTest, RequireAndOptional) {
  auto r = json::ParseObject(R"({"a":"x","b":3})", Limits{});
  ASSERT_TRUE(r.ok());
  IssueCollector c;
  EXPECT_EQ(RequireString(*r, "a", "T", c).value_or(""), "x");
  EXPECT_FALSE(RequireString(*r, "b", "T", c).has_value());
  EXPECT_FALSE(RequireString(*r, "missing", "T", c).has_value());
  EXPECT_FALSE(OptionalString(*r, "missing", "T", c).has_value());
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(c.HasPath("T.b"));
  EXPECT_TRUE(c.HasPath("T.missing"));
}

TEST(IsFhirDateTest, Dates) {
  EXPECT_TRUE(IsFhirDate("1930-06-28"));
  EXPECT_TRUE(IsFhirDate("1930-06"));
  EXPECT_TRUE(IsFhirDate("1930"));
  EXPECT_FALSE(IsFhirDate("1930-02-30"));
  EXPECT_FALSE(IsFhirDate("1930-6-28"));
  EXPECT_FALSE(IsFhirDate("19300628"));
  EXPECT_FALSE(IsFhirDate("1930-06-28T00:00:00Z"));
}

TEST(ParseReferenceTest, RelativeOnly) {
  auto r = ParseReference("Patient/abc-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, "Patient");
  EXPECT_EQ(r->second, "abc-1");
  EXPECT_FALSE(ParseReference("urn:uuid:1234").has_value());
  EXPECT_FALSE(ParseReference("Patient/").has_value());
  EXPECT_FALSE(ParseReference("patient/1").has_value());
  EXPECT_FALSE(ParseReference("1").has_value());
}

}  // namespace
}  // namespace renkei::fhir
