// Finding a patient without a card (issue "Access policy", legal bases 3 and 5): an emergency
// physician at a hospital receiving emergency patients (ETREAT) identifies the patient by the
// 4 items (name, birth date, sex, and address or insurer number); in a declared disaster
// (DISASTER) facilities inside the region and period find a patient by name (kanji or kana),
// birth date and sex, plus the address when needed. The answer is a short candidate list with
// minimal fields; vague searches are refused.
//   GET /fhir/Patient/$find-urgent?name=&birthdate=&gender=[&address=][&insurer=]
//   headers: X-Purpose-Of-Use ETREAT|DISASTER, X-Access-Reason, X-Consent (purpose_claim.h)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "access/decision.h"
#include "access/purpose_claim.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::access {

inline constexpr std::string_view kFindUrgentPath = "/fhir/Patient/$find-urgent";
inline constexpr std::string_view kFindUrgentOperation = "$find-urgent";
// At most this many candidates are returned; a search matching more is refused as too vague.
inline constexpr size_t kMaxMatchCandidates = 5;
// Index matches (same folded name, birth date and sex) examined at most; more is too vague.
inline constexpr size_t kMaxMatchScan = 50;
// Upper bound on each query value, in bytes.
inline constexpr size_t kMaxMatchValueBytes = 256;
// The least number of characters of a folded address (one character matches half a country).
inline constexpr size_t kMinAddressChars = 2;

// The search items, normalized: name and address folded by text::SearchKey as the registry
// folds names (kana width, hiragana/katakana, spaces), birthdate YYYY-MM-DD, gender a FHIR
// AdministrativeGender code, insurer an 8-digit insurer number ("" when not given).
struct MatchQuery {
  std::string name_key;
  std::string birthdate;
  std::string gender;
  std::string address_key;
  std::string insurer;
};

// Reads the query parameters. name, birthdate and gender are required; for kEmergency also
// address or insurer (the 4 items). kInvalid naming every problem (unknown or repeated
// parameter, bad value, missing item); kTooLarge for a value over kMaxMatchValueBytes.
Result<MatchQuery> ParseMatchQuery(const std::vector<std::pair<std::string, std::string>>& params,
                                   Purpose purpose);

// One patient found: the minimal resource returned and the legal basis it was permitted on.
struct MatchCandidate {
  std::string patient_id;
  json::object resource;  // Patient: id, name(s), birthDate, gender, address state/city only
  std::string basis;      // ETREAT or DISASTER
};

class PatientMatchService {
 public:
  // store, audit and clock must outlive the service.
  PatientMatchService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                      Limits limits = {});

  // The candidates for who claiming purpose: kForbidden (audited "denied") when the purpose is
  // not ETREAT/DISASTER or access::Decide gives the actor no basis, decided before any search;
  // then the query is parsed (kInvalid/kTooLarge) and run; kBusinessRule (audited "denied")
  // when more than kMaxMatchCandidates match. Each returned candidate is audited ("search",
  // "demographics", the basis) before this returns.
  Result<std::vector<MatchCandidate>> Find(
      const Principal& who, const ClaimedPurpose& purpose,
      const std::vector<std::pair<std::string, std::string>>& params);

  // GET kFindUrgentPath: a searchset Bundle without total, or an OperationOutcome.
  Response Handle(Request& req);

  // The route (Interaction::kOperation on Patient, token required, returns patient data). The
  // service must outlive the table.
  RouteTable Routes();

 private:
  // The decision without any patient's facts (declarations only): whether the actor has a
  // basis at all. Refusals are audited.
  Result<Decision> Authorize(const Principal& who, const ClaimedPurpose& purpose);
  Result<std::vector<MatchCandidate>> Search(const Principal& who, const ClaimedPurpose& purpose,
                                             const MatchQuery& query);
  void AuditRefusal(const Principal& who, const ClaimedPurpose& purpose, std::string_view reason);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
};

}  // namespace renkei::access
