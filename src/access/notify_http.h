// The rest-hook client of the notification deliverer: one HTTP POST to a patient's endpoint
// over Boost.Beast (sync, on the deliverer's thread), with connect and read timeouts and, for
// https, certificate and host name verification.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "access/notify_subscription.h"
#include "core/status.h"

namespace renkei::access {

struct PostOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds io_timeout{5000};  // TLS handshake, write and read together
  // Loopback, private, link-local and unspecified addresses are refused unless set (a patient's
  // URL must not reach into the operator's network); tests on 127.0.0.1 set it.
  bool allow_private_addresses = false;
  std::string ca_file;  // PEM trust anchors for https; empty: the system's
};

// Loopback, private (RFC 1918, RFC 4193), shared, link-local (cloud metadata services),
// unspecified, multicast and reserved addresses: none a patient's endpoint may reach.
bool IsPrivateAddress(const boost::asio::ip::address& a);

// POSTs body (content_type; no body when empty) to the endpoint and returns the response's
// HTTP status. Connection, TLS and timeout failures: kUnavailable; a refused address:
// kForbidden. Never throws.
Result<int> PostNotification(const Endpoint& endpoint, std::string_view content_type,
                             std::string_view body, const PostOptions& options);

}  // namespace renkei::access
