#include "access/notify_http.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace renkei::access {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A receiver's answer is not read further than this: only its status matters.
constexpr size_t kMaxResponseBytes = 64 * 1024;

// Asynchronous on purpose: Beast's stream timeouts (expires_after) apply to asynchronous
// operations only, so a receiver that accepts and then stalls could otherwise hold the
// notifier forever.
template <typename Stream>
asio::awaitable<int> Exchange(Stream& stream, const http::request<http::string_body>& req) {
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  co_return static_cast<int>(parser.get().result_int());
}

}  // namespace

bool IsPrivateAddress(const asio::ip::address& a) {
  if (a.is_v6()) {
    const asio::ip::address_v6 v6 = a.to_v6();
    if (v6.is_v4_mapped()) {
      return IsPrivateAddress(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
    }
    const auto bytes = v6.to_bytes();
    // fc00::/7 unique local addresses (RFC 4193).
    const bool unique_local = (bytes[0] & 0xfe) == 0xfc;
    return v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() || v6.is_site_local() ||
           v6.is_multicast() || unique_local;
  }
  const uint32_t v = a.to_v4().to_uint();
  auto in = [v](uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) ||   // 0.0.0.0/8 "this network"
         in(0x0a000000, 8) ||   // 10.0.0.0/8 (RFC 1918)
         in(0x64400000, 10) ||  // 100.64.0.0/10 shared address space (RFC 6598)
         in(0x7f000000, 8) ||   // loopback
         in(0xa9fe0000, 16) ||  // 169.254.0.0/16 link-local (cloud metadata services)
         in(0xac100000, 12) ||  // 172.16.0.0/12 (RFC 1918)
         in(0xc0a80000, 16) ||  // 192.168.0.0/16 (RFC 1918)
         in(0xe0000000, 4) ||   // multicast
         in(0xf0000000, 4);     // reserved and broadcast
}

Result<int> PostNotification(const Endpoint& endpoint, std::string_view content_type,
                             std::string_view body, const PostOptions& options) {
  http::request<http::string_body> req(http::verb::post, endpoint.target, 11);
  // RFC 9110 §7.2: the port is part of Host unless it is the scheme's default.
  const bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + endpoint.host + "]" : endpoint.host;
  req.set(http::field::host, default_port ? host : host + ":" + endpoint.port);
  req.set(http::field::user_agent, "renkei-notify");
  req.set(http::field::connection, "close");
  if (!body.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::string(body);
  req.prepare_payload();

  // Resolution (the system resolver's own timeouts bound it), then the connection and the
  // exchange under the stream timeouts, all on one io_context run on this thread.
  asio::io_context ioc;
  std::vector<tcp::endpoint> targets;
  {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto resolved = resolver.resolve(endpoint.host, endpoint.port, ec);
    if (ec) return Error(ErrorCode::kUnavailable, "cannot resolve the endpoint: " + ec.message());
    // Connect only to addresses that passed the check, so a second resolution cannot swap in
    // an internal address.
    for (const auto& r : resolved) {
      if (options.allow_private_addresses || !IsPrivateAddress(r.endpoint().address())) {
        targets.push_back(r.endpoint());
      }
    }
  }
  if (targets.empty()) {
    return Error(ErrorCode::kForbidden, "the endpoint resolves to a private address");
  }
  std::optional<Result<int>> outcome;
  auto finish = [&](std::exception_ptr failure, int status) {
    if (!failure) {
      outcome = status;
      return;
    }
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      outcome =
          Error(ErrorCode::kUnavailable, std::string("notification not delivered: ") + e.what());
    }
  };
  try {
    if (!endpoint.tls) {
      beast::tcp_stream stream(ioc);
      asio::co_spawn(
          ioc,
          [&]() -> asio::awaitable<int> {
            stream.expires_after(options.connect_timeout);
            co_await stream.async_connect(targets, asio::use_awaitable);
            stream.expires_after(options.io_timeout);
            int status = co_await Exchange(stream, req);
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            co_return status;
          },
          finish);
      ioc.run();
    } else {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
      if (!options.ca_file.empty()) {
        ctx.load_verify_file(options.ca_file);
      } else {
        ctx.set_default_verify_paths();
      }
      ctx.set_verify_mode(asio::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      // SNI carries host names only, never address literals (RFC 6066 §3).
      beast::error_code ec;
      asio::ip::make_address(endpoint.host, ec);
      const bool literal = !ec;
      if (!literal && !SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str())) {
        return Error(ErrorCode::kUnavailable, "cannot set the TLS server name");
      }
      stream.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
      asio::co_spawn(
          ioc,
          [&]() -> asio::awaitable<int> {
            auto& tcp_layer = beast::get_lowest_layer(stream);
            tcp_layer.expires_after(options.connect_timeout);
            co_await tcp_layer.async_connect(targets, asio::use_awaitable);
            tcp_layer.expires_after(options.io_timeout);
            co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
            int status = co_await Exchange(stream, req);
            // The peer may close without close_notify: not an error here.
            auto [ignored] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
            (void)ignored;
            co_return status;
          },
          finish);
      ioc.run();
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnavailable, std::string("notification not delivered: ") + e.what());
  }
  if (!outcome) return Error(ErrorCode::kUnavailable, "notification not delivered");
  return std::move(*outcome);
}

}  // namespace renkei::access
