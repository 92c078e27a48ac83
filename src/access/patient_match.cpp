#include "access/patient_match.h"

#include <fmt/format.h>

#include <algorithm>

#include "access/facts_store.h"
#include "core/log.h"
#include "core/text.h"
#include "fhir/bundle.h"
#include "fhir/jp_systems.h"
#include "fhir/operation_outcome.h"
#include "fhir/routes.h"

namespace renkei::access {
namespace {

// FHIR "subsetted" tag (resource.html#tag): the resource carries only some of its elements.
constexpr std::string_view kSubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

using Params = std::vector<std::pair<std::string, std::string>>;

bool AllDigits(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

size_t Utf8Chars(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The whole name as the registry indexes it (registry IndexHumanNames: family followed by the
// given names, and the text), folded.
bool NameMatches(const json::object& patient, std::string_view name_key) {
  const json::array* names = json::GetArray(patient, "name");
  if (names == nullptr) return false;
  for (const auto& v : *names) {
    if (!v.is_object()) continue;
    const json::object& n = v.get_object();
    std::string whole(json::GetString(n, "family").value_or(""));
    if (const json::array* given = json::GetArray(n, "given")) {
      for (const auto& g : *given)
        if (g.is_string()) whole += std::string_view(g.get_string());
    }
    if (text::SearchKey(whole) == name_key) return true;
    if (auto t = json::GetString(n, "text"); t && text::SearchKey(*t) == name_key) return true;
  }
  return false;
}

// The address is not in the registry's search index (Patient indexes identifier, name,
// birthdate and gender only), so it is compared here on the stored resource: the folded query
// and the folded stored address (its text, or state + city + district + lines) match when one
// contains the other, so "東京都千代田区" finds "東京都千代田区1丁目2-3" and a full street
// address finds a patient registered with the city only.
bool AddressMatches(const json::object& patient, std::string_view address_key) {
  const json::array* addresses = json::GetArray(patient, "address");
  if (addresses == nullptr) return false;
  auto matches = [&](const std::string& stored) {
    std::string key = text::SearchKey(stored);
    return !key.empty() && (key.find(address_key) != std::string::npos ||
                            address_key.find(key) != std::string_view::npos);
  };
  for (const auto& v : *addresses) {
    if (!v.is_object()) continue;
    const json::object& a = v.get_object();
    if (auto t = json::GetString(a, "text"); t && matches(std::string(*t))) return true;
    std::string parts;
    for (std::string_view key : {"state", "city", "district"})
      parts += json::GetString(a, key).value_or("");
    if (const json::array* lines = json::GetArray(a, "line")) {
      for (const auto& l : *lines)
        if (l.is_string()) parts += std::string_view(l.get_string());
    }
    if (matches(parts)) return true;
  }
  return false;
}

// An insured-person id (JP_Insurance_memberID "insurer:symbol:number:branch") of this insurer.
bool HasMemberIdOf(const json::object& resource, std::string_view insurer) {
  const json::array* ids = json::GetArray(resource, "identifier");
  if (ids == nullptr) return false;
  const std::string prefix = std::string(insurer) + ":";
  for (const auto& v : *ids) {
    if (!v.is_object()) continue;
    const json::object& id = v.get_object();
    if (json::GetString(id, "system") != fhir::kMemberIdSystem) continue;
    auto value = json::GetString(id, "value");
    if (value && value->substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

// The insurer number is on the Patient's insured-person id when the insurer registered it
// there, else on the patient's Coverage (its member id, or a payor given by insurer number).
Result<bool> InsurerMatches(store::Transaction& tx, const json::object& patient,
                            const std::string& patient_id, std::string_view insurer) {
  if (HasMemberIdOf(patient, insurer)) return true;
  store::SearchQuery q;
  q.type = "Coverage";
  q.patient_id = patient_id;
  q.criteria.push_back({"beneficiary", store::MatchOp::kEq, false, "", {"Patient/" + patient_id}});
  q.count = 20;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  for (const store::ResourceRow& row : page.rows) {
    RK_ASSIGN_OR_RETURN(json::object coverage, json::ParseObject(row.json, Limits{}));
    if (HasMemberIdOf(coverage, insurer)) return true;
    if (const json::array* payors = json::GetArray(coverage, "payor")) {
      for (const auto& p : *payors) {
        const json::object* ident =
            p.is_object() ? json::GetObject(p.get_object(), "identifier") : nullptr;
        if (ident && json::GetString(*ident, "system") == fhir::kInsurerNumberSystem &&
            json::GetString(*ident, "value") == insurer)
          return true;
      }
    }
  }
  return false;
}

// The minimal fields of a candidate (issue legal basis 5: "minimal fields"): enough to tell
// candidates apart, nothing to reach the patient by (no identifiers, telecom or street).
json::object MinimalPatient(const std::string& id, const json::object& patient) {
  json::object out;
  out["resourceType"] = "Patient";
  out["id"] = id;
  out["meta"] = json::object{
      {"tag", json::array{json::object{{"system", kSubsettedSystem}, {"code", "SUBSETTED"}}}}};
  json::array names;
  if (const json::array* stored = json::GetArray(patient, "name")) {
    for (const auto& v : *stored) {
      if (!v.is_object()) continue;
      json::object n;
      for (std::string_view key : {"extension", "use", "text", "family", "given"}) {
        if (const json::value* f = json::Find(v.get_object(), key)) n[key] = *f;
      }
      names.push_back(std::move(n));
    }
  }
  if (!names.empty()) out["name"] = std::move(names);
  if (auto g = json::GetString(patient, "gender")) out["gender"] = *g;
  if (auto b = json::GetString(patient, "birthDate")) out["birthDate"] = *b;
  json::array addresses;
  if (const json::array* stored = json::GetArray(patient, "address")) {
    for (const auto& v : *stored) {
      if (!v.is_object()) continue;
      json::object a;
      for (std::string_view key : {"state", "city"}) {
        if (auto s = json::GetString(v.get_object(), key)) a[key] = *s;
      }
      if (!a.empty()) addresses.push_back(std::move(a));
    }
  }
  if (!addresses.empty()) out["address"] = std::move(addresses);
  return out;
}

// The audit entry of this search: the stated reason and consent declaration are part of the
// legal basis, reviewed afterwards by the patient and the privacy officer (as registry reads
// record them).
audit::AuditEntry SearchEntry(const Principal& who, const ClaimedPurpose& claim,
                              std::string_view patient_id, std::string_view basis,
                              std::string_view outcome, size_t candidates,
                              std::string_view refusal = {}) {
  audit::AuditEntry e =
      audit::EntryFor(who, patient_id, "search", ToString(Category::kDemographics),
                      basis.empty() ? claim.code() : basis, outcome);
  json::object detail;
  detail["operation"] = kFindUrgentOperation;
  if (outcome == "success") detail["candidates"] = candidates;
  if (!refusal.empty()) detail["refusal"] = refusal;
  if (!claim.reason.empty()) detail["reason"] = claim.reason;
  if (claim.verbal_consent) detail["consent"] = "verbal";
  if (claim.consent_cannot_be_obtained) detail["consent"] = "cannot-obtain";
  e.detail = json::Serialize(detail);
  return e;
}

}  // namespace

Result<MatchQuery> ParseMatchQuery(const Params& params, Purpose purpose) {
  MatchQuery q;
  std::vector<Issue> issues;
  auto invalid = [&](std::string expression, std::string text) {
    issues.push_back(Issue{Issue::Severity::kError, "", std::move(expression), std::move(text)});
  };
  std::string name, birthdate, gender, address, insurer;
  for (const auto& [key, value] : params) {
    std::string* slot = key == "name"        ? &name
                        : key == "birthdate" ? &birthdate
                        : key == "gender"    ? &gender
                        : key == "address"   ? &address
                        : key == "insurer"   ? &insurer
                                             : nullptr;
    if (slot == nullptr) {
      invalid(key, fmt::format("unknown parameter '{}' (name, birthdate, gender, address, "
                               "insurer)",
                               key));
      continue;
    }
    if (value.size() > kMaxMatchValueBytes) {
      return Error(ErrorCode::kTooLarge,
                   fmt::format("{} is at most {} bytes", key, kMaxMatchValueBytes));
    }
    if (!slot->empty()) {
      invalid(key, fmt::format("{} is given twice", key));
      continue;
    }
    if (!text::IsValidUtf8(value)) {
      invalid(key, fmt::format("{} must be UTF-8", key));
      continue;
    }
    *slot = value;
  }

  q.name_key = text::SearchKey(name);
  if (q.name_key.empty()) invalid("name", "the whole name (kanji or kana) is required");
  if (birthdate.empty()) {
    invalid("birthdate", "the birth date is required");
  } else {
    auto t = AllDigits(birthdate.substr(0, 4), 4) && birthdate.size() == 10
                 ? ParseDateTime(birthdate)
                 : std::nullopt;
    if (!t || FormatDate(*t) != birthdate) {
      invalid("birthdate", "the birth date is a full date YYYY-MM-DD");
    } else {
      q.birthdate = birthdate;
    }
  }
  if (gender.empty()) {
    invalid("gender", "the sex (gender) is required");
  } else if (gender != "male" && gender != "female" && gender != "other" && gender != "unknown") {
    invalid("gender", "gender is male, female, other or unknown");
  } else {
    q.gender = gender;
  }
  if (!address.empty()) {
    q.address_key = text::SearchKey(address);
    if (Utf8Chars(q.address_key) < kMinAddressChars) {
      invalid("address", fmt::format("the address needs at least {} characters", kMinAddressChars));
    }
  }
  if (!insurer.empty()) {
    if (!AllDigits(insurer, 8)) {
      invalid("insurer", "the insurer number has 8 digits");
    } else {
      q.insurer = insurer;
    }
  }
  // Issue legal basis 3: in an emergency the patient is identified by the 4 items.
  if (purpose == Purpose::kEmergency && address.empty() && insurer.empty()) {
    invalid("address",
            "an emergency search needs the 4 items: name, birth date, sex, and the "
            "address or the insurer number");
  }
  if (!issues.empty()) {
    std::string message = issues.size() == 1 ? issues.front().text
                                             : fmt::format(
                                                   "{} problems in the search; the first: "
                                                   "{}",
                                                   issues.size(), issues.front().text);
    return Error(ErrorCode::kInvalid, std::move(message), std::move(issues));
  }
  return q;
}

PatientMatchService::PatientMatchService(store::Store& store, audit::AuditLog& audit,
                                         const Clock& clock, Limits limits)
    : store_(store), audit_(audit), clock_(clock), limits_(limits) {}

void PatientMatchService::AuditRefusal(const Principal& who, const ClaimedPurpose& purpose,
                                       std::string_view reason) {
  Status s = audit_.Record(SearchEntry(who, purpose, "", "", "denied", 0, reason));
  if (!s.ok())
    log::Error("audit_write_failed", {{"action", "search"}, {"code", s.error().ToString()}});
}

Result<Decision> PatientMatchService::Authorize(const Principal& who,
                                                const ClaimedPurpose& purpose) {
  std::string_view refusal;
  if (who.kind != PrincipalKind::kPractitioner) {
    refusal = "only practitioners search for a patient without a card";
  } else if (purpose.purpose == Purpose::kAmbulance) {
    // Issue legal basis 4: ambulance crews identify the patient by card.
    refusal = "paramedics identify the patient by card, not by search";
  } else if (purpose.purpose != Purpose::kEmergency && purpose.purpose != Purpose::kDisaster) {
    refusal =
        "a patient is found without a card only in an emergency (ETREAT, physicians of "
        "emergency hospitals) or a declared disaster (DISASTER)";
  }
  if (!refusal.empty()) {
    AuditRefusal(who, purpose, refusal);
    return Error(ErrorCode::kForbidden, std::string(refusal));
  }
  // The basis is decided before anything is searched, so that a caller without one learns
  // nothing. No patient is known yet: the facts of the empty patient id hold no consents and no
  // restrictions (no patient-owned row has that id), only the declarations, which are global.
  const TimePoint now = clock_.Now();
  RK_ASSIGN_OR_RETURN(AccessFacts facts,
                      store::RunInTransactionWithResult<AccessFacts>(
                          store_, store::TxMode::kRead,
                          [&](store::Transaction& tx) { return LoadFacts(tx, "", now); }));
  facts.nurses_may_view = who.nurses_may_view;
  AccessRequest r;
  r.actor = ActorOf(who);
  r.item.category = Category::kDemographics;
  r.purpose = purpose.view();
  Decision d = Decide(r, facts);
  if (!d.permit) {
    AuditRefusal(who, purpose, d.reason);
    return Error(ErrorCode::kForbidden, std::string(d.reason));
  }
  return d;
}

Result<std::vector<MatchCandidate>> PatientMatchService::Search(const Principal& who,
                                                                const ClaimedPurpose& purpose,
                                                                const MatchQuery& query) {
  const TimePoint now = clock_.Now();
  const Actor actor = ActorOf(who);
  return store::RunInTransactionWithResult<std::vector<MatchCandidate>>(
      store_, store::TxMode::kRead,
      [&](store::Transaction& tx) -> Result<std::vector<MatchCandidate>> {
        // The registry's Patient index (registry/patient_kinds.cpp): name holds the folded
        // family, given, whole and text names; birthdate the date as an instant; gender the code.
        store::SearchQuery q;
        q.type = "Patient";
        q.criteria.push_back({"name", store::MatchOp::kEq, false, "", {query.name_key}});
        q.criteria.push_back({"birthdate",
                              store::MatchOp::kEq,
                              false,
                              "",
                              {FormatInstant(*ParseDateTime(query.birthdate))}});
        q.criteria.push_back({"gender", store::MatchOp::kEq, false, "", {query.gender}});
        q.count = kMaxMatchScan + 1;
        q.include_total = false;
        RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
        // More namesakes born the same day than this is refused before the decision is asked
        // per patient (bounding the work); it counts restricted patients too, which tells only
        // that dozens of people share these items, nothing about any one of them.
        if (page.rows.size() > kMaxMatchScan) {
          return Error(ErrorCode::kBusinessRule,
                       "too many patients match: add the address or the insurer number");
        }
        std::vector<MatchCandidate> out;
        for (const store::ResourceRow& row : page.rows) {
          RK_ASSIGN_OR_RETURN(json::object patient, json::ParseObject(row.json, limits_));
          // The index matched a part of the name or a partial birth date ("1980" is indexed as
          // 1980-01-01): the whole name and the exact date must match.
          if (!NameMatches(patient, query.name_key)) continue;
          if (json::GetString(patient, "birthDate") != query.birthdate) continue;
          if (!query.address_key.empty() && !AddressMatches(patient, query.address_key)) continue;
          if (!query.insurer.empty()) {
            RK_ASSIGN_OR_RETURN(bool insured, InsurerMatches(tx, patient, row.id, query.insurer));
            if (!insured) continue;
          }
          // The one door, per candidate with the patient's own facts. A patient the decision
          // refuses (opted out, this facility blocked or not allowed) is left out silently: the
          // answer carries no total, and the vagueness limit below counts only the patients
          // returned, so nothing tells that a refused patient matched.
          RK_ASSIGN_OR_RETURN(AccessFacts facts, LoadFacts(tx, row.id, now));
          facts.nurses_may_view = who.nurses_may_view;
          AccessRequest r;
          r.actor = actor;
          r.patient_id = row.id;
          r.item.category = Category::kDemographics;
          r.purpose = purpose.view();
          Decision d = Decide(r, facts);
          if (!d.permit) continue;
          out.push_back(
              MatchCandidate{row.id, MinimalPatient(row.id, patient), std::string(d.basis)});
        }
        if (out.size() > kMaxMatchCandidates) {
          return Error(ErrorCode::kBusinessRule,
                       fmt::format("more than {} patients match: add the address or the insurer "
                                   "number",
                                   kMaxMatchCandidates));
        }
        return out;
      });
}

Result<std::vector<MatchCandidate>> PatientMatchService::Find(const Principal& who,
                                                              const ClaimedPurpose& purpose,
                                                              const Params& params) {
  RK_TRY(Authorize(who, purpose));
  RK_ASSIGN_OR_RETURN(MatchQuery query, ParseMatchQuery(params, purpose.purpose));
  auto found = Search(who, purpose, query);
  if (!found.ok()) {
    if (found.error().code() == ErrorCode::kBusinessRule) AuditRefusal(who, purpose, "too vague");
    return found;
  }
  // Audited before any data leaves (DESIGN.md §3.1); a search that found no one is recorded too.
  std::vector<audit::AuditEntry> entries;
  for (const MatchCandidate& c : *found) {
    entries.push_back(SearchEntry(who, purpose, c.patient_id, c.basis, "success", found->size()));
  }
  if (entries.empty()) entries.push_back(SearchEntry(who, purpose, "", "", "success", 0));
  RK_TRY(audit_.Record(std::move(entries)));
  log::Info("urgent_patient_search", {{"purpose", purpose.code()}, {"candidates", found->size()}});
  return found;
}

Response PatientMatchService::Handle(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  auto claim = ClaimedPurposeOf(req, *req.principal);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  auto found = Find(*req.principal, *claim, req.query);
  if (!found.ok()) return fhir::ErrorResponse(found.error());
  std::vector<fhir::BundleEntryOut> entries;
  for (const MatchCandidate& c : *found) {
    fhir::BundleEntryOut e;
    e.full_url = fmt::format("{}/fhir/Patient/{}", req.base_url, c.patient_id);
    e.resource_json = json::Serialize(c.resource);
    e.search_mode = "match";
    entries.push_back(std::move(e));
  }
  // No total and no query in the self link: the search items identify a person.
  Response res = Response::Json(
      200, fhir::SearchSetBundle(std::nullopt, fmt::format("{}{}", req.base_url, kFindUrgentPath),
                                 "", entries));
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

RouteTable PatientMatchService::Routes() {
  // Decided by access::Decide (category demographics).
  return {fhir::TypeOperation(
      Method::kGet, "Patient", kFindUrgentOperation,
      "Emergency (ETREAT) and disaster (DISASTER) search for a patient without a card: name, "
      "birth date, sex, and address or insurer; at most 5 candidates, minimal fields",
      [this](Request& req) { return Handle(req); })};
}

}  // namespace renkei::access
