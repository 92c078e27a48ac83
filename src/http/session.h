// One client connection (plain or TLS): reads requests with Beast's parser under the header
// and per-route body limits, hands them to the worker pool in order, writes the responses in
// order, and enforces the idle/request timeouts. Internal to the server.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "http/connection_registry.h"
#include "http/dispatcher.h"
#include "http/server.h"
#include "http/trusted_proxies.h"

namespace renkei::http {

// Responses waiting for work their handler held (core/response_gate.h: the audit commit of a
// read). The server waits for them before it stops its I/O threads, as it waits for handlers
// still running, so that a response never outlives the I/O context it is posted to.
class HeldResponses {
 public:
  void Add();
  // Called once per Add, as the last thing the held response's completion does.
  void Done();
  void WaitNone();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

// What every session of one server shares; owned by the server, outlives the sessions.
struct SessionContext {
  const ServerOptions* options = nullptr;
  Dispatcher* dispatcher = nullptr;
  boost::asio::thread_pool* workers = nullptr;
  ConnectionRegistry* registry = nullptr;
  HeldResponses* held = nullptr;
  boost::asio::ssl::context* tls = nullptr;         // null: plain HTTP
  std::string local_authority;                      // "127.0.0.1:8080", when Host is unusable
  const TrustedProxies* trusted_proxies = nullptr;  // null or empty: the peer is the client
};

// Starts serving an accepted socket (whose executor is a strand of its own).
void StartSession(boost::asio::ip::tcp::socket socket, const SessionContext& context);

}  // namespace renkei::http
