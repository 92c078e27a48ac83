#include "http/dispatcher.h"

#include <charconv>
#include <exception>
#include <typeinfo>

#include "core/crypto.h"
#include "core/log.h"
#include "core/response_gate.h"
#include "fhir/operation_outcome.h"

namespace renkei::http {
namespace {

constexpr std::string_view kUnmatched = "unmatched";

bool IEqualsPrefix(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

// RFC 6750 §2.1: "Bearer" (case-insensitive), one or more spaces, the token.
std::optional<std::string_view> BearerToken(std::optional<std::string_view> authorization) {
  if (!authorization || !IEqualsPrefix(*authorization, "bearer ")) return std::nullopt;
  std::string_view token = authorization->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

Response Unauthenticated(std::string message, bool invalid_token) {
  Response r = fhir::ErrorResponse(MakeError(ErrorCode::kUnauthenticated, std::move(message)));
  r.headers.emplace_back("WWW-Authenticate",
                         invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
  return r;
}

bool HasHeader(const Response& r, std::string_view lower_name) {
  for (const auto& [name, value] : r.headers) {
    if (name.size() != lower_name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == lower_name[i];
    }
    if (same) return true;
  }
  return false;
}

bool IsResourceTypeName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

Response InternalError() {
  return fhir::ErrorResponse(MakeError(ErrorCode::kInternal, "internal server error"));
}

}  // namespace

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

RouteTable WithBuiltins(RouteTable routes, Dispatcher* dispatcher, ReadinessCheck* ready) {
  auto builtin = [](std::string pattern, std::string summary,
                    std::function<Response(Request&)> handler) {
    Route r;
    r.method = Method::kGet;
    r.pattern = std::move(pattern);
    r.auth = AuthRequirement::kPublic;
    r.summary = std::move(summary);
    r.handler = std::move(handler);
    return r;
  };
  routes.push_back(builtin("/healthz", "Liveness probe", [](Request&) {
    return Response::Json(200, R"({"status":"ok"})", "application/json");
  }));
  routes.push_back(builtin("/readyz", "Readiness probe: the database answers", [ready](Request&) {
    Status status = Ok();
    try {
      if (*ready) status = (*ready)();
    } catch (const std::exception& e) {
      status = MakeError(ErrorCode::kUnavailable,
                         std::string("readiness check threw ") + typeid(e).name());
    }
    if (status.ok()) return Response::Json(200, R"({"status":"ready"})", "application/json");
    log::Warn("http.not_ready", {{"error", status.error().ToString()}});
    return fhir::ErrorResponse(MakeError(ErrorCode::kUnavailable, "not ready"));
  }));
  routes.push_back(builtin("/metrics", "Prometheus metrics", [dispatcher](Request&) {
    return Response::Text(200, dispatcher->metrics().Render(),
                          "text/plain; version=0.0.4; charset=utf-8");
  }));
  return routes;
}

}  // namespace

Dispatcher::Dispatcher(const ServerOptions& options, RouteTable routes, Authenticator authenticator,
                       ReadinessCheck ready)
    : options_(options),
      routes_(WithBuiltins(std::move(routes), this, &ready_)),
      authenticator_(std::move(authenticator)),
      ready_(std::move(ready)),
      metrics_(routes_),
      limiter_(options.limits.requests_per_second, options.limits.burst),
      id_prefix_(crypto::HexEncode(crypto::RandomBytes(6)) + "-") {
  rate_limited_.assign(routes_.size(), true);
  // The probes are polled by load balancers and Prometheus from one address.
  for (size_t i = routes_.size() - 3; i < routes_.size(); ++i) rate_limited_[i] = false;
  for (size_t i = 0; i < routes_.size() && init_status_.ok(); ++i) {
    init_status_ = router_.Add(i, routes_[i].method, routes_[i].pattern);
  }
}

std::string Dispatcher::RequestIdFor(std::optional<std::string_view> client_value) {
  if (client_value && IsValidRequestId(*client_value)) return std::string(*client_value);
  uint64_t n = id_counter_.fetch_add(1, std::memory_order_relaxed);
  std::string id;
  id.reserve(id_prefix_.size() + 16);
  id += id_prefix_;
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
  id.append(buf, end);
  return id;
}

Dispatcher::HeaderInfo Dispatcher::ForHeader(Method method, std::string_view path) const {
  Router::Match match = router_.Find(method, path, nullptr);
  if (match.kind == Router::Match::Kind::kFound) {
    size_t limit = routes_[match.route].max_body_bytes;
    return {match.route, limit > 0 ? limit : options_.limits.max_body_bytes};
  }
  return {metrics_.UnmatchedSlot(method), options_.limits.max_body_bytes};
}

Dispatcher::HeaderInfo Dispatcher::ForUnknownMethod() const {
  return {metrics_.UnmatchedOtherSlot(), options_.limits.max_body_bytes};
}

std::optional<Response> Dispatcher::Limit(std::string_view kind, std::string_view id) {
  if (!limiter_.enabled()) return std::nullopt;
  thread_local std::string key;
  key.assign(kind);
  key += ':';
  key += id;
  int retry_after = limiter_.Acquire(key, std::chrono::steady_clock::now());
  if (retry_after == 0) return std::nullopt;
  metrics_.AddRateLimited();
  Response r = fhir::ErrorResponse(MakeError(ErrorCode::kRateLimited, "rate limit exceeded"));
  bool set = false;
  for (auto& [name, value] : r.headers) {
    if (name == "Retry-After") {
      value = std::to_string(retry_after);
      set = true;
    }
  }
  if (!set) r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

Response Dispatcher::Run(const Route& route, size_t index, Request& request) {
  if (route.auth == AuthRequirement::kToken) {
    std::optional<std::string_view> token = BearerToken(request.Header("authorization"));
    if (!token) {
      if (auto limited = Limit("ip", request.client_address)) return std::move(*limited);
      return Unauthenticated("a bearer access token is required", false);
    }
    Result<Principal> principal =
        authenticator_ ? authenticator_(*token)
                       : Result<Principal>(MakeError(ErrorCode::kUnauthenticated,
                                                     "no authenticator is configured"));
    if (!principal.ok()) {
      // Failed attempts count against the address, which slows down token guessing.
      if (auto limited = Limit("ip", request.client_address)) return std::move(*limited);
      if (principal.error().code() == ErrorCode::kUnauthenticated) {
        return Unauthenticated(principal.error().message(), true);
      }
      return fhir::ErrorResponse(principal.error());
    }
    request.principal = std::move(principal).value();
    if (auto limited = Limit("sub", request.principal->subject)) return std::move(*limited);
  } else if (rate_limited_[index]) {
    if (auto limited = Limit("ip", request.client_address)) return std::move(*limited);
  }
  if (!route.handler) return InternalError();
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    // The message may quote input (patient data); the type and the route are enough to
    // find the fault together with the request id.
    log::Error("http.handler_exception", {{"route", route.pattern},
                                          {"method", MethodName(route.method)},
                                          {"request_id", request.request_id},
                                          {"exception", typeid(e).name()}});
  } catch (...) {
    log::Error("http.handler_exception", {{"route", route.pattern},
                                          {"method", MethodName(route.method)},
                                          {"request_id", request.request_id},
                                          {"exception", "unknown"}});
  }
  return InternalError();
}

Response Dispatcher::Dispatch(Request& request, const Route*& route, size_t& slot) {
  request.request_id = RequestIdFor(request.Header("x-request-id"));
  if (!options_.public_base_url.empty()) request.base_url = options_.public_base_url;
  request.path_params.clear();
  request.principal.reset();
  route = nullptr;
  slot = metrics_.UnmatchedSlot(request.method);
  try {
    Router::Match match = router_.Find(request.method, request.path, &request.path_params);
    if (match.kind == Router::Match::Kind::kFound) {
      route = &routes_[match.route];
      slot = metrics_.RouteSlot(match.route);
      return Run(*route, match.route, request);
    }
    if (auto limited = Limit("ip", request.client_address)) return std::move(*limited);
    if (match.kind == Router::Match::Kind::kMethodNotAllowed) {
      Response response = fhir::ErrorResponse(
          MakeError(ErrorCode::kMethodNotAllowed,
                    std::string(MethodName(request.method)) + " is not allowed on this path"));
      response.headers.emplace_back("Allow", match.allow);
      return response;
    }
    if (match.unknown_fhir_type) {
      std::string_view type = std::string_view(request.path).substr(6);
      type = type.substr(0, type.find('/'));
      return fhir::ErrorResponse(
          MakeError(ErrorCode::kNotFound, IsResourceTypeName(type)
                                              ? "unknown resource type '" + std::string(type) + "'"
                                              : std::string("unknown resource type")));
    }
    return fhir::ErrorResponse(MakeError(ErrorCode::kNotFound, "no route for this path"));
  } catch (const std::exception& e) {
    log::Error("http.dispatch_exception",
               {{"request_id", request.request_id}, {"exception", typeid(e).name()}});
  }
  return InternalError();
}

Response Dispatcher::Handle(Request& request, TimePoint received) {
  metrics_.AddInFlight(1);
  const Route* route = nullptr;
  size_t slot = 0;
  Response response = Dispatch(request, route, slot);
  Finish(slot, route, MethodName(request.method), request.request_id, response, received);
  metrics_.AddInFlight(-1);
  return response;
}

void Dispatcher::HandleAsync(Request& request, TimePoint received,
                             std::function<void(Response)> done) {
  metrics_.AddInFlight(1);
  const Route* route = nullptr;
  size_t slot = 0;
  std::shared_ptr<ResponseGate> gate = ResponseGate::Make();
  Response response;
  {
    ResponseGate::Scope scope(gate);
    response = Dispatch(request, route, slot);
  }
  // The answer leaves only once what the handler held is done: the audit entries of a read are
  // committed before its data leaves (DESIGN.md §7). The duration metric includes that wait.
  gate->OnSettled([this, route, slot, method = request.method, request_id = request.request_id,
                   response = std::move(response), received,
                   done = std::move(done)](Status held) mutable {
    if (!held.ok() && response.status < 400) {
      // The data stays behind; the client gets the error.
      log::Error("http.response_withheld",
                 {{"request_id", request_id}, {"error", held.error().ToString()}});
      response = fhir::ErrorResponse(held.error());
    }
    Finish(slot, route, MethodName(method), request_id, response, received);
    metrics_.AddInFlight(-1);
    done(std::move(response));
  });
}

Response Dispatcher::Reject(const Error& error, size_t slot, std::string_view method_name,
                            std::string_view client_request_id, TimePoint received, int status) {
  Response response = fhir::ErrorResponse(error);
  if (status != 0) response.status = status;
  std::string request_id =
      RequestIdFor(client_request_id.empty() ? std::nullopt
                                             : std::optional<std::string_view>(client_request_id));
  const Route* route = slot < routes_.size() ? &routes_[slot] : nullptr;
  Finish(slot, route, method_name, request_id, response, received);
  return response;
}

void Dispatcher::Finish(size_t slot, const Route* route, std::string_view method_name,
                        std::string_view request_id, Response& response, TimePoint received) {
  response.headers.emplace_back("X-Request-Id", request_id);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Anything behind a token may hold patient data: no cache may keep it.
  if ((route == nullptr || route->auth == AuthRequirement::kToken) &&
      !HasHeader(response, "cache-control")) {
    response.headers.emplace_back("Cache-Control", "no-store");
  }
  auto elapsed = std::chrono::steady_clock::now() - received;
  metrics_.Record(slot, response.status,
                  std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  if (options_.access_log) {
    // Route pattern, never the path: paths and queries carry patient ids (log.h).
    log::Info("http.request",
              {{"method", method_name},
               {"route", route != nullptr ? std::string_view(route->pattern) : kUnmatched},
               {"status", response.status},
               {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()},
               {"request_id", request_id},
               {"bytes", static_cast<unsigned long>(response.body.size())}});
  }
}

}  // namespace renkei::http
