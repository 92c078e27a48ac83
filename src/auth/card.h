// The My Number card stand-in (DESIGN.md §4): a key pair registered for the patient when the
// card is issued (store KeyRecord owner_kind "patient", owner_id = patient id). At a card
// reader the patient consents by a compact JWS signed with the card key naming patient,
// facility, purpose, categories, time and a nonce; the server verifies it and refuses replays.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jws.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::auth {

// The store KeyRecord owner_kind of card keys, and the UseNonce scope of spent card nonces.
inline constexpr std::string_view kPatientKeyOwner = "patient";
inline constexpr std::string_view kCardNonceScope = "card";
// The JWS typ of a consent at a card reader, and of a patient portal login (patient_login.h).
// CardVerifier refuses the login typ, and the login refuses every other typ, so that neither
// assertion can be replayed as the other.
inline constexpr std::string_view kCardConsentTyp = "card+jwt";
inline constexpr std::string_view kCardLoginTyp = "card-login+jwt";
// A card assertion may be dated at most this far ahead of the server clock.
inline constexpr std::chrono::seconds kCardMaxFutureSkew{60};

// What the patient consented to at the reader.
struct CardAssertion {
  std::string patient_id;
  std::string facility_code;
  std::string purpose;                  // HL7 PurposeOfUse, e.g. "TREAT"
  std::vector<std::string> categories;  // consent categories (DOMAIN.md item table)
  TimePoint issued_at{};
  std::string nonce;
};

// Signs a card assertion as a card reader does (claims sub = patient, facility, purpose,
// categories, iat = now, a random nonce), typ "card+jwt". kInvalid when the key is not a
// private EC/RSA key of a supported size.
Result<std::string> SignCardAssertion(const KeyPair& card_key, std::string_view kid,
                                      std::string_view patient_id, std::string_view facility_code,
                                      std::string_view purpose,
                                      const std::vector<std::string>& categories, TimePoint now);

// Verifies the signature of jws against patient_id's registered card keys (revoked keys and
// unknown kids refused) and returns its header and claims. kUnauthenticated "no card is
// registered for the patient" when there is no card key, else VerifyCompact's refusal. Checks
// neither typ nor claims: the caller does.
Result<VerifiedJws> VerifyCardSignature(store::Store& store, std::string_view patient_id,
                                        std::string_view jws);

class CardVerifier {
 public:
  CardVerifier(store::Store& store, const Clock& clock,
               std::chrono::seconds max_age = std::chrono::seconds(300));

  // Verifies the signature against the patient's registered card key(s), that the assertion
  // names facility_code (else kForbidden), that iat is within max_age in the past and
  // kCardMaxFutureSkew in the future (else kUnauthenticated "stale card assertion"), and
  // spends the nonce (replay: kUnauthenticated "replayed card assertion"). Unknown patient,
  // revoked key, bad signature or malformed claims: kUnauthenticated.
  Result<CardAssertion> Verify(std::string_view jws, std::string_view facility_code);

 private:
  store::Store& store_;
  const Clock& clock_;
  std::chrono::seconds max_age_;
};

}  // namespace renkei::auth
