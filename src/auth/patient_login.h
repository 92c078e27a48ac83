// The patient portal login (issue "Access policy", legal basis 6): the patient signs a server
// challenge with the card key (the My Number card stand-in, card.h) and receives an access token
// for a patient principal (PATRQT).
//   POST /auth/patient/challenge  patient=<id>  -> {"challenge": "...", "expires_in": 120}
//   POST /auth/patient/token      challenge=...&card_assertion=<JWS typ card-login+jwt>
//                                 -> {"access_token", "token_type": "Bearer", "expires_in",
//                                     "patient"}
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "auth/keys.h"
#include "auth/tokens.h"
#include "core/clock.h"
#include "core/request.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::auth {

inline constexpr std::string_view kPatientChallengePath = "/auth/patient/challenge";
inline constexpr std::string_view kPatientTokenPath = "/auth/patient/token";
// UseNonce scope of spent login challenges.
inline constexpr std::string_view kPatientLoginNonceScope = "patient-login";
// Body limits of the two routes (the http layer answers 413 beyond them; the handlers too).
inline constexpr size_t kMaxChallengeRequestBytes = 1024;
inline constexpr size_t kMaxPatientTokenRequestBytes = 16 * 1024;
// Upper bound on a challenge renkei will look at (a FHIR id of 64 characters makes ~200).
inline constexpr size_t kMaxChallengeBytes = 512;

struct PatientLoginOptions {
  // How long a challenge may be answered (and its login assertion is considered fresh).
  std::chrono::seconds challenge_lifetime{120};
  // Tolerated difference between the card holder's clock and ours for the assertion's iat.
  std::chrono::seconds clock_skew{60};
};

// Issues challenges and exchanges signed challenges for patient access tokens. Thread-safe after
// construction; store, audit, clock and tokens must outlive it.
class PatientLoginService {
 public:
  // Derives the challenge MAC key from the shared token secret (LoadOrCreateTokenSecret), so
  // that every API node accepts the challenges of every other node.
  static Result<std::unique_ptr<PatientLoginService>> Create(store::Store& store,
                                                             audit::AuditLog& audit,
                                                             const Clock& clock,
                                                             TokenService& tokens,
                                                             PatientLoginOptions options = {});
  // challenge_key: at least 32 raw bytes (kInvalid otherwise, from Create).
  PatientLoginService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                      TokenService& tokens, std::string challenge_key,
                      PatientLoginOptions options = {});

  // POST kPatientChallengePath and POST kPatientTokenPath; both public, Interaction::kNone.
  // The handlers capture this service.
  RouteTable Routes();

  // A fresh challenge for patient_id (any valid FHIR id: unknown patients get one too, so the
  // endpoint does not reveal who is registered). kInvalid for an invalid id.
  Result<std::string> IssueChallenge(std::string_view patient_id);

  // The route handlers, callable directly. HandleChallenge takes a form
  // (application/x-www-form-urlencoded) or JSON object body with "patient"; HandleToken a form
  // with "challenge" and "card_assertion". Errors are RFC 6749 §5.2 JSON: 400 invalid_request,
  // 400 invalid_grant (challenge forged, expired, spent or for another patient), 401
  // invalid_client (assertion not signed by the patient's card, wrong typ or claims), 413.
  Response HandleChallenge(const Request& request);
  Response HandleToken(const Request& request);

 private:
  struct Challenge {
    std::string patient_id;
    TimePoint expires{};
  };
  // The patient and expiry of a challenge this server issued; kForbidden when the MAC does not
  // match or it is malformed, or expired at now.
  Result<Challenge> OpenChallenge(std::string_view challenge, TimePoint now) const;
  // The patient principal the assertion authenticates for the challenge: kUnauthenticated
  // (invalid_client), kForbidden (invalid_grant) or a store error.
  Result<Principal> Authenticate(std::string_view challenge, std::string_view assertion,
                                 std::string& claimed_patient);
  void Audit(std::string_view patient, std::string_view outcome, std::string_view error,
             std::string_view reason);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  TokenService& tokens_;
  std::string challenge_key_;
  PatientLoginOptions options_;
};

// The login assertion a card holder's device sends: header typ "card-login+jwt" and kid, claims
// sub = patient_id, challenge, iat = now. kInvalid when the key is not a private EC/RSA key of a
// supported size.
Result<std::string> SignPatientLogin(const KeyPair& card_key, std::string_view kid,
                                     std::string_view patient_id, std::string_view challenge,
                                     TimePoint now);

}  // namespace renkei::auth
