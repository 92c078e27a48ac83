// The transport-free shape of an API call. Services register routes with handlers of
// (Request) -> Response; http/ turns Beast messages into these and back, so handlers are pure
// functions that tests can call without sockets (STYLE.md, Beast examples).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.h"

namespace renkei {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kHead, kOptions };
std::string_view MethodName(Method m);

struct Request {
  Method method = Method::kGet;
  std::string path;  // decoded path without query, e.g. "/fhir/Patient/123"
  // Named captures from the route pattern, e.g. {"id": "123"} for "/fhir/Patient/{id}".
  std::map<std::string, std::string, std::less<>> path_params;
  // Query parameters in order, decoded; repeated names repeat (FHIR AND semantics).
  std::vector<std::pair<std::string, std::string>> query;
  // Header names lower-cased.
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  // Set by the http layer after verifying the access token; empty for public routes.
  std::optional<Principal> principal;
  std::string client_address;  // IP, for rate limiting only; never logged with patient data
  std::string base_url;        // e.g. "http://127.0.0.1:8080", for absolute links
  std::string request_id;      // X-Request-Id or generated

  std::optional<std::string_view> Header(std::string_view lower_name) const;
  // First value of a query parameter.
  std::optional<std::string_view> Query(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/fhir+json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Location, ETag
  std::string body;

  static Response Json(int status, std::string body,
                       std::string content_type = "application/fhir+json; charset=utf-8");
  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

// The FHIR interaction a route implements; the CapabilityStatement is generated from these
// (so it lists exactly what exists).
enum class Interaction {
  kNone,  // not a FHIR REST interaction (health, auth, metrics, custom)
  kRead,
  kVRead,
  kUpdate,
  kDelete,
  kHistoryInstance,
  kHistoryType,
  kCreate,
  kSearchType,
  kBatchTransaction,  // POST /fhir
  kCapabilities,
  kOperation,  // $name on type or instance
};

// Who may call a route at all; finer rules (qualification, consent) are the service's.
enum class AuthRequirement {
  kPublic,  // no token (health, metadata, token endpoint)
  kToken,   // a valid access token of any principal
};

struct Route {
  Method method;
  std::string pattern;  // "/fhir/Patient/{id}/_history/{vid}"; {name} captures one segment
  Interaction interaction = Interaction::kNone;
  std::string resource_type;  // FHIR type for FHIR routes, else empty
  std::string operation;      // "$verify-eligibility" for kOperation
  AuthRequirement auth = AuthRequirement::kToken;
  bool returns_patient_data = false;  // such routes must ask access/ (issue 3 walks the table)
  std::string summary;                // one line for docs and the CapabilityStatement
  size_t max_body_bytes = 0;          // 0 = Limits::max_body_bytes; bulk loads set more
  std::function<Response(Request&)> handler;
};

using RouteTable = std::vector<Route>;

// Whether the body is declared JSON: Content-Type application/fhir+json or application/json
// (parameters such as charset ignored). FHIR operations refuse anything else with 415.
bool HasJsonContentType(const Request& req);

}  // namespace renkei
