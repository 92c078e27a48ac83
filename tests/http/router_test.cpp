#include "http/router.h"

#include <gtest/gtest.h>

#include "http/wire.h"

namespace renkei::http {
namespace {

using Params = std::map<std::string, std::string, std::less<>>;
using Kind = Router::Match::Kind;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Add(0, Method::kGet, "/fhir/Patient/{id}");
    Add(1, Method::kPut, "/fhir/Patient/{id}");
    Add(2, Method::kGet, "/fhir/Patient/{id}/_history/{vid}");
    Add(3, Method::kPost, "/fhir/Patient/$match");
    Add(4, Method::kGet, "/fhir/Patient/_search");
    Add(5, Method::kGet, "/fhir/metadata");
    Add(6, Method::kGet, "/fhir/Patient/{id}/$everything");
    Add(7, Method::kGet, "/");
    Add(8, Method::kGet, "/fhir/Observation/{oid}/x");
  }
  void Add(size_t i, Method m, const char* pattern) {
    ASSERT_TRUE(router_.Add(i, m, pattern).ok());
  }
  Router router_;
};

TEST_F(RouterTest, CapturesOneSegment) {
  Params params;
  auto m = router_.Find(Method::kGet, "/fhir/Patient/abc-1", &params);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 0u);
  EXPECT_EQ(params["id"], "abc-1");
}

TEST_F(RouterTest, CapturesSeveral) {
  Params params;
  auto m = router_.Find(Method::kGet, "/fhir/Patient/p1/_history/3", &params);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 2u);
  EXPECT_EQ(params["id"], "p1");
  EXPECT_EQ(params["vid"], "3");
}

TEST_F(RouterTest, LiteralWinsOverCapture) {
  auto m = router_.Find(Method::kGet, "/fhir/Patient/_search", nullptr);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 4u);
}

TEST_F(RouterTest, OperationLiteralSegment) {
  auto m = router_.Find(Method::kPost, "/fhir/Patient/$match", nullptr);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 3u);
  Params params;
  m = router_.Find(Method::kGet, "/fhir/Patient/p9/$everything", &params);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 6u);
  EXPECT_EQ(params["id"], "p9");
}

TEST_F(RouterTest, LiteralBranchFallsBackToCaptureForOtherMethods) {
  // "$match" has only POST; a GET finds the {id} route instead of stopping at the literal.
  Params params;
  auto m = router_.Find(Method::kGet, "/fhir/Patient/$match", &params);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 0u);
  EXPECT_EQ(params["id"], "$match");
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  auto m = router_.Find(Method::kDelete, "/fhir/Patient/p1", nullptr);
  ASSERT_EQ(m.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PUT");
  EXPECT_EQ(router_.AllowedMethods("/fhir/Patient/p1"), "GET, PUT");
}

TEST_F(RouterTest, UnknownPathIs404) {
  auto m = router_.Find(Method::kGet, "/nothing/here", nullptr);
  EXPECT_EQ(m.kind, Kind::kNotFound);
  EXPECT_FALSE(m.unknown_fhir_type);
  m = router_.Find(Method::kGet, "/fhir/Patient/p1/_history", nullptr);
  EXPECT_EQ(m.kind, Kind::kNotFound);
  EXPECT_FALSE(m.unknown_fhir_type);
}

TEST_F(RouterTest, UnknownFhirTypeIsFlagged) {
  auto m = router_.Find(Method::kGet, "/fhir/Foo/1", nullptr);
  EXPECT_EQ(m.kind, Kind::kNotFound);
  EXPECT_TRUE(m.unknown_fhir_type);
}

TEST_F(RouterTest, RootAndTrailingSlash) {
  EXPECT_EQ(router_.Find(Method::kGet, "/", nullptr).route, 7u);
  EXPECT_EQ(router_.Find(Method::kGet, "/fhir/metadata/", nullptr).kind, Kind::kFound);
  EXPECT_EQ(router_.Find(Method::kGet, "/fhir/Patient//", nullptr).kind, Kind::kNotFound);
}

TEST_F(RouterTest, CaptureNamesArePerRoute) {
  Params params;
  auto m = router_.Find(Method::kGet, "/fhir/Observation/o1/x", &params);
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(params.count("oid"), 1u);
  EXPECT_EQ(params.count("id"), 0u);
}

TEST_F(RouterTest, DuplicateAndMalformedPatternsAreRejected) {
  EXPECT_FALSE(router_.Add(9, Method::kGet, "/fhir/Patient/{other}").ok());
  EXPECT_FALSE(router_.Add(9, Method::kGet, "no-slash").ok());
  EXPECT_FALSE(router_.Add(9, Method::kGet, "/a/{b").ok());
  EXPECT_FALSE(router_.Add(9, Method::kGet, "/a//b").ok());
}

TEST_F(RouterTest, TooManySegmentsNeverMatch) {
  std::string path;
  for (int i = 0; i < 40; ++i) path += "/x";
  EXPECT_EQ(router_.Find(Method::kGet, path, nullptr).kind, Kind::kNotFound);
}

TEST(ParseTargetTest, DecodesPathAndQueryInOrder) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  ASSERT_TRUE(
      ParseTarget("/fhir/Patient/a%20b?name=%E5%B1%B1%E7%94%B0&given=a+b&name=x&flag", path, query)
          .ok());
  EXPECT_EQ(path, "/fhir/Patient/a b");
  ASSERT_EQ(query.size(), 4u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>("name", "山田")));
  EXPECT_EQ(query[1], (std::pair<std::string, std::string>("given", "a b")));
  EXPECT_EQ(query[2], (std::pair<std::string, std::string>("name", "x")));
  EXPECT_EQ(query[3], (std::pair<std::string, std::string>("flag", "")));
}

TEST(ParseTargetTest, RejectsEncodedSlashDotSegmentsAndBadForms) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  EXPECT_FALSE(ParseTarget("/fhir/Patient/a%2Fb", path, query).ok());
  EXPECT_FALSE(ParseTarget("/fhir/../admin", path, query).ok());
  EXPECT_FALSE(ParseTarget("/fhir/%2e%2e/admin", path, query).ok());
  EXPECT_FALSE(ParseTarget("http://example.com/x", path, query).ok());
  EXPECT_FALSE(ParseTarget("/bad%zz", path, query).ok());
  EXPECT_FALSE(ParseTarget("/nul%00", path, query).ok());
  ASSERT_TRUE(ParseTarget("/", path, query).ok());
  EXPECT_EQ(path, "/");
}

TEST(WireTest, ResponseHeadDropsInjectedAndFramingHeaders) {
  Response r = Response::Json(201, "{}");
  r.headers.emplace_back("Location", "/fhir/Patient/1");
  r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=1");
  r.headers.emplace_back("Content-Length", "999");
  r.headers.emplace_back("Bad Name", "v");
  std::string head;
  AppendResponseHead(r, true, false, head);
  EXPECT_EQ(head.rfind("HTTP/1.1 201 Created\r\n", 0), 0u);
  EXPECT_NE(head.find("Location: /fhir/Patient/1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(head.find("999"), std::string::npos);
  EXPECT_EQ(head.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(head.find("Bad Name"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST(WireTest, NoBodyHeadersFor204) {
  Response r = Response::Json(204, "");
  std::string head;
  AppendResponseHead(r, false, true, head);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_NE(head.find("Strict-Transport-Security"), std::string::npos);
}

TEST(WireTest, HostValidation) {
  EXPECT_TRUE(IsValidHost("example.jp:8443"));
  EXPECT_TRUE(IsValidHost("[::1]:80"));
  EXPECT_FALSE(IsValidHost("evil.com/x"));
  EXPECT_FALSE(IsValidHost(""));
  EXPECT_FALSE(IsValidHost("a b"));
}

}  // namespace
// FHIR token searches and JP-CLINS bundle identifiers are commonly sent with raw | and ^.
TEST(ParseTargetTest, AcceptsRawPipeAndCaretInTheQueryOnly) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  ASSERT_TRUE(ParseTarget("/fhir/Patient?identifier=http://x/y|01130012::1:00&b=1310000011^2026^a1",
                          path, query)
                  .ok());
  EXPECT_EQ(path, "/fhir/Patient");
  ASSERT_EQ(query.size(), 2u);
  EXPECT_EQ(query[0].second, "http://x/y|01130012::1:00");
  EXPECT_EQ(query[1].second, "1310000011^2026^a1");
  EXPECT_FALSE(ParseTarget("/fhir/Pat|ient", path, query).ok());
}

}  // namespace renkei::http
