#include "auth/patient_login.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "auth/card.h"
#include "auth/form.h"
#include "auth/jws.h"
#include "auth/oauth_response.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/log.h"

namespace renkei::auth {
namespace {

// Challenges are stateless: "v1.<b64url patient>.<expiry unix seconds>.<b64url 16 random
// bytes>.<b64url HMAC-SHA256>". Nothing is written when a challenge is issued, so the public,
// unauthenticated challenge endpoint cannot be used to fill the database, and every node
// verifies every other node's challenges through the shared key. The MAC makes them
// unforgeable (the patient and expiry cannot be altered); the random part makes each one
// unique, and spending it once at login (UseNonce, kept until it expires) makes it single-use.
constexpr std::string_view kChallengeVersion = "v1";
// Domain separation: the challenge key is derived from the token secret, never the secret itself.
constexpr std::string_view kChallengeKeyLabel = "renkei patient-login challenge key v1";
constexpr size_t kChallengeRandomBytes = 16;
constexpr size_t kMinChallengeKeyBytes = 32;
constexpr std::string_view kAuditPurpose = "PATRQT";  // the patient's own request
constexpr std::string_view kInvalidSignature =
    "the card assertion is not signed by a card registered for the patient";

Error Unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}
Error BadGrant(std::string message) {
  return Error(ErrorCode::kForbidden, std::move(message));
}

// RFC 6749 §5.1/§5.2: JSON, never cached.

std::string MediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string out(media);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// Form fields as a map; kInvalid when one repeats (RFC 6749 §3.2).
Result<std::map<std::string, std::string, std::less<>>> FormParams(std::string_view body) {
  RK_ASSIGN_OR_RETURN(FormFields fields, ParseForm(body, 16));
  std::map<std::string, std::string, std::less<>> params;
  for (auto& [name, value] : fields) {
    if (!params.emplace(name, value).second)
      return Error(ErrorCode::kInvalid, "a parameter repeats");
  }
  return params;
}

}  // namespace

Result<std::unique_ptr<PatientLoginService>> PatientLoginService::Create(
    store::Store& store, audit::AuditLog& audit, const Clock& clock, TokenService& tokens,
    PatientLoginOptions options) {
  RK_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateTokenSecret(store, clock.Now()));
  return std::make_unique<PatientLoginService>(
      store, audit, clock, tokens, crypto::HmacSha256(secret, kChallengeKeyLabel), options);
}

PatientLoginService::PatientLoginService(store::Store& store, audit::AuditLog& audit,
                                         const Clock& clock, TokenService& tokens,
                                         std::string challenge_key, PatientLoginOptions options)
    : store_(store),
      audit_(audit),
      clock_(clock),
      tokens_(tokens),
      challenge_key_(std::move(challenge_key)),
      options_(options) {}

RouteTable PatientLoginService::Routes() {
  RouteTable routes;
  Route challenge;
  challenge.method = Method::kPost;
  challenge.pattern = std::string(kPatientChallengePath);
  challenge.interaction = Interaction::kNone;
  challenge.auth = AuthRequirement::kPublic;
  challenge.summary = "Patient portal login, step 1: a challenge to sign with the card key";
  challenge.max_body_bytes = kMaxChallengeRequestBytes;
  challenge.handler = [this](Request& request) { return HandleChallenge(request); };
  routes.push_back(std::move(challenge));

  Route token;
  token.method = Method::kPost;
  token.pattern = std::string(kPatientTokenPath);
  token.interaction = Interaction::kNone;
  token.auth = AuthRequirement::kPublic;
  token.summary = "Patient portal login, step 2: the signed challenge for a patient access token";
  token.max_body_bytes = kMaxPatientTokenRequestBytes;
  token.handler = [this](Request& request) { return HandleToken(request); };
  routes.push_back(std::move(token));
  return routes;
}

Result<std::string> PatientLoginService::IssueChallenge(std::string_view patient_id) {
  if (!IsValidFhirId(patient_id)) return Error(ErrorCode::kInvalid, "patient is not a valid id");
  const TimePoint expires = clock_.Now() + options_.challenge_lifetime;
  std::string out(kChallengeVersion);
  out += '.';
  out += crypto::Base64UrlEncode(patient_id);
  out += '.';
  out += std::to_string(ToUnixSeconds(expires));
  out += '.';
  out += crypto::Base64UrlEncode(crypto::RandomBytes(kChallengeRandomBytes));
  std::string mac = crypto::Base64UrlEncode(crypto::HmacSha256(challenge_key_, out));
  out += '.';
  out += mac;
  return out;
}

Result<PatientLoginService::Challenge> PatientLoginService::OpenChallenge(
    std::string_view challenge, TimePoint now) const {
  if (challenge_key_.size() < kMinChallengeKeyBytes || challenge.size() > kMaxChallengeBytes)
    return BadGrant("the challenge was not issued by this server");
  size_t last_dot = challenge.rfind('.');
  if (last_dot == std::string_view::npos)
    return BadGrant("the challenge was not issued by this server");
  std::string_view signed_part = challenge.substr(0, last_dot);
  std::string expected = crypto::Base64UrlEncode(crypto::HmacSha256(challenge_key_, signed_part));
  // Compared before anything inside is trusted, in constant time.
  if (!crypto::ConstantTimeEqual(expected, challenge.substr(last_dot + 1)))
    return BadGrant("the challenge was not issued by this server");
  std::vector<std::string_view> parts = Split(signed_part, '.');
  if (parts.size() != 4 || parts[0] != kChallengeVersion)
    return BadGrant("the challenge was not issued by this server");
  auto patient = crypto::Base64UrlDecode(parts[1]);
  int64_t expiry = 0;
  auto [end, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), expiry);
  if (!patient || !IsValidFhirId(*patient) || ec != std::errc() ||
      end != parts[2].data() + parts[2].size())
    return BadGrant("the challenge was not issued by this server");
  Challenge out{std::move(*patient), FromUnixSeconds(expiry)};
  if (out.expires <= now) return BadGrant("the challenge has expired");
  return out;
}

void PatientLoginService::Audit(std::string_view patient, std::string_view outcome,
                                std::string_view error, std::string_view reason) {
  Principal who;
  who.kind = PrincipalKind::kPatient;
  who.subject = std::string(patient);
  // The patient named by a verified challenge (refusals) or authenticated (success).
  audit::AuditEntry entry = audit::EntryFor(who, patient, "login", "", kAuditPurpose, outcome);
  if (!error.empty()) {
    json::object detail;
    detail["error"] = error;
    detail["reason"] = reason;
    entry.detail = json::Serialize(detail);
  }
  Status s = audit_.Record(std::move(entry));
  if (!s.ok())
    log::Error("audit_write_failed", {{"action", "login"}, {"code", s.error().ToString()}});
}

Result<Principal> PatientLoginService::Authenticate(std::string_view challenge_text,
                                                    std::string_view assertion,
                                                    std::string& claimed_patient) {
  const TimePoint now = clock_.Now();
  RK_ASSIGN_OR_RETURN(Challenge challenge, OpenChallenge(challenge_text, now));
  claimed_patient = challenge.patient_id;

  // The signature is checked against the keys of the patient the challenge names: a card of
  // another patient, an unknown patient and a revoked card all fail alike, so that the answer
  // does not tell who is registered.
  auto verified = VerifyCardSignature(store_, challenge.patient_id, assertion);
  if (!verified.ok()) {
    if (verified.error().code() == ErrorCode::kUnauthenticated)
      return Unauthenticated(std::string(kInvalidSignature));
    return std::move(verified).error();
  }
  // A consent signed at a card reader (typ card+jwt) is not a login, and vice versa (card.h).
  if (json::GetString(verified->header, "typ") != kCardLoginTyp)
    return Unauthenticated("the card assertion is not a login assertion (typ card-login+jwt)");
  const json::object& claims = verified->payload;
  if (json::GetString(claims, "sub") != std::optional<std::string_view>(challenge.patient_id))
    return Unauthenticated("the card assertion names another patient");
  if (json::GetString(claims, "challenge") != std::optional<std::string_view>(challenge_text))
    return Unauthenticated("the card assertion signs another challenge");
  auto iat = json::GetInt(claims, "iat");
  if (!iat) return Unauthenticated("the card assertion has no iat");
  // Signed after the challenge was issued (within the skew) and not in the future.
  const TimePoint issued_at = FromUnixSeconds(*iat);
  const TimePoint challenge_issued = challenge.expires - options_.challenge_lifetime;
  if (issued_at < challenge_issued - options_.clock_skew || issued_at > now + options_.clock_skew)
    return Unauthenticated("stale card assertion");

  // Spent once, until the challenge would be refused as expired anyway; hashed, so the nonce
  // table holds no patient identifiers.
  std::string key = crypto::Sha256Hex(challenge_text);
  RK_ASSIGN_OR_RETURN(bool fresh, store::RunInTransactionWithResult<bool>(
                                      store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                                        return tx.UseNonce(kPatientLoginNonceScope, key,
                                                           challenge.expires);
                                      }));
  if (!fresh) return BadGrant("the challenge was already used");

  Principal p;
  p.kind = PrincipalKind::kPatient;
  p.subject = challenge.patient_id;
  return p;
}

Response PatientLoginService::HandleChallenge(const Request& request) {
  if (request.method != Method::kPost)
    return OAuthError(400, "invalid_request", "the challenge endpoint takes POST");
  if (request.body.size() > kMaxChallengeRequestBytes)
    return OAuthError(413, "invalid_request", "the challenge request is too large");
  const std::string media = MediaType(request.Header("content-type").value_or(""));
  std::string patient;
  if (media == "application/x-www-form-urlencoded") {
    auto params = FormParams(request.body);
    if (!params.ok()) return OAuthError(400, "invalid_request", params.error().message());
    auto it = params->find("patient");
    if (it != params->end()) patient = it->second;
  } else if (media == "application/json") {
    Limits limits;
    limits.max_json_depth = 4;
    limits.max_string_bytes = kMaxChallengeRequestBytes;
    auto body = json::ParseObject(request.body, limits);
    if (!body.ok()) return OAuthError(400, "invalid_request", "the body is not a JSON object");
    patient = std::string(json::GetString(*body, "patient").value_or(""));
  } else {
    return OAuthError(400, "invalid_request",
                      "the body must be application/x-www-form-urlencoded or application/json");
  }
  if (patient.empty()) return OAuthError(400, "invalid_request", "patient is missing");
  auto challenge = IssueChallenge(patient);
  if (!challenge.ok()) return OAuthError(400, "invalid_request", challenge.error().message());
  json::object body;
  body["challenge"] = *challenge;
  body["expires_in"] = options_.challenge_lifetime.count();
  return OAuthJson(200, body);
}

Response PatientLoginService::HandleToken(const Request& request) {
  std::string patient;
  auto refuse = [&](int status, std::string_view error, std::string_view reason) {
    Audit(patient, "denied", error, reason);
    log::Info("patient_login_refused", {{"error", error}});
    return OAuthError(status, error, reason);
  };
  if (request.method != Method::kPost)
    return refuse(400, "invalid_request", "the token endpoint takes POST");
  if (MediaType(request.Header("content-type").value_or("")) != "application/x-www-form-urlencoded")
    return refuse(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  if (request.body.size() > kMaxPatientTokenRequestBytes)
    return refuse(413, "invalid_request", "the login request is too large");
  auto params = FormParams(request.body);
  if (!params.ok()) return refuse(400, "invalid_request", params.error().message());
  auto challenge = params->find("challenge");
  auto assertion = params->find("card_assertion");
  if (challenge == params->end() || challenge->second.empty())
    return refuse(400, "invalid_request", "challenge is missing");
  if (assertion == params->end() || assertion->second.empty())
    return refuse(400, "invalid_request", "card_assertion is missing");
  if (assertion->second.size() > kMaxJwsBytes)
    return refuse(400, "invalid_request", "card_assertion is too large");

  auto principal = Authenticate(challenge->second, assertion->second, patient);
  if (!principal.ok()) {
    const Error& e = principal.error();
    switch (e.code()) {
      case ErrorCode::kUnauthenticated:
        return refuse(401, "invalid_client", e.message());
      case ErrorCode::kForbidden:
        return refuse(400, "invalid_grant", e.message());
      case ErrorCode::kUnavailable:
      case ErrorCode::kRetryable:
        return refuse(503, "temporarily_unavailable", "try again later");
      default:
        log::Error("patient_login_failed", {{"code", e.ToString()}});
        return refuse(500, "server_error", "internal error");
    }
  }
  auto token = tokens_.IssueFor(*principal);
  if (!token.ok()) {
    log::Error("patient_login_failed", {{"code", token.error().ToString()}});
    return refuse(500, "server_error", "internal error");
  }
  // The token leaves only once the login is on record.
  audit::AuditEntry entry =
      audit::EntryFor(*principal, principal->subject, "login", "", kAuditPurpose);
  if (Status s = audit_.Record(std::move(entry)); !s.ok()) {
    log::Error("audit_write_failed", {{"action", "login"}, {"code", s.error().ToString()}});
    return OAuthError(503, "temporarily_unavailable", "try again later");
  }
  log::Info("patient_login", {});
  json::object body;
  body["access_token"] = *token;
  body["token_type"] = "Bearer";
  body["expires_in"] = tokens_.options().access_token_lifetime.count();
  body["patient"] = principal->subject;
  return OAuthJson(200, body);
}

Result<std::string> SignPatientLogin(const KeyPair& card_key, std::string_view kid,
                                     std::string_view patient_id, std::string_view challenge,
                                     TimePoint now) {
  auto alg = card_key.Alg();
  if (!alg || !card_key.has_private()) return Error(ErrorCode::kInvalid, "unsupported card key");
  json::object claims;
  claims["sub"] = patient_id;
  claims["challenge"] = challenge;
  claims["iat"] = ToUnixSeconds(now);
  return SignCompact(card_key, ToString(*alg), kid, claims, kCardLoginTyp);
}

}  // namespace renkei::auth
