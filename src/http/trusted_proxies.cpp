#include "http/trusted_proxies.h"

#include <algorithm>
#include <array>

namespace renkei::http {
namespace ip = boost::asio::ip;
namespace {

// An IPv4 peer may reach a dual-stack socket as ::ffff:a.b.c.d; it is the same IPv4 host.
ip::address Unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool InV6(const ip::network_v6& net, const ip::address_v6& a) {
  const std::array<unsigned char, 16> want = net.network().to_bytes();
  const std::array<unsigned char, 16> have = a.to_bytes();
  unsigned bits = net.prefix_length();
  for (size_t i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const auto mask = static_cast<unsigned char>(0xFF << (8 - take));
    if ((want[i] & mask) != (have[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One X-Forwarded-For element as an address: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" or
// "[v6]:port" (proxies differ in whether they append the port).
std::optional<ip::address> ForwardedAddress(std::string_view hop) {
  hop = Trim(hop);
  if (hop.empty()) return std::nullopt;
  if (hop.front() == '[') {
    auto close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hop = hop.substr(1, close - 1);
  } else if (std::count(hop.begin(), hop.end(), ':') == 1) {
    hop = hop.substr(0, hop.find(':'));
  }
  boost::system::error_code ec;
  ip::address a = ip::make_address(hop, ec);
  if (ec) return std::nullopt;
  return Unmapped(a);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const std::string& entry : entries) {
    std::string text = entry;
    if (text.find('/') == std::string::npos) {
      boost::system::error_code ec;
      ip::address a = ip::make_address(text, ec);
      if (ec) return Error(ErrorCode::kInvalid, "trusted proxy '" + entry + "' is not a CIDR");
      text += a.is_v4() ? "/32" : "/128";
    }
    boost::system::error_code ec;
    if (text.find(':') == std::string::npos) {
      ip::network_v4 net = ip::make_network_v4(text, ec);
      if (!ec) {
        out.v4_.push_back(net.canonical());
        continue;
      }
    } else {
      ip::network_v6 net = ip::make_network_v6(text, ec);
      if (!ec) {
        out.v6_.push_back(net.canonical());
        continue;
      }
    }
    return Error(ErrorCode::kInvalid, "trusted proxy '" + entry + "' is not a CIDR");
  }
  return out;
}

bool TrustedProxies::Contains(const ip::address& address) const {
  const ip::address a = Unmapped(address);
  if (a.is_v4()) {
    const uint32_t bits = a.to_v4().to_uint();
    return std::any_of(v4_.begin(), v4_.end(), [&](const ip::network_v4& net) {
      const uint32_t mask = net.netmask().to_uint();
      return (bits & mask) == net.network().to_uint();
    });
  }
  return std::any_of(v6_.begin(), v6_.end(),
                     [&](const ip::network_v6& net) { return InV6(net, a.to_v6()); });
}

std::string TrustedProxies::ClientOf(const ip::address& peer,
                                     std::optional<std::string_view> forwarded_for) const {
  ip::address client = Unmapped(peer);
  if (!forwarded_for || !Contains(client)) return client.to_string();
  std::string_view rest = *forwarded_for;
  while (!rest.empty()) {
    const size_t comma = rest.rfind(',');
    const std::string_view hop = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    std::optional<ip::address> hop_address = ForwardedAddress(hop);
    // A hop that is no address was not written by a proxy of ours: the last trusted hop's
    // peer is as far as the chain can be believed.
    if (!hop_address) break;
    client = *hop_address;
    if (!Contains(client)) break;
  }
  return client.to_string();
}

}  // namespace renkei::http
