#include "auth/card.h"

#include "auth/jws.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/json.h"

namespace renkei::auth {
namespace {

constexpr size_t kMaxNonceBytes = 256;
constexpr size_t kMaxCategories = 64;

Error Unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

}  // namespace

Result<std::string> SignCardAssertion(const KeyPair& card_key, std::string_view kid,
                                      std::string_view patient_id, std::string_view facility_code,
                                      std::string_view purpose,
                                      const std::vector<std::string>& categories, TimePoint now) {
  auto alg = card_key.Alg();
  if (!alg) return Error(ErrorCode::kInvalid, "unsupported card key");
  json::object claims;
  claims["sub"] = patient_id;
  claims["facility"] = facility_code;
  claims["purpose"] = purpose;
  json::array cats;
  for (const auto& c : categories) cats.emplace_back(c);
  claims["categories"] = std::move(cats);
  claims["iat"] = ToUnixSeconds(now);
  claims["nonce"] = crypto::Base64UrlEncode(crypto::RandomBytes(16));
  return SignCompact(card_key, ToString(*alg), kid, claims, kCardConsentTyp);
}

Result<VerifiedJws> VerifyCardSignature(store::Store& store, std::string_view patient_id,
                                        std::string_view jws) {
  std::string patient(patient_id);
  RK_ASSIGN_OR_RETURN(auto keys, store::RunInTransactionWithResult<std::vector<store::KeyRecord>>(
                                     store, store::TxMode::kRead, [&](store::Transaction& tx) {
                                       return tx.GetKeys(kPatientKeyOwner, patient);
                                     }));
  if (keys.empty()) return Unauthenticated("no card is registered for the patient");
  return VerifyCompact(jws, keys);
}

CardVerifier::CardVerifier(store::Store& store, const Clock& clock, std::chrono::seconds max_age)
    : store_(store), clock_(clock), max_age_(max_age) {}

Result<CardAssertion> CardVerifier::Verify(std::string_view jws, std::string_view facility_code) {
  RK_ASSIGN_OR_RETURN(json::object peek, PeekPayload(jws));
  auto sub = json::GetString(peek, "sub");
  if (!sub || !IsValidFhirId(*sub)) return Unauthenticated("the card assertion names no patient");
  std::string patient(*sub);
  RK_ASSIGN_OR_RETURN(VerifiedJws verified, VerifyCardSignature(store_, patient, jws));
  // A portal login signed by the same card is not a consent (patient_login.h).
  if (json::GetString(verified.header, "typ") == kCardLoginTyp)
    return Unauthenticated("a card login assertion is not a consent");
  const json::object& claims = verified.payload;

  CardAssertion out;
  out.patient_id = patient;
  auto facility = json::GetString(claims, "facility");
  auto purpose = json::GetString(claims, "purpose");
  auto iat = json::GetInt(claims, "iat");
  auto nonce = json::GetString(claims, "nonce");
  const json::array* categories = json::GetArray(claims, "categories");
  if (!facility || !purpose || purpose->empty() || !iat || !nonce || nonce->empty() ||
      nonce->size() > kMaxNonceBytes || categories == nullptr ||
      categories->size() > kMaxCategories)
    return Unauthenticated("the card assertion lacks facility, purpose, categories, iat or nonce");
  for (const auto& c : *categories) {
    if (!c.is_string()) return Unauthenticated("card assertion categories must be strings");
    out.categories.emplace_back(c.get_string());
  }
  // The consent opens a view for one facility only (DESIGN.md §4).
  if (*facility != facility_code)
    return Error(ErrorCode::kForbidden, "the card assertion names another facility");

  TimePoint now = clock_.Now();
  out.issued_at = FromUnixSeconds(*iat);
  if (out.issued_at < now - max_age_) return Unauthenticated("stale card assertion");
  if (out.issued_at > now + kCardMaxFutureSkew)
    return Unauthenticated("stale card assertion (dated in the future)");
  out.facility_code = std::string(*facility);
  out.purpose = std::string(*purpose);
  out.nonce = std::string(*nonce);

  // Kept until the assertion would be refused as stale anyway; per patient, hashed, so the
  // nonce table holds no patient identifiers.
  std::string key = crypto::Sha256Hex(patient + "\n" + out.nonce);
  TimePoint keep_until = out.issued_at + max_age_ + kCardMaxFutureSkew;
  RK_ASSIGN_OR_RETURN(bool fresh, store::RunInTransactionWithResult<bool>(
                                      store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                                        return tx.UseNonce(kCardNonceScope, key, keep_until);
                                      }));
  if (!fresh) return Unauthenticated("replayed card assertion");
  return out;
}

}  // namespace renkei::auth
