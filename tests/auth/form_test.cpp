#include "auth/form.h"

#include <gtest/gtest.h>

namespace renkei::auth {
namespace {

TEST(Form, DecodesPlusAndPercentEscapes) {
  auto f = ParseForm("grant_type=client_credentials&scope=system%2F*.read+system%2F*.write&x=&y");
  ASSERT_TRUE(f.ok());
  FormFields want = {{"grant_type", "client_credentials"},
                     {"scope", "system/*.read system/*.write"},
                     {"x", ""},
                     {"y", ""}};
  EXPECT_EQ(*f, want);
  EXPECT_EQ(ParseForm("")->size(), 0u);
  EXPECT_EQ(ParseForm("&&a=1&&")->size(), 1u);
}

TEST(Form, BadEscapesAreRefused) {
  for (const char* body : {"a=%", "a=%2", "a=%zz", "%g0=1"})
    EXPECT_EQ(ParseForm(body).error().code(), ErrorCode::kInvalid) << body;
}

TEST(Form, MoreFieldsThanTheLimitAreRefused) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += "a=1&";
  EXPECT_TRUE(ParseForm(body, 5).ok());
  EXPECT_EQ(ParseForm(body + "b=2", 5).error().code(), ErrorCode::kInvalid);
}

TEST(Form, EncodeRoundTrips) {
  FormFields fields = {
      {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
      {"k y", "a&b=c+d%/é"}};
  std::string body = EncodeForm(fields);
  EXPECT_EQ(body.find(' '), std::string::npos);
  EXPECT_EQ(ParseForm(body).value(), fields);
}

}  // namespace
}  // namespace renkei::auth
