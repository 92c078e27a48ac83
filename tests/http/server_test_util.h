// Routes, authenticator and server setup shared by the HTTP server tests.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/json.h"
#include "http/server.h"

namespace renkei::http::testing {

inline constexpr char kTestToken[] = "test-token-0123456789";
inline constexpr char kTestSubject[] = "practitioner-test-1";

// Accepts exactly one fixed token: the test's input, not a real credential.
inline Authenticator TestAuthenticator() {
  return [](std::string_view token) -> Result<Principal> {
    if (token != kTestToken) return MakeError(ErrorCode::kUnauthenticated, "invalid token");
    Principal p;
    p.subject = kTestSubject;
    p.facility_code = "1310000001";
    return p;
  };
}

inline std::string Bearer() {
  return std::string("Bearer ") + kTestToken;
}

// State the test routes expose to the tests.
struct TestState {
  std::atomic<bool> ready{true};
  std::promise<void> slow_entered;
  std::promise<void> slow_release;
  std::shared_future<void> release = slow_release.get_future().share();
};

inline Route MakeRoute(Method method, std::string pattern, AuthRequirement auth,
                       std::function<Response(Request&)> handler, size_t max_body = 0) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.auth = auth;
  r.handler = std::move(handler);
  r.max_body_bytes = max_body;
  return r;
}

inline RouteTable TestRoutes(TestState* state) {
  RouteTable routes;
  routes.push_back(
      MakeRoute(Method::kGet, "/fhir/Patient/{id}", AuthRequirement::kToken, [](Request& req) {
        json::object o;
        o["resourceType"] = "Patient";
        o["id"] = req.PathParam("id");
        o["subject"] = req.principal ? req.principal->subject : "";
        json::array q;
        for (const auto& [k, v] : req.query) {
          q.emplace_back(json::array{json::value(k), json::value(v)});
        }
        o["query"] = std::move(q);
        return Response::Json(200, json::Serialize(o));
      }));
  routes.push_back(MakeRoute(Method::kPut, "/fhir/Patient/{id}", AuthRequirement::kToken,
                             [](Request& req) { return Response::Json(200, req.body); }));
  routes.push_back(MakeRoute(
      Method::kGet, "/fhir/Patient/{id}/_history/{vid}", AuthRequirement::kToken, [](Request& req) {
        return Response::Json(
            200, std::string(req.PathParam("id")) + "/" + std::string(req.PathParam("vid")));
      }));
  routes.push_back(MakeRoute(Method::kPost, "/fhir/Patient/$match", AuthRequirement::kToken,
                             [](Request&) { return Response::Json(200, "match"); }));
  routes.push_back(MakeRoute(Method::kGet, "/fhir/metadata", AuthRequirement::kPublic,
                             [](Request&) { return Response::Json(200, "{}"); }));
  routes.push_back(MakeRoute(Method::kPost, "/echo", AuthRequirement::kPublic, [](Request& req) {
    return Response::Text(200, std::to_string(req.body.size()));
  }));
  routes.push_back(MakeRoute(
      Method::kPost, "/bulk", AuthRequirement::kPublic,
      [](Request& req) { return Response::Text(200, std::to_string(req.body.size())); }, 4096));
  routes.push_back(MakeRoute(
      Method::kPost, "/large", AuthRequirement::kPublic,
      [](Request& req) { return Response::Text(200, std::to_string(req.body.size())); },
      2 * 1024 * 1024));
  routes.push_back(MakeRoute(Method::kGet, "/info", AuthRequirement::kPublic, [](Request& req) {
    json::object o;
    o["request_id"] = req.request_id;
    o["base_url"] = req.base_url;
    o["client_address"] = req.client_address;
    auto cert = req.Header("x-client-cert-subject");
    o["cert"] = cert ? *cert : "";
    return Response::Json(200, json::Serialize(o), "application/json");
  }));
  routes.push_back(
      MakeRoute(Method::kGet, "/throw", AuthRequirement::kPublic,
                [](Request&) -> Response { throw std::runtime_error("secret-patient-4711"); }));
  routes.push_back(MakeRoute(Method::kGet, "/slow", AuthRequirement::kPublic, [state](Request&) {
    state->slow_entered.set_value();
    state->release.wait();
    return Response::Text(200, "done");
  }));
  return routes;
}

inline ReadinessCheck TestReadiness(TestState* state) {
  return [state]() -> Status {
    if (state->ready) return Ok();
    return MakeError(ErrorCode::kUnavailable, "database down");
  };
}

inline ServerOptions TestOptions() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.io_threads = 2;
  o.worker_threads = 4;
  o.limits.max_body_bytes = 1024;
  o.limits.max_header_bytes = 2048;
  o.limits.requests_per_second = 10000;
  o.limits.burst = 10000;
  o.access_log = false;
  return o;
}

}  // namespace renkei::http::testing
