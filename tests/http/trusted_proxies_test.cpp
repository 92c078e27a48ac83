// The client address behind trusted reverse proxies: X-Forwarded-For is believed only as far
// as trusted hops wrote it.
#include "http/trusted_proxies.h"

#include <gtest/gtest.h>

namespace renkei::http {
namespace {

namespace ip = boost::asio::ip;

TrustedProxies Trust(std::vector<std::string> entries) {
  auto parsed = TrustedProxies::Parse(entries);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  return parsed.ok() ? *parsed : TrustedProxies();
}

TEST(TrustedProxiesTest, ParsesCidrsAndSingleAddresses) {
  TrustedProxies t = Trust({"10.0.0.0/8", "192.168.1.7", "fd00::/8", "2001:db8::1"});
  EXPECT_TRUE(t.Contains(ip::make_address("10.200.3.4")));
  EXPECT_TRUE(t.Contains(ip::make_address("192.168.1.7")));
  EXPECT_FALSE(t.Contains(ip::make_address("192.168.1.8")));
  EXPECT_FALSE(t.Contains(ip::make_address("11.0.0.1")));
  EXPECT_TRUE(t.Contains(ip::make_address("fd12:3456::1")));
  EXPECT_FALSE(t.Contains(ip::make_address("fe80::1")));
  EXPECT_TRUE(t.Contains(ip::make_address("2001:db8::1")));
  EXPECT_FALSE(t.Contains(ip::make_address("2001:db8::2")));
  // An IPv4 peer seen on a dual-stack socket is the same host.
  EXPECT_TRUE(t.Contains(ip::make_address("::ffff:10.1.2.3")));
}

TEST(TrustedProxiesTest, NonCanonicalCidrCoversItsNetwork) {
  TrustedProxies t = Trust({"10.1.2.3/16", "fd00:1:2:3::5/48"});
  EXPECT_TRUE(t.Contains(ip::make_address("10.1.250.250")));
  EXPECT_FALSE(t.Contains(ip::make_address("10.2.0.1")));
  EXPECT_TRUE(t.Contains(ip::make_address("fd00:1:2:ffff::1")));
  EXPECT_FALSE(t.Contains(ip::make_address("fd00:1:3::1")));
}

TEST(TrustedProxiesTest, RefusesWhatIsNoCidr) {
  for (std::string bad : {"", "10.0.0.0/33", "not-an-address", "10.0.0/8", "fd00::/129",
                          "10.0.0.0/-1", "example.org"}) {
    auto parsed = TrustedProxies::Parse({bad});
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(parsed.error().message().find("'" + bad + "'"), std::string::npos);
  }
}

TEST(TrustedProxiesTest, UntrustedPeerIsTheClientWhateverItForwards) {
  TrustedProxies t = Trust({"10.0.0.0/8"});
  EXPECT_EQ(t.ClientOf(ip::make_address("203.0.113.9"), "198.51.100.1"), "203.0.113.9");
  EXPECT_EQ(TrustedProxies().ClientOf(ip::make_address("10.0.0.1"), "198.51.100.1"), "10.0.0.1");
}

TEST(TrustedProxiesTest, TrustedPeerForwardsTheFirstUntrustedHopFromTheRight) {
  TrustedProxies t = Trust({"10.0.0.0/8"});
  const auto lb = ip::make_address("10.0.0.2");
  EXPECT_EQ(t.ClientOf(lb, "198.51.100.1"), "198.51.100.1");
  // The client forged a first hop; the proxies appended the real one and themselves.
  EXPECT_EQ(t.ClientOf(lb, "1.2.3.4, 198.51.100.1, 10.0.0.7"), "198.51.100.1");
  // Ports and brackets, as some proxies write them.
  EXPECT_EQ(t.ClientOf(lb, "198.51.100.1:4711"), "198.51.100.1");
  EXPECT_EQ(t.ClientOf(lb, "[2001:db8::5]:443"), "2001:db8::5");
  EXPECT_EQ(t.ClientOf(lb, " 2001:db8::6 "), "2001:db8::6");
  // Without the header the balancer is all there is to go by.
  EXPECT_EQ(t.ClientOf(lb, std::nullopt), "10.0.0.2");
}

TEST(TrustedProxiesTest, GarbageStopsTheWalkAtTheLastTrustedHop) {
  TrustedProxies t = Trust({"10.0.0.0/8"});
  const auto lb = ip::make_address("10.0.0.2");
  EXPECT_EQ(t.ClientOf(lb, "unknown"), "10.0.0.2");
  EXPECT_EQ(t.ClientOf(lb, "198.51.100.1, garbage, 10.0.0.9"), "10.0.0.9");
  EXPECT_EQ(t.ClientOf(lb, ""), "10.0.0.2");
  // Only trusted hops: the leftmost of them.
  EXPECT_EQ(t.ClientOf(lb, "10.0.0.5, 10.0.0.9"), "10.0.0.5");
}

}  // namespace
}  // namespace renkei::http
