#include "fhir/bundle.h"

#include <gtest/gtest.h>

#include "fhir/resource.h"

namespace renkei::fhir {
namespace {

TEST(SearchSetBundleTest, LinksTotalAndRawResources) {
  std::string resource =
      R"({"resourceType":"Patient","id":"p1","name":[{"text":"葛󠄀城 𠮷"}]})";
  std::vector<BundleEntryOut> entries(1);
  entries[0].full_url = "http://h/fhir/Patient/p1";
  entries[0].resource_json = resource;
  entries[0].search_mode = "match";
  std::string text = SearchSetBundle(12, "http://h/fhir/Patient?name=a&_count=1",
                                     "http://h/fhir/Patient?name=a&_count=1&_cursor=x", entries);
  // The resource text is embedded byte for byte.
  EXPECT_NE(text.find(resource), std::string::npos);
  auto parsed = json::ParseObject(text, Limits{});
  ASSERT_TRUE(parsed.ok()) << text;
  EXPECT_EQ(json::GetString(*parsed, "type").value_or(""), "searchset");
  EXPECT_EQ(json::GetInt(*parsed, "total").value_or(-1), 12);
  const auto* links = json::GetArray(*parsed, "link");
  ASSERT_NE(links, nullptr);
  ASSERT_EQ(links->size(), 2u);
  EXPECT_EQ(links->at(0).at("relation").as_string(), "self");
  EXPECT_EQ(links->at(1).at("relation").as_string(), "next");
  EXPECT_EQ(links->at(1).at("url").as_string(), "http://h/fhir/Patient?name=a&_count=1&_cursor=x");
  const auto* e = json::GetArray(*parsed, "entry");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at(0).at("search").at("mode").as_string(), "match");
}

TEST(SearchSetBundleTest, NoNextLinkAndNoTotal) {
  std::string text = SearchSetBundle(std::nullopt, "http://h/fhir/Patient", "", {});
  auto parsed = json::ParseObject(text, Limits{});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(json::Find(*parsed, "total"), nullptr);
  EXPECT_EQ(json::GetArray(*parsed, "link")->size(), 1u);
  EXPECT_EQ(json::Find(*parsed, "entry"), nullptr);
}

TEST(BundleJsonTest, ResponseEntries) {
  std::vector<BundleEntryOut> entries(2);
  entries[0].response_status = StatusLine(201);
  entries[0].response_location = "Patient/a/_history/1";
  entries[0].response_etag = FormatETag(1);
  entries[1].response_status = StatusLine(400);
  entries[1].response_outcome_json = R"({"resourceType":"OperationOutcome"})";
  std::string text =
      BundleJson("batch-response", std::nullopt, {}, entries, "2026-11-21T00:00:00.000Z");
  auto parsed = json::ParseObject(text, Limits{});
  ASSERT_TRUE(parsed.ok()) << text;
  const auto& e = parsed->at("entry").as_array();
  EXPECT_EQ(e[0].at("response").at("status").as_string(), "201 Created");
  EXPECT_EQ(e[0].at("response").at("etag").as_string(), "W/\"1\"");
  EXPECT_EQ(e[1].at("response").at("status").as_string(), "400 Bad Request");
  EXPECT_EQ(e[1].at("response").at("outcome").at("resourceType").as_string(), "OperationOutcome");
}

TEST(ParseRequestBundleTest, TransactionEntries) {
  auto b = json::ParseObject(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},
     "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=a|b"}},
    {"request":{"method":"GET","url":"Patient/x"}}]})",
                             Limits{});
  ASSERT_TRUE(b.ok());
  auto r = ParseRequestBundle(*b, Limits{});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->transaction);
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0].if_none_exist, "identifier=a|b");
  EXPECT_EQ(r->entries[1].method, "GET");
}

TEST(ParseRequestBundleTest, CollectsEveryProblem) {
  auto b = json::ParseObject(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient"}},
    {"request":{"method":"POST","url":"Patient"}}]})",
                             Limits{});
  ASSERT_TRUE(b.ok());
  auto r = ParseRequestBundle(*b, Limits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  std::vector<std::string> paths;
  for (const auto& i : r.error().issues()) paths.push_back(i.expression);
  EXPECT_EQ(paths, (std::vector<std::string>{"Bundle.type", "Bundle.entry[0].request",
                                             "Bundle.entry[1].resource"}));
}

TEST(ParseRequestBundleTest, EntryLimitExceededIsTooLarge) {
  Limits limits;
  limits.max_bundle_entries = 2;
  json::object b;
  b["resourceType"] = "Bundle";
  b["type"] = "batch";
  json::array entries;
  for (int i = 0; i < 3; ++i) {
    entries.emplace_back(
        json::object{{"request", json::object{{"method", "GET"}, {"url", "Patient/a"}}}});
  }
  b["entry"] = entries;
  auto r = ParseRequestBundle(b, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().http_status(), 413);
  entries.pop_back();
  b["entry"] = entries;
  EXPECT_TRUE(ParseRequestBundle(b, limits).ok());
}

TEST(RewriteReferencesTest, ReplacesOnlyMappedReferences) {
  auto v = json::Parse(R"({"beneficiary":{"reference":"urn:uuid:p"},
    "payor":[{"reference":"Organization/o"}],"note":"urn:uuid:p"})",
                       Limits{});
  ASSERT_TRUE(v.ok());
  RewriteReferences(*v, {{"urn:uuid:p", "Patient/123"}});
  EXPECT_EQ(v->at("beneficiary").at("reference").as_string(), "Patient/123");
  EXPECT_EQ(v->at("payor").at(0).at("reference").as_string(), "Organization/o");
  EXPECT_EQ(v->at("note").as_string(), "urn:uuid:p");
}

TEST(ResourceHelpersTest, ETagsAndMeta) {
  EXPECT_EQ(FormatETag(3), "W/\"3\"");
  EXPECT_EQ(ParseETag("W/\"3\"").value_or(0), 3);
  EXPECT_EQ(ParseETag("\"4\"").value_or(0), 4);
  EXPECT_EQ(ParseETag("5").value_or(0), 5);
  EXPECT_FALSE(ParseETag("W/\"x\"").has_value());
  EXPECT_FALSE(ParseETag("0").has_value());
  json::object r{{"name", "x"},
                 {"resourceType", "Patient"},
                 {"meta", json::object{{"profile", json::array{"p"}}}}};
  StampMeta(r, "id1", 2, TimePoint(std::chrono::seconds(0)));
  EXPECT_EQ(r.begin()->key(), "resourceType");
  EXPECT_EQ(r.at("id").as_string(), "id1");
  EXPECT_EQ(r.at("meta").at("versionId").as_string(), "2");
  EXPECT_EQ(r.at("meta").at("lastUpdated").as_string(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(r.at("meta").at("profile").at(0).as_string(), "p");
  EXPECT_EQ(HttpDate(TimePoint(std::chrono::seconds(0))), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace renkei::fhir
