#include "registry/read_access.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "access/facts_store.h"
#include "core/json.h"
#include "core/limits.h"
#include "registry/patient_read_policy.h"

namespace renkei::registry {
namespace {

// The purposes whose decision reads the patient's facts. The ministry's registry work and the
// patient's own view do not depend on consents, declarations or restrictions (decision.cpp).
bool NeedsFacts(access::Purpose p, const Principal& who) {
  if (who.kind == PrincipalKind::kPatient) return false;
  return p != access::Purpose::kOperations && p != access::Purpose::kResearch;
}

// The insurer numbers paying this patient's Coverage (COVERAGE decisions only).
Result<std::vector<std::string>> InsurersOf(store::Transaction& tx, std::string_view patient_id) {
  store::SearchQuery q;
  q.type = "Coverage";
  q.patient_id = std::string(patient_id);
  q.criteria.push_back(
      {"beneficiary", store::MatchOp::kEq, false, "", {fmt::format("Patient/{}", patient_id)}});
  q.count = 100;
  q.include_total = false;
  std::vector<std::string> out;
  for (;;) {
    RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
    for (const auto& row : page.rows) {
      if (row.deleted) continue;
      auto coverage = json::ParseObject(row.json, Limits{});
      if (!coverage.ok()) return Error(ErrorCode::kInternal, "a stored Coverage is not JSON");
      RK_ASSIGN_OR_RETURN(auto number, PayorInsurerNumber(tx, *coverage));
      if (number && std::find(out.begin(), out.end(), *number) == out.end()) {
        out.push_back(std::move(*number));
      }
    }
    if (page.next_cursor.empty()) return out;
    q.after = page.next_cursor;
  }
}

// "Patient/x", a full URL ending in Patient/x, or a bare id -> x.
std::string PatientIdIn(std::string_view value) {
  auto slash = value.rfind('/');
  if (slash == std::string_view::npos) return std::string(value);
  return std::string(value.substr(slash + 1));
}

}  // namespace

ReadContext::ReadContext(store::Transaction& tx, const Principal& who, access::ClaimedPurpose claim,
                         TimePoint now, access::DeclarationCache* declarations)
    : tx_(tx), who_(who), claim_(std::move(claim)), now_(now), declarations_(declarations) {}

Result<const access::AccessFacts*> ReadContext::FactsOf(std::string_view patient_id) {
  if (auto it = facts_.find(patient_id); it != facts_.end()) return &it->second;
  access::AccessFacts facts;
  if (NeedsFacts(claim_.purpose, who_) && !patient_id.empty()) {
    RK_ASSIGN_OR_RETURN(facts, access::LoadFacts(tx_, patient_id, now_, declarations_));
    if (claim_.purpose == access::Purpose::kCoverage) {
      RK_ASSIGN_OR_RETURN(facts.insurers, InsurersOf(tx_, patient_id));
    }
  }
  facts.now = now_;
  facts.nurses_may_view = who_.nurses_may_view;
  auto [it, inserted] = facts_.emplace(std::string(patient_id), std::move(facts));
  return &it->second;
}

access::Decision ReadContext::Decide(std::string_view patient_id, const ItemInfo& item,
                                     const access::AccessFacts& facts) const {
  access::AccessRequest r;
  r.actor = access::ActorOf(who_);
  r.patient_id = patient_id;
  r.item.category = item.category;
  r.item.item_id = item.item_id;
  r.item.registering_facility = item.registering_facility;
  r.item.uninformed = item.uninformed;
  r.item.uninformed_date = item.uninformed_date;
  r.item.undelivered = item.undelivered;
  r.purpose = claim_.view();
  return access::Decide(r, facts);
}

Result<access::Decision> ReadContext::DecideRow(const ResourceKind& kind,
                                                const store::ResourceRow& row) {
  ItemInfo item;
  if (kind.item_of) {
    RK_ASSIGN_OR_RETURN(item, kind.item_of(tx_, row));
  } else {
    item.category = kind.access_category;
    item.item_id = fmt::format("{}/{}", row.type, row.id);
  }
  RK_ASSIGN_OR_RETURN(const access::AccessFacts* facts, FactsOf(row.patient_id));
  return Decide(row.patient_id, item, *facts);
}

Result<access::Decision> ReadContext::DecideKind(const ResourceKind& kind,
                                                 std::string_view patient_id) {
  ItemInfo item;
  item.category = kind.access_category;
  RK_ASSIGN_OR_RETURN(const access::AccessFacts* facts, FactsOf(patient_id));
  return Decide(patient_id, item, *facts);
}

Result<access::ClaimedPurpose> ClaimOf(const Request* req, const Principal& who) {
  if (req != nullptr) return access::ClaimedPurposeOf(*req, who);
  Request none;
  return access::ClaimedPurposeOf(none, who);
}

Result<SearchPlan> PlanPatientSearch(ReadContext& ctx, const ResourceKind& kind,
                                     store::SearchQuery& q) {
  SearchPlan plan;
  auto deny_for = [&](std::string_view patient, const access::Decision& d) {
    plan.denied = Error(ErrorCode::kForbidden, std::string(d.reason));
    plan.denied_patient = std::string(patient);
    return plan;
  };
  const Principal& who = ctx.who();
  if (who.kind == PrincipalKind::kPatient) {
    RK_ASSIGN_OR_RETURN(access::Decision d, ctx.DecideKind(kind, who.subject));
    if (!d.permit) return deny_for(who.subject, d);
    q.patient_id = who.subject;  // the patient-first key: their own records and nothing else
    return plan;
  }
  const access::Purpose purpose = ctx.claim().purpose;
  if (purpose == access::Purpose::kOperations) {
    // The ministry's registry work does not depend on the patient (decision.cpp).
    RK_ASSIGN_OR_RETURN(access::Decision d, ctx.DecideKind(kind, ""));
    if (!d.permit) return deny_for("", d);
    return plan;
  }
  if (purpose == access::Purpose::kCoverage && kind.search_scope) {
    RK_ASSIGN_OR_RETURN(auto scope, kind.search_scope(who, ctx.tx()));
    if (!scope) {
      plan.match_nothing = true;
      return plan;
    }
    for (auto& c : *scope) q.criteria.push_back(std::move(c));
    return plan;
  }

  // Everyone else decides patient by patient, so the search must say which patients.
  std::set<std::string> patients;
  bool named = false;
  for (const store::Criterion& c : q.criteria) {
    if (c.param != kind.owner_param || c.op != store::MatchOp::kEq) continue;
    named = true;
    for (const auto& v : c.values) patients.insert(PatientIdIn(v));
  }
  if (!named && !kind.lookup_param.empty()) {
    store::SearchQuery lookup;
    lookup.type = q.type;
    for (const store::Criterion& c : q.criteria) {
      if (c.param == kind.lookup_param) {
        lookup.criteria.push_back(c);
        named = true;
      }
    }
    if (named) {
      // Resolved in the same transaction as the search itself, so both see the same patients.
      lookup.count = kMaxPatientsPerSearch + 1;
      lookup.include_total = false;
      RK_ASSIGN_OR_RETURN(store::SearchPage page, ctx.tx().Search(lookup));
      for (const auto& row : page.rows) patients.insert(row.patient_id);
      if (!page.next_cursor.empty()) patients.insert("");  // more than the limit
    }
  }
  if (!named) {
    return Error(ErrorCode::kInvalid,
                 fmt::format("a search of {} must name the patient ({}{}); finding a patient "
                             "without a card is the emergency and disaster search",
                             kind.type, kind.owner_param,
                             kind.lookup_param.empty() ? "" : " or " + kind.lookup_param));
  }
  if (patients.size() > kMaxPatientsPerSearch) {
    return Error(ErrorCode::kInvalid,
                 fmt::format("a search may name at most {} patients", kMaxPatientsPerSearch));
  }
  if (patients.empty()) {
    plan.match_nothing = true;
    return plan;
  }
  for (const std::string& patient : patients) {
    RK_ASSIGN_OR_RETURN(access::Decision d, ctx.DecideKind(kind, patient));
    if (!d.permit) return deny_for(patient, d);
  }
  if (patients.size() == 1) q.patient_id = *patients.begin();
  return plan;
}

audit::AuditEntry ReadAuditEntry(const Principal& who, const access::ClaimedPurpose& claim,
                                 std::string_view patient_id, std::string_view action,
                                 std::string_view category, std::string_view basis, bool denied) {
  audit::AuditEntry e =
      audit::EntryFor(who, patient_id, action, category, basis.empty() ? claim.code() : basis,
                      denied ? "denied" : "success");
  // The emergency reason and the consent declaration are part of the legal basis: the patient
  // and the privacy officer review them afterwards (issue "Access policy", bases 3-5).
  if (!claim.reason.empty() || claim.verbal_consent || claim.consent_cannot_be_obtained) {
    json::object detail;
    if (!claim.reason.empty()) detail["reason"] = claim.reason;
    if (claim.verbal_consent) detail["consent"] = "verbal";
    if (claim.consent_cannot_be_obtained) detail["consent"] = "cannot-obtain";
    e.detail = json::Serialize(detail);
  }
  return e;
}

}  // namespace renkei::registry
