// The HTTP/1.1 server: Boost.Beast sessions on I/O threads, handlers on a worker pool,
// router + auth + limits + metrics in one pure dispatch (STYLE.md, Beast examples).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/status.h"

namespace renkei::http {

// PEM files for HTTPS. A non-empty client_ca_file turns on mutual TLS: every client must
// present a certificate that chains to it.
struct TlsOptions {
  std::string cert_file;  // server certificate chain (leaf first)
  std::string key_file;   // its private key
  std::string client_ca_file;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = an ephemeral port (tests); see Server::port()
  int io_threads = 2;
  int worker_threads = 8;  // handlers run here, never on I/O threads
  Limits limits;           // body, header and rate limits are enforced here
  std::optional<TlsOptions> tls;
  std::chrono::seconds idle_timeout{30};      // keep-alive wait for the next request's header
  std::chrono::seconds request_timeout{30};   // reading one body / writing one response
  std::chrono::seconds shutdown_timeout{20};  // Stop(): wait this long for in-flight work
  size_t max_pipelined = 16;                  // requests read ahead per connection
  size_t max_connections = 10000;             // further connections are closed at accept
  std::string public_base_url;                // "" = derived from Host header and scheme
  bool access_log = true;                     // one "http.request" log line per request
  // Reverse proxies / load balancers (CIDRs or addresses) whose X-Forwarded-For is believed
  // for the rate limit's client address (trusted_proxies.h). Empty: the peer is the client.
  std::vector<std::string> trusted_proxies;
};

// Verifies a bearer token; returns the principal or an error (kUnauthenticated for a bad
// token; other codes, e.g. kUnavailable, pass through to the client).
using Authenticator = std::function<Result<Principal>(std::string_view bearer_token)>;
// Readiness probe: Ok when the database answers.
using ReadinessCheck = std::function<Status()>;

class Dispatcher;

class Server {
 public:
  // Adds the public built-in routes GET /healthz, /readyz and /metrics to `routes`.
  Server(ServerOptions options, RouteTable routes, Authenticator authenticator,
         ReadinessCheck ready);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O and worker threads. Errors: the route table is malformed
  // (duplicate route), the address is taken or invalid, the TLS files are unusable.
  Status Start();
  // The bound port (useful with port 0), 0 before Start().
  uint16_t port() const;
  // Graceful: stops accepting, lets in-flight and already-received requests complete
  // (bounded by shutdown_timeout), closes idle keep-alive connections, joins the threads.
  // Safe to call from any thread and more than once.
  void Stop();
  // Blocks until SIGTERM or SIGINT (or until Stop() is called elsewhere), then Stop()s.
  void WaitForSignal();

  // The pure dispatch (router, auth, rate limit, handler, error edge, metrics, access log)
  // without sockets. Sets request_id, path_params and principal on the request.
  Response Handle(Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace renkei::http
