// The purpose a request claims, from its headers: the one contract by which every read route
// tells the decision (decision.h) on what basis it asks.
//   X-Purpose-Of-Use: TREAT | ETREAT | DISASTER | PATRQT | HRESCH | HOPERAT | COVERAGE
//       ETREAT from a fire department is the ambulance basis (DOMAIN.md §1 マイナ救急).
//       Default (DefaultPurposeCode): PATRQT for patients, HOPERAT for the ministry, COVERAGE
//       for insurers, HRESCH for research bodies, TREAT for everyone else.
//   X-Access-Reason:  the stated reason (ETREAT), percent-encoded UTF-8, at most
//                     kMaxReasonBytes once decoded.
//   X-Consent:        verbal | cannot-obtain (ambulance, disaster; cannot-obtain for ETREAT).
#pragma once

#include <string>

#include "access/decision.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/status.h"

namespace renkei::access {

inline constexpr size_t kMaxReasonBytes = 1024;

// A parsed claim that owns its reason; view() is valid while this object lives.
struct ClaimedPurpose {
  Purpose purpose = Purpose::kTreat;
  std::string reason;
  bool consent_cannot_be_obtained = false;
  bool verbal_consent = false;

  PurposeClaim view() const {
    return PurposeClaim{purpose, reason, consent_cannot_be_obtained, verbal_consent};
  }
  // The HL7 PurposeOfUse code claimed (ambulance: ETREAT).
  std::string_view code() const;
};

// The purpose who claims when the request names none.
std::string_view DefaultPurposeCode(const Principal& who);

// Reads the claim of req for who. kInvalid for an unknown purpose or consent value, a
// malformed escape or invalid UTF-8 in the reason; kTooLarge for a reason over the limit.
Result<ClaimedPurpose> ClaimedPurposeOf(const Request& req, const Principal& who);

}  // namespace renkei::access
