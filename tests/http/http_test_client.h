// A small synchronous HTTP/1.1 client over Beast for the server tests: one connection,
// several requests, raw writes for pipelining and malformed input.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace renkei::http::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool keep_alive = true;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

template <typename Message>
HttpResponse ToResponse(Message& message) {
  HttpResponse r;
  r.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    r.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  r.body = std::move(message.body());
  r.keep_alive = message.keep_alive();
  return r;
}

template <typename Message>
void FillRequest(Message& request, const std::string& method, const std::string& target,
                 const HeaderList& headers, const std::string& body) {
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(boost::beast::http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.body() = body;
    request.prepare_payload();
  }
}

// Gives up on a read after `seconds` so that a server bug fails a test instead of hanging it.
inline void SetReceiveTimeout(int fd, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(endpoint);
    SetReceiveTimeout(socket_.native_handle(), 30);
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const HeaderList& headers = {}, const std::string& body = {}) {
    namespace bhttp = boost::beast::http;
    bhttp::request<bhttp::string_body> request;
    FillRequest(request, method, target, headers, body);
    bhttp::write(socket_, request);
    return Read(method == "HEAD");
  }

  void WriteRaw(const std::string& raw) { boost::asio::write(socket_, boost::asio::buffer(raw)); }

  // `head`: the answer to a HEAD request, whose Content-Length announces no body.
  HttpResponse Read(bool head = false) {
    namespace bhttp = boost::beast::http;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    parser.body_limit(64 * 1024 * 1024);
    bhttp::read(socket_, buffer_, parser);
    auto message = parser.release();
    return ToResponse(message);
  }

  // True when the server has closed the connection (EOF or reset on the next read).
  bool ServerClosed() {
    char byte;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// One request on a fresh connection.
inline HttpResponse Fetch(uint16_t port, const std::string& method, const std::string& target,
                          const HeaderList& headers = {}, const std::string& body = {}) {
  Client client(port);
  return client.Send(method, target, headers, body);
}

}  // namespace renkei::http::testing
