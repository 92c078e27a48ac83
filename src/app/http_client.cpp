#include "app/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace renkei::app {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {

template <typename Stream>
Result<HttpResult> Exchange(Stream& stream, http::request<http::string_body>& req) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser);
  HttpResult out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace

Result<HttpResult> HttpRequest(std::string_view method, std::string_view url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view body, std::string_view ca_file) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error(ErrorCode::kInvalid, "not a valid URL: " + std::string(url));
  const bool tls = parsed->scheme() == "https";
  if (!tls && parsed->scheme() != "http")
    return Error(ErrorCode::kInvalid, "URL scheme must be http or https");
  std::string host = parsed->host();
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
  std::string target =
      parsed->encoded_target().empty() ? "/" : std::string(parsed->encoded_target());

  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  // RFC 9110 §7.2: the port is part of Host unless it is the scheme's default.
  const bool default_port = port == (tls ? "443" : "80");
  req.set(http::field::host, default_port ? host : host + ":" + port);
  req.set(http::field::user_agent, "renkei-cli");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::string(body);
  req.prepare_payload();

  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port);
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(30));
      stream.connect(endpoints);
      auto r = Exchange(stream, req);
      beast::error_code ec;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return r;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    if (!ca_file.empty()) {
      ctx.load_verify_file(std::string(ca_file));
    } else {
      ctx.set_default_verify_paths();
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    auto r = Exchange(stream, req);
    beast::error_code ec;
    stream.shutdown(ec);
    return r;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnavailable, std::string("HTTP request failed: ") + e.what());
  }
}

}  // namespace renkei::app
