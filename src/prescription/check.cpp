#include "prescription/check.h"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace renkei::prescription {
namespace {

using std::chrono::days;

// A drug taken by the patient or about to be: either a history item or a candidate.
struct Taken {
  const Drug* drug = nullptr;
  Date first{};
  Date last{};  // inclusive
  const HistoryItem* history = nullptr;
  size_t candidate_index = 0;
};

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Periods are closed day ranges [first, last]: two items overlap when they share at least
// one day. An item ending on day D and one starting on D+1 touch and do not overlap.
bool Overlaps(const Taken& a, const Taken& b) {
  return a.first <= b.last && b.first <= a.last;
}

AlertDetail DetailOf(const Taken& other) {
  AlertDetail d;
  d.other_code = other.drug->code;
  d.other_name = other.drug->product_name;
  d.other_start = other.first;
  d.other_end = other.last;
  if (other.history != nullptr) {
    d.other_facility = other.history->facility;
    d.other_kind = other.history->kind;
    d.other_record_id = other.history->record_id;
  } else {
    d.other_is_candidate = true;
    d.other_candidate_index = other.candidate_index;
  }
  return d;
}

Error CandidateError(const Error& e, size_t index) {
  const std::string where = "candidates[" + std::to_string(index) + "]";
  Issue issue;
  issue.expression = where + ".code";
  issue.text = where + ": " + e.message();
  return Error(e.code(), issue.text, {issue});
}

}  // namespace

std::string_view ToString(RecordKind kind) {
  return kind == RecordKind::kDispensing ? "dispensing" : "prescription";
}

std::string_view ToString(AlertKind kind) {
  return kind == AlertKind::kContraindication ? "contraindication" : "duplicate";
}

Date LastDayTaken(Date start, Usage usage, int days_supply, RouteClass route) {
  // JP-FHIR.md: a drug counts for its days' supply; where that cannot be computed
  // (external use, as-needed) it counts for 14 days. Dental agents are applied locally
  // like external ones.
  int taken_days = days_supply;
  if (usage != Usage::kDaysSupply || route == RouteClass::kExternal ||
      route == RouteClass::kDental || days_supply < 1) {
    taken_days = kUncomputableSupplyDays;
  }
  return start + days(taken_days - 1);
}

Result<CheckResult> RunCheck(const DrugMaster& master, const CheckRequest& request) {
  if (request.candidates.size() > kMaxCandidates) {
    return Error(ErrorCode::kTooLarge,
                 "a check takes at most " + std::to_string(kMaxCandidates) + " candidate items");
  }
  if (request.history.size() > kMaxHistory) {
    return Error(ErrorCode::kTooLarge,
                 "a check takes at most " + std::to_string(kMaxHistory) + " history items");
  }

  std::vector<Taken> candidates;
  candidates.reserve(request.candidates.size());
  for (size_t i = 0; i < request.candidates.size(); ++i) {
    const CandidateItem& c = request.candidates[i];
    auto drug = master.Resolve(c.code);
    if (!drug.ok()) return CandidateError(drug.error(), i);
    if (c.usage == Usage::kDaysSupply && (c.days_supply < 1 || c.days_supply > kMaxDaysSupply)) {
      return CandidateError(
          Error(ErrorCode::kInvalid, "days' supply must be 1.." + std::to_string(kMaxDaysSupply)),
          i);
    }
    Taken t;
    t.drug = *drug;
    t.first = c.start;
    t.last = LastDayTaken(c.start, c.usage, c.days_supply, t.drug->route);
    t.candidate_index = i;
    candidates.push_back(t);
  }

  CheckResult result;
  result.master_version = master.version();
  result.details_shown = request.details_allowed;

  // A dispensing supersedes the prescription it dispenses: the prescription's items leave
  // the history so that one course of a drug is not counted twice. Supersession is decided
  // over the whole history before the facility filter.
  std::unordered_set<std::string_view> dispensed;
  for (const HistoryItem& h : request.history) {
    if (h.kind == RecordKind::kDispensing && !h.prescription_id.empty()) {
      dispensed.insert(h.prescription_id);
    }
  }
  const Date window_start = request.check_date - days(kHistoryWindowDays - 1);
  std::vector<Taken> taken;
  taken.reserve(request.history.size());
  for (const HistoryItem& h : request.history) {
    if (h.start < window_start) continue;  // older than the last 100 days
    if (!request.exclude_prescription_id.empty() &&
        (h.record_id == request.exclude_prescription_id ||
         h.prescription_id == request.exclude_prescription_id)) {
      continue;  // the prescription being dispensed itself
    }
    if (h.kind == RecordKind::kPrescription && dispensed.contains(h.record_id)) continue;
    if (!request.include_own_facility && h.facility == request.requesting_facility) continue;
    const Drug* drug = master.Find(h.code);
    if (drug == nullptr) {
      ++result.unresolved_history;
      continue;
    }
    Taken t;
    t.drug = drug;
    t.first = h.start;
    t.last = LastDayTaken(h.start, h.usage, h.days_supply, drug->route);
    t.history = &h;
    taken.push_back(t);
  }

  result.items.reserve(candidates.size());
  for (const Taken& cand : candidates) {
    ItemResult item;
    item.candidate_index = cand.candidate_index;
    item.code = cand.drug->code;
    std::vector<Alert> alerts;

    // Duplicate: same ingredient and same route class, overlapping taking periods.
    for (const Taken& other : taken) {
      if (other.drug->route != cand.drug->route || !Overlaps(cand, other)) continue;
      std::vector<std::string> shared;
      for (const auto& ing : cand.drug->match_names) {
        if (Contains(other.drug->match_names, ing)) shared.push_back(ing);
      }
      if (shared.empty()) continue;
      Alert a{AlertKind::kDuplicate, std::nullopt};
      if (request.details_allowed) {
        a.detail = DetailOf(other);
        a.detail->ingredients = std::move(shared);
      }
      alerts.push_back(std::move(a));
    }

    // Contraindication: a rule naming one of the candidate's ingredients on a side whose
    // routes include the candidate's route class, and the other side's ingredient in a
    // taken drug or another candidate of a route class that side includes. Either order.
    std::set<std::pair<const Taken*, uint32_t>> reported;
    auto match_other = [&](const Taken& other, const std::string& cand_ing, uint32_t rule_index,
                           const std::string& other_ing, RouteMask other_routes) {
      if ((RouteBit(other.drug->route) & other_routes) == 0) return;
      if (!Contains(other.drug->match_names, other_ing)) return;
      if (!reported.emplace(&other, rule_index).second) return;
      Alert a{AlertKind::kContraindication, std::nullopt};
      if (request.details_allowed) {
        const ContraindicationRule& rule = master.rules()[rule_index];
        a.detail = DetailOf(other);
        a.detail->ingredients = {cand_ing, other_ing};
        a.detail->stated_in = rule.stated_in;
        a.detail->rule_status = rule.status;
      }
      alerts.push_back(std::move(a));
    };
    for (const auto& ing : cand.drug->match_names) {
      for (uint32_t r : master.RulesFor(ing)) {
        const ContraindicationRule& rule = master.rules()[r];
        const RouteMask cand_bit = RouteBit(cand.drug->route);
        for (int side = 0; side < 2; ++side) {
          const bool as_a = side == 0;
          const std::string& mine = as_a ? rule.ingredient_a : rule.ingredient_b;
          const RouteMask my_routes = as_a ? rule.routes_a : rule.routes_b;
          const std::string& theirs = as_a ? rule.ingredient_b : rule.ingredient_a;
          const RouteMask their_routes = as_a ? rule.routes_b : rule.routes_a;
          if (mine != ing || (my_routes & cand_bit) == 0) continue;
          for (const Taken& other : taken) match_other(other, ing, r, theirs, their_routes);
          for (const Taken& other : candidates) {
            if (&other != &cand) match_other(other, ing, r, theirs, their_routes);
          }
        }
      }
    }

    if (request.details_allowed) {
      item.alerts = std::move(alerts);
    } else {
      // Without consent only the existence of each kind of alert is shown (DOMAIN.md §1).
      for (AlertKind kind : {AlertKind::kDuplicate, AlertKind::kContraindication}) {
        if (std::any_of(alerts.begin(), alerts.end(),
                        [&](const Alert& a) { return a.kind == kind; })) {
          item.alerts.push_back(Alert{kind, std::nullopt});
        }
      }
    }
    result.items.push_back(std::move(item));
  }
  return result;
}

}  // namespace renkei::prescription
