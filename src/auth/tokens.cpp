#include "auth/tokens.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

#include "auth/form.h"
#include "auth/jws.h"
#include "auth/oauth_response.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"

namespace renkei::auth {
namespace {

constexpr size_t kMaxTokenRequestBytes = 16 * 1024;
constexpr size_t kMaxJtiBytes = 256;
constexpr std::string_view kGrantedScope = "system/*.*";
constexpr std::string_view kAuditPurpose = "HOPERAT";  // operations, not care (audit_log.h)

Error Unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// DESIGN.md §4: facilities carry the 10-digit medical institution code (or a 10-digit
// facility code); insurers their 8-digit insurer number (registry/identifiers.h).
bool IsFacilityCode(std::string_view s) {
  return (s.size() == 10 || s.size() == 8) && IsDigits(s);
}

// RFC 6749 §5.1/§5.2: JSON, never cached.

// SMART v2 system scopes: "system/" resource-type-or-* "." read|write|*|cruds-subset.
bool IsSystemScope(std::string_view scope) {
  constexpr std::string_view kPrefix = "system/";
  if (scope.substr(0, kPrefix.size()) != kPrefix) return false;
  scope.remove_prefix(kPrefix.size());
  size_t dot = scope.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) return false;
  std::string_view type = scope.substr(0, dot), perms = scope.substr(dot + 1);
  if (type != "*") {
    if (!std::isupper(static_cast<unsigned char>(type[0]))) return false;
    for (char c : type)
      if (!std::isalpha(static_cast<unsigned char>(c))) return false;
  }
  if (perms == "*" || perms == "read" || perms == "write") return true;
  // "cruds" letters, each at most once, in that order (SMART App Launch v2 §3.0.2).
  constexpr std::string_view kOrder = "cruds";
  size_t next = 0;
  if (perms.empty()) return false;
  for (char c : perms) {
    size_t at = kOrder.find(c, next);
    if (at == std::string_view::npos) return false;
    next = at + 1;
  }
  return true;
}

bool ValidScopeList(std::string_view scopes) {
  bool any = false;
  while (!scopes.empty()) {
    size_t sp = scopes.find(' ');
    std::string_view one = scopes.substr(0, sp);
    scopes = sp == std::string_view::npos ? std::string_view() : scopes.substr(sp + 1);
    if (one.empty()) continue;
    if (!IsSystemScope(one)) return false;
    any = true;
  }
  return any;
}

std::string MediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string out(media);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// aud may be one string or an array of strings (RFC 7519 §4.1.3).
bool AudienceMatches(const json::object& claims, const std::vector<std::string>& accepted) {
  const json::value* aud = json::Find(claims, "aud");
  if (aud == nullptr) return false;
  auto ok = [&](const json::value& v) {
    return v.is_string() && std::find(accepted.begin(), accepted.end(),
                                      std::string_view(v.get_string())) != accepted.end();
  };
  if (aud->is_string()) return ok(*aud);
  if (aud->is_array()) return std::any_of(aud->get_array().begin(), aud->get_array().end(), ok);
  return false;
}

}  // namespace

Result<std::unique_ptr<TokenService>> TokenService::Create(store::Store& store,
                                                           audit::AuditLog& audit,
                                                           const Clock& clock,
                                                           PrincipalResolver resolver,
                                                           TokenOptions options) {
  RK_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateTokenSecret(store, clock.Now()));
  RK_ASSIGN_OR_RETURN(AccessTokenCodec codec, AccessTokenCodec::Create(secret, options.issuer));
  return std::make_unique<TokenService>(store, audit, clock, std::move(resolver), std::move(codec),
                                        std::move(options));
}

TokenService::TokenService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                           PrincipalResolver resolver, AccessTokenCodec codec, TokenOptions options)
    : store_(store),
      audit_(audit),
      clock_(clock),
      resolver_(std::move(resolver)),
      codec_(std::move(codec)),
      options_(std::move(options)) {}

RouteTable TokenService::Routes() {
  RouteTable routes;
  Route token;
  token.method = Method::kPost;
  token.pattern = std::string(kTokenPath);
  token.interaction = Interaction::kNone;
  token.auth = AuthRequirement::kPublic;
  token.summary = "SMART Backend Services token endpoint (client_credentials, private_key_jwt)";
  token.max_body_bytes = kMaxTokenRequestBytes;
  token.handler = [this](Request& request) { return HandleToken(request); };
  routes.push_back(std::move(token));

  Route config;
  config.method = Method::kGet;
  config.pattern = std::string(kSmartConfigurationPath);
  config.interaction = Interaction::kNone;
  config.auth = AuthRequirement::kPublic;
  config.summary = "SMART configuration: token endpoint and supported authentication";
  config.handler = [this](Request& request) { return HandleSmartConfiguration(request); };
  routes.push_back(std::move(config));
  return routes;
}

Result<Principal> TokenService::VerifyAccessToken(std::string_view bearer) const {
  constexpr std::string_view kScheme = "bearer ";
  if (bearer.size() > kScheme.size() &&
      std::equal(kScheme.begin(), kScheme.end(), bearer.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    bearer.remove_prefix(kScheme.size());
    while (!bearer.empty() && bearer.front() == ' ') bearer.remove_prefix(1);
  }
  if (bearer.empty()) return Unauthenticated("missing access token");
  return codec_.Verify(bearer, clock_.Now());
}

Result<std::string> TokenService::IssueFor(const Principal& principal) {
  if (principal.subject.empty())
    return Error(ErrorCode::kInvalid, "a token needs a principal with a subject");
  return codec_.Issue(principal, clock_.Now(), options_.access_token_lifetime);
}

Response TokenService::HandleSmartConfiguration(const Request& request) const {
  std::string base = options_.public_base_url.empty() ? request.base_url : options_.public_base_url;
  json::object body;
  body["token_endpoint"] = base + std::string(kTokenPath);
  body["token_endpoint_auth_methods_supported"] = json::array{"private_key_jwt"};
  body["token_endpoint_auth_signing_alg_values_supported"] = json::array{"ES384", "RS384"};
  body["grant_types_supported"] = json::array{"client_credentials"};
  body["scopes_supported"] = json::array{"system/*.read", "system/*.*"};
  body["capabilities"] = json::array{"client-confidential-asymmetric"};
  return Response::Json(200, json::Serialize(body), "application/json; charset=utf-8");
}

void TokenService::AuditRefusal(std::string_view practitioner, std::string_view facility,
                                std::string_view error, std::string_view reason) {
  audit::AuditEntry entry;
  // Claimed, not verified: recorded so that operators can see who was refused.
  entry.practitioner_id = practitioner;
  entry.facility_code = facility;
  entry.action = "token";
  entry.purpose = kAuditPurpose;
  entry.outcome = "denied";
  json::object detail;
  detail["error"] = error;
  detail["reason"] = reason;
  detail["claims_verified"] = false;
  entry.detail = json::Serialize(detail);
  Status s = audit_.Record(std::move(entry));
  if (!s.ok())
    log::Error("audit_write_failed", {{"action", "token"}, {"code", s.error().ToString()}});
}

Result<Principal> TokenService::Authenticate(std::string_view assertion, const Request& request,
                                             std::string& claimed_practitioner,
                                             std::string& claimed_facility) {
  // Unverified look first, only to pick the keys to verify with.
  RK_ASSIGN_OR_RETURN(json::object peek_header, PeekHeader(assertion));
  RK_ASSIGN_OR_RETURN(json::object peek, PeekPayload(assertion));
  auto alg = json::GetString(peek_header, "alg");
  // DESIGN.md §4: practitioner assertions are ES384 or RS384.
  if (!alg || (*alg != "ES384" && *alg != "RS384"))
    return Unauthenticated("the assertion must be signed with ES384 or RS384");
  auto iss = json::GetString(peek, "iss");
  if (!iss || !IsValidFhirId(*iss)) return Unauthenticated("the assertion has no valid iss");
  claimed_practitioner = *iss;
  if (auto f = json::GetString(peek, "facility"); f && IsFacilityCode(*f)) claimed_facility = *f;

  std::string practitioner(*iss);
  RK_ASSIGN_OR_RETURN(auto keys, store::RunInTransactionWithResult<std::vector<store::KeyRecord>>(
                                     store_, store::TxMode::kRead, [&](store::Transaction& tx) {
                                       return tx.GetKeys(kPractitionerKeyOwner, practitioner);
                                     }));
  if (keys.empty())  // worded like a wrong key, so that ids cannot be probed
    return Unauthenticated("the assertion is not signed by a key registered for the client");
  RK_ASSIGN_OR_RETURN(VerifiedJws verified, VerifyCompact(assertion, keys));
  const json::object& claims = verified.payload;

  // SMART Backend Services, "Authenticating to the Token endpoint": iss = sub = client id,
  // aud = the token URL, exp at most five minutes ahead, jti never reused.
  auto sub = json::GetString(claims, "sub");
  if (json::GetString(claims, "iss") != std::optional<std::string_view>(practitioner) || !sub ||
      *sub != practitioner)
    return Unauthenticated("the assertion's iss and sub must both be the client id");
  std::vector<std::string> audiences;
  if (!request.base_url.empty()) audiences.push_back(request.base_url + std::string(kTokenPath));
  if (!options_.public_base_url.empty())
    audiences.push_back(options_.public_base_url + std::string(kTokenPath));
  if (!AudienceMatches(claims, audiences))
    return Unauthenticated("the assertion's aud is not this token endpoint");
  TimePoint now = clock_.Now();
  auto exp = json::GetInt(claims, "exp");
  if (!exp) return Unauthenticated("the assertion has no exp");
  TimePoint expires = FromUnixSeconds(*exp);
  if (expires <= now) return Unauthenticated("the assertion has expired");
  if (expires > now + options_.max_assertion_lifetime + options_.clock_skew)
    return Unauthenticated("the assertion's exp is too far ahead (at most 5 minutes)");
  if (auto iat = json::GetInt(claims, "iat");
      iat && FromUnixSeconds(*iat) > now + options_.clock_skew)
    return Unauthenticated("the assertion was issued in the future");
  if (auto nbf = json::GetInt(claims, "nbf");
      nbf && FromUnixSeconds(*nbf) > now + options_.clock_skew)
    return Unauthenticated("the assertion is not valid yet");
  auto jti = json::GetString(claims, "jti");
  if (!jti || jti->empty() || jti->size() > kMaxJtiBytes)
    return Unauthenticated("the assertion needs a jti");
  auto facility = json::GetString(claims, "facility");
  if (!facility || !IsFacilityCode(*facility))
    return Error(ErrorCode::kInvalid,
                 "the assertion needs a facility claim (10-digit code or 8-digit insurer number)");

  auto resolved = resolver_(practitioner, *facility);
  if (!resolved.ok()) {
    ErrorCode code = resolved.error().code();
    if (code == ErrorCode::kUnauthenticated || code == ErrorCode::kForbidden ||
        code == ErrorCode::kNotFound || code == ErrorCode::kBusinessRule)
      return Error(ErrorCode::kForbidden, "the practitioner does not act at that facility");
    return std::move(resolved).error();
  }
  Principal principal = std::move(resolved).value();
  principal.kind = PrincipalKind::kPractitioner;
  principal.subject = practitioner;
  principal.practitioner_id = practitioner;
  principal.facility_code = std::string(*facility);

  // The jti is spent per client (so one client cannot burn another's ids) until the
  // assertion expires; hashed so the nonce table holds no identifiers.
  std::string nonce = crypto::Sha256Hex(practitioner + "\n" + std::string(*jti));
  RK_ASSIGN_OR_RETURN(bool fresh, store::RunInTransactionWithResult<bool>(
                                      store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                                        return tx.UseNonce(kClientAssertionNonceScope, nonce,
                                                           expires);
                                      }));
  if (!fresh) return Unauthenticated("the assertion was already used (jti replay)");
  return principal;
}

Response TokenService::HandleToken(const Request& request) {
  std::string practitioner, facility;
  auto refuse = [&](int status, std::string_view error, std::string_view reason) {
    AuditRefusal(practitioner, facility, error, reason);
    log::Info("token_refused", {{"error", error}, {"facility", facility}});
    return OAuthError(status, error, reason);
  };
  if (request.method != Method::kPost)
    return refuse(400, "invalid_request", "the token endpoint takes POST");
  if (MediaType(request.Header("content-type").value_or("")) != "application/x-www-form-urlencoded")
    return refuse(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  if (request.body.size() > kMaxTokenRequestBytes)
    return refuse(400, "invalid_request", "the token request is too large");
  auto form = ParseForm(request.body);
  if (!form.ok()) return refuse(400, "invalid_request", form.error().message());
  std::map<std::string, std::string, std::less<>> params;
  for (auto& [name, value] : *form) {
    // RFC 6749 §3.2: parameters must not repeat.
    if (!params.emplace(name, value).second)
      return refuse(400, "invalid_request", "a parameter repeats");
  }
  auto param = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  auto grant_type = param("grant_type");
  if (!grant_type) return refuse(400, "invalid_request", "grant_type is missing");
  if (*grant_type != "client_credentials")
    return refuse(400, "unsupported_grant_type", "only client_credentials is supported");
  if (param("client_assertion_type") != std::optional<std::string_view>(kClientAssertionType))
    return refuse(400, "invalid_request",
                  "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:"
                  "jwt-bearer");
  auto assertion = param("client_assertion");
  if (!assertion || assertion->empty())
    return refuse(400, "invalid_request", "client_assertion is missing");
  if (auto scope = param("scope"); scope && !ValidScopeList(*scope))
    return refuse(400, "invalid_scope", "scopes must be SMART system scopes");

  auto principal = Authenticate(*assertion, request, practitioner, facility);
  if (!principal.ok()) {
    const Error& e = principal.error();
    switch (e.code()) {
      case ErrorCode::kUnauthenticated:
        return refuse(401, "invalid_client", e.message());
      case ErrorCode::kForbidden:
        return refuse(400, "invalid_grant", e.message());
      case ErrorCode::kInvalid:
        return refuse(400, "invalid_request", e.message());
      case ErrorCode::kUnavailable:
      case ErrorCode::kRetryable:
        return refuse(503, "temporarily_unavailable", "try again later");
      default:
        log::Error("token_failed", {{"code", e.ToString()}});
        return refuse(500, "server_error", "internal error");
    }
  }

  std::string token_id;
  std::string token =
      codec_.Issue(*principal, clock_.Now(), options_.access_token_lifetime, &token_id);
  principal->token_id = token_id;
  audit::AuditEntry entry = audit::EntryFor(*principal, "", "token", "", kAuditPurpose);
  json::object detail;
  detail["token_id"] = token_id;
  entry.detail = json::Serialize(detail);
  // The token leaves only once its issue is on record.
  if (Status s = audit_.Record(std::move(entry)); !s.ok()) {
    log::Error("audit_write_failed", {{"action", "token"}, {"code", s.error().ToString()}});
    return OAuthError(503, "temporarily_unavailable", "try again later");
  }
  log::Info("token_issued", {{"facility", facility}, {"token_id", token_id}});
  json::object body;
  body["access_token"] = token;
  body["token_type"] = "bearer";
  body["expires_in"] = options_.access_token_lifetime.count();
  body["scope"] = kGrantedScope;
  return OAuthJson(200, body);
}

Result<std::string> SignClientAssertion(const KeyPair& key, std::string_view alg,
                                        std::string_view kid, std::string_view practitioner_id,
                                        std::string_view facility_code, std::string_view token_url,
                                        TimePoint now, std::chrono::seconds lifetime) {
  if (alg != "ES384" && alg != "RS384")
    return Error(ErrorCode::kInvalid, "client assertions are signed with ES384 or RS384");
  int64_t iat = ToUnixSeconds(now);
  json::object claims;
  claims["iss"] = practitioner_id;
  claims["sub"] = practitioner_id;
  claims["aud"] = token_url;
  claims["iat"] = iat;
  claims["exp"] = iat + lifetime.count();
  claims["jti"] = NewId();
  claims["facility"] = facility_code;
  return SignCompact(key, alg, kid, claims);
}

}  // namespace renkei::auth
