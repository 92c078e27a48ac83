// SMART Backend Services (HL7 SMART App Launch v2, "Backend Services"): a facility system
// obtains an access token with the client_credentials grant, authenticating by a
// private_key_jwt assertion signed with the key registered for the practitioner acting
// (DESIGN.md §4). Access tokens are verified without touching the database.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "auth/access_token.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::auth {

inline constexpr std::string_view kTokenPath = "/auth/token";
inline constexpr std::string_view kSmartConfigurationPath = "/.well-known/smart-configuration";
inline constexpr std::string_view kClientAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// UseNonce scope of spent client assertion ids (jti).
inline constexpr std::string_view kClientAssertionNonceScope = "client-assertion";
// The store KeyRecord owner_kind of practitioner keys.
inline constexpr std::string_view kPractitionerKeyOwner = "practitioner";

// Resolves who a practitioner is when acting at a facility (the registry implements it: the
// PractitionerRole linking them, the facility's type/prefecture/emergency flag, the
// qualification). kUnauthenticated/kForbidden/kNotFound when they do not act there.
using PrincipalResolver = std::function<Result<Principal>(std::string_view practitioner_id,
                                                          std::string_view facility_code)>;

struct TokenOptions {
  std::chrono::seconds access_token_lifetime{300};
  // SMART: an assertion's exp is at most five minutes ahead.
  std::chrono::seconds max_assertion_lifetime{300};
  // Tolerated difference between the client's clock and ours for exp/iat upper bounds.
  std::chrono::seconds clock_skew{30};
  std::string issuer = "renkei";
  // The public URL of the server ("https://renkei.example.jp") when it sits behind a proxy;
  // an assertion's aud may then be this + kTokenPath as well as request.base_url + kTokenPath.
  std::string public_base_url;
};

// The token endpoint and the access token verifier. Thread-safe after construction.
class TokenService {
 public:
  // Loads the shared token secret from the store settings (creating it on the first start of
  // the first node) and builds the service.
  static Result<std::unique_ptr<TokenService>> Create(store::Store& store, audit::AuditLog& audit,
                                                      const Clock& clock,
                                                      PrincipalResolver resolver,
                                                      TokenOptions options = {});
  TokenService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
               PrincipalResolver resolver, AccessTokenCodec codec, TokenOptions options = {});

  // POST /auth/token (form-encoded, RFC 6749 §4.4) and GET /.well-known/smart-configuration;
  // both public, Interaction::kNone. Handlers capture this service, which must outlive them.
  RouteTable Routes();

  // The http Authenticator: the principal of an access token (the raw token or an
  // "Authorization" value "Bearer <token>"). Checks MAC, issuer and expiry; no database.
  Result<Principal> VerifyAccessToken(std::string_view bearer) const;

  // A fresh access token for principal (after a successful assertion; the patient portal
  // after a card challenge). kInvalid when principal has no subject.
  Result<std::string> IssueFor(const Principal& principal);

  // The route handlers, callable directly.
  Response HandleToken(const Request& request);
  Response HandleSmartConfiguration(const Request& request) const;

  const TokenOptions& options() const { return options_; }

 private:
  // The principal an assertion authenticates; kUnauthenticated (invalid_client), kForbidden
  // (invalid_grant) or a store error. claimed_* receive the unverified iss/facility for audit.
  Result<Principal> Authenticate(std::string_view assertion, const Request& request,
                                 std::string& claimed_practitioner, std::string& claimed_facility);
  void AuditRefusal(std::string_view practitioner, std::string_view facility,
                    std::string_view error, std::string_view reason);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  PrincipalResolver resolver_;
  AccessTokenCodec codec_;
  TokenOptions options_;
};

// A SMART Backend Services client assertion as a facility system sends it: iss = sub =
// practitioner_id, aud = token_url, iat = now, exp = now + lifetime (SMART: at most 5 min;
// negative values make expired assertions for tests), a random jti, and the "facility" claim
// (10-digit facility code or 8-digit insurer number).
// kInvalid when alg is not ES384/RS384 or the key does not fit it.
Result<std::string> SignClientAssertion(const KeyPair& key, std::string_view alg,
                                        std::string_view kid, std::string_view practitioner_id,
                                        std::string_view facility_code, std::string_view token_url,
                                        TimePoint now,
                                        std::chrono::seconds lifetime = std::chrono::seconds(300));

}  // namespace renkei::auth
