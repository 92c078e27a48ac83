// The transport-free half of the server: router, bearer-token auth, per-client rate limit,
// the handler call with its exception edge, response headers, metrics and the access log.
// Sessions call it on the worker pool; tests may call it directly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/request.h"
#include "core/status.h"
#include "http/metrics.h"
#include "http/rate_limiter.h"
#include "http/router.h"
#include "http/server.h"

namespace renkei::http {

class Dispatcher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Appends the built-in routes (/healthz, /readyz, /metrics) to `routes` and indexes them.
  Dispatcher(const ServerOptions& options, RouteTable routes, Authenticator authenticator,
             ReadinessCheck ready);

  // kInternal when the route table could not be indexed (duplicate or malformed pattern).
  const Status& init_status() const { return init_status_; }

  // Dispatches one complete request received at `received` (for the duration metric). No
  // response gate is open, so a handler waits for its own audit commit on this thread.
  Response Handle(Request& request, TimePoint received);

  // The same without waiting for held work: `done` gets the response once that work is done
  // (on whichever thread finished it), or an error in its place when the work failed.
  void HandleAsync(Request& request, TimePoint received, std::function<void(Response)> done);

  // What the session needs once a request header is read: the metrics slot and the body
  // limit of the route the request will reach (Route::max_body_bytes when > 0).
  struct HeaderInfo {
    size_t slot;
    size_t body_limit;
  };
  HeaderInfo ForHeader(Method method, std::string_view path) const;
  HeaderInfo ForUnknownMethod() const;

  // A response for a request refused before dispatch (413, 431, 400, 503 while stopping):
  // gets the standard headers and is counted and logged like any other.
  // `status` overrides the error's own status when non-zero (431 for an oversized header).
  Response Reject(const Error& error, size_t slot, std::string_view method_name,
                  std::string_view client_request_id, TimePoint received, int status = 0);

  Metrics& metrics() { return metrics_; }
  const RouteTable& routes() const { return routes_; }
  const Router& router() const { return router_; }

 private:
  // Routes, authenticates and runs the handler; sets the route (null when none matched) and the
  // metrics slot.
  Response Dispatch(Request& request, const Route*& route, size_t& slot);
  Response Run(const Route& route, size_t index, Request& request);
  // 429 when the bucket of `key` is empty, else nullopt.
  std::optional<Response> Limit(std::string_view kind, std::string_view id);
  void Finish(size_t slot, const Route* route, std::string_view method_name,
              std::string_view request_id, Response& response, TimePoint received);
  std::string RequestIdFor(std::optional<std::string_view> client_value);

  ServerOptions options_;
  RouteTable routes_;
  std::vector<bool> rate_limited_;  // by route index; built-in probes are exempt
  Authenticator authenticator_;
  ReadinessCheck ready_;
  Router router_;
  Status init_status_;
  Metrics metrics_;
  RateLimiter limiter_;
  std::string id_prefix_;
  std::atomic<uint64_t> id_counter_{0};
};

// True when a client-supplied X-Request-Id may be echoed: [A-Za-z0-9._-]{1,64}.
bool IsValidRequestId(std::string_view id);

}  // namespace renkei::http
