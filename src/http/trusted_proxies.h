// Which address a request counts as coming from, behind reverse proxies and load balancers.
//
// The rate limit keys on the client's address. Behind a load balancer every connection comes
// from the balancer, so all clients would share one bucket. An operator names the proxies it
// runs (--trusted-proxy CIDR); only for connections from those is X-Forwarded-For believed,
// and only as far as it was written by a trusted hop: the header is read from the right (each
// proxy appends the address it received the request from), trusted hops are skipped, and the
// first untrusted one is the client. Anything left of it was written by the client and may be
// forged.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace renkei::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts nobody: the peer is always the client

  // Each entry a CIDR ("10.0.0.0/8", "fd00::/8") or a single address. Errors: kInvalid naming
  // the entry that is neither.
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool Contains(const boost::asio::ip::address& address) const;

  // The client address of a request that arrived from `peer` with the (comma-joined)
  // X-Forwarded-For value `forwarded_for`, as text. The peer itself unless it is trusted.
  std::string ClientOf(const boost::asio::ip::address& peer,
                       std::optional<std::string_view> forwarded_for) const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace renkei::http
