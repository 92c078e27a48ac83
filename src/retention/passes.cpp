#include "retention/passes.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "clinical/clins_codes.h"
#include "clinical/document_store.h"
#include "clinical/item_access.h"
#include "core/log.h"
#include "prescription/records.h"
#include "retention/sweeper.h"

namespace renkei::retention::internal {
namespace {

using store::Criterion;
using store::MatchOp;

constexpr size_t kRankPage = 500;

// Index instants are FHIR instants with milliseconds (FormatInstant), so anchors count at that
// precision: a record is judged by the instant as indexed.
TimePoint Millis(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

Criterion Plain(std::string param, MatchOp op, std::string value) {
  Criterion c;
  c.param = std::move(param);
  c.op = op;
  c.values.push_back(std::move(value));
  return c;
}

Criterion Before(std::string param, TimePoint bound) {
  return Plain(std::move(param), MatchOp::kLe, FormatInstant(bound));
}

// The resource has no term for param at all.
Criterion Without(std::string param) {
  Criterion c;
  c.param = std::move(param);
  c.negate = true;
  return c;
}

// Matches the items of one access category, whatever their flags: the visibility terms
// (clinical/item_access.h) name the category; an item without a registering facility has only
// the category terms, so the terms of every flag combination are exactly the values to accept.
Criterion OfCategory(access::Category category) {
  Criterion c;
  c.param = std::string(clinical::kParamVisibility);
  for (bool uninformed : {false, true}) {
    for (bool undelivered : {false, true}) {
      clinical::ItemVisibility v;
      v.category = category;
      v.uninformed = uninformed;
      v.undelivered = undelivered;
      for (auto& t : clinical::VisibilityTerms(v)) {
        if (std::find(c.values.begin(), c.values.end(), t.value) == c.values.end()) {
          c.values.push_back(std::move(t.value));
        }
      }
    }
  }
  return c;
}

Criterion NotLts() {
  Criterion c;
  c.param = "_tag";
  c.has_system = true;
  c.system = std::string(clinical::kFlagSystem);
  c.values.push_back("LTS");
  c.negate = true;
  return c;
}

bool HasLts(const json::object& resource) {
  const json::object* meta = json::GetObject(resource, "meta");
  const json::array* tags = meta ? json::GetArray(*meta, "tag") : nullptr;
  if (tags == nullptr) return false;
  for (const auto& t : *tags) {
    if (t.is_object() && json::GetString(t.get_object(), "system") == clinical::kFlagSystem &&
        json::GetString(t.get_object(), "code") == "LTS") {
      return true;
    }
  }
  return false;
}

std::optional<TimePoint> InstantOf(const json::object& o, std::string_view key) {
  auto text = json::GetString(o, key);
  if (!text) return std::nullopt;
  auto at = ParseDateTime(*text);
  if (!at) return std::nullopt;
  return Millis(*at);
}

Result<json::object> Parse(const store::ResourceRow& row) {
  return json::ParseObject(row.json, Limits{});
}

bool IsJlacLabSystem(std::string_view system) {
  // JP-FHIR.md "Code systems": the JP-CLINS shared lab items (JLAC10/JLAC11 CoreLabo) and the
  // full JLAC10 master by URL or OID.
  return (system.starts_with("http://jpfhir.jp/fhir/clins/CodeSystem/JLAC1") &&
          system.ends_with("_CoreLabo_CS")) ||
         system == clinical::kJlac10System || system == clinical::kJlac10Oid;
}

// What makes two results "the same item" for the "last 3 results per item" rule: the JLAC
// code when the result has a real one (the same test at any facility), else the facility's
// local lab code (JP-CLINS requires one on every result) together with that facility.
struct LabItem {
  bool jlac = false;
  std::string code;
  std::string facility;  // local codes only
  bool operator==(const LabItem&) const = default;
};

std::optional<LabItem> LabItemOf(const json::object& observation) {
  std::optional<LabItem> jlac;
  std::optional<LabItem> local;
  clinical::ForEachCoding(json::GetObject(observation, "code"), [&](size_t, std::string_view system,
                                                                    std::string_view code) {
    if (code.empty()) return;
    if (!jlac && IsJlacLabSystem(system) && code != clinical::kLabPlaceholder) {
      jlac = LabItem{true, std::string(code), ""};
    } else if (!local && system == clinical::kLabLocalCodeSystem) {
      local = LabItem{false, std::string(code),
                      clinical::VisibilityOf(clinical::ItemType::kObservation, observation)
                          .registering_facility};
    }
  });
  if (jlac) return jlac;
  return local;
}

// One ranked record: newest first by anchor, then by registration, then by id, so that ranks
// are total and the same on every run.
struct Ranked {
  TimePoint anchor;
  TimePoint registered;
  std::string id;
};

std::map<std::string, int> RankOf(std::vector<Ranked> rows) {
  std::sort(rows.begin(), rows.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.anchor, a.registered, a.id) > std::tie(b.anchor, b.registered, b.id);
  });
  std::map<std::string, int> out;
  for (size_t i = 0; i < rows.size(); ++i) out[rows[i].id] = static_cast<int>(i + 1);
  return out;
}

// Every current row of query (paging through), at most max + 1.
Result<std::vector<store::ResourceRow>> AllRows(store::Transaction& tx, store::SearchQuery query,
                                                size_t max) {
  std::vector<store::ResourceRow> out;
  query.count = std::min(kRankPage, max + 1);
  query.include_total = false;
  while (out.size() <= max) {
    RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(query));
    for (auto& r : page.rows) out.push_back(std::move(r));
    if (page.next_cursor.empty()) break;
    query.after = std::move(page.next_cursor);
  }
  return out;
}

Result<int> LabRank(store::Transaction& tx, const store::ResourceRow& row,
                    const json::object& observation, RankCache& cache) {
  std::optional<LabItem> item = LabItemOf(observation);
  if (!item) return 0;  // no item to rank by: unknown, kept
  const std::string key = fmt::format("lab\x1f{}\x1f{}\x1f{}\x1f{}", row.patient_id, item->jlac,
                                      item->code, item->facility);
  auto cached = cache.ranks.find(key);
  if (cached == cache.ranks.end()) {
    store::SearchQuery q;
    q.type = row.type;
    q.patient_id = row.patient_id;
    if (item->jlac) {
      q.criteria.push_back(Plain("code", MatchOp::kEq, item->code));  // any JLAC system
    } else {
      Criterion c = Plain("code", MatchOp::kEq, item->code);
      c.has_system = true;
      c.system = std::string(clinical::kLabLocalCodeSystem);
      q.criteria.push_back(std::move(c));
      Criterion f = Plain("facility", MatchOp::kEq, item->facility);
      f.has_system = true;
      f.system = std::string(clinical::kFacilitySystem);
      q.criteria.push_back(std::move(f));
    }
    q.criteria.push_back(OfCategory(access::Category::kLabResults));
    RK_ASSIGN_OR_RETURN(std::vector<store::ResourceRow> rows, AllRows(tx, q, cache.max_ranked));
    std::map<std::string, int> ranks;
    if (rows.size() <= cache.max_ranked) {
      std::vector<Ranked> ranked;
      for (const auto& r : rows) {
        RK_ASSIGN_OR_RETURN(json::object other, Parse(r));
        if (LabItemOf(other) != item) continue;  // same code value, another item
        const TimePoint registered = Millis(r.last_updated);
        ranked.push_back(
            {InstantOf(other, "effectiveDateTime").value_or(registered), registered, r.id});
      }
      ranks = RankOf(std::move(ranked));
    } else {
      log::Warn("retention.rank_bound", {{"type", row.type}, {"limit", cache.max_ranked}});
    }
    cached = cache.ranks.emplace(key, std::move(ranks)).first;
  }
  auto it = cached->second.find(row.id);
  return it == cached->second.end() ? 0 : it->second;
}

TimePoint PrescriptionAnchor(const store::ResourceRow& row, const json::object& resource) {
  // The document store indexes `date` as authoredOn, or the submission instant when absent;
  // the row's time is its submission (these rows are never updated).
  return InstantOf(resource, "authoredOn").value_or(Millis(row.last_updated));
}

Result<int> PatientPrescriptionRank(store::Transaction& tx, const store::ResourceRow& row,
                                    RankCache& cache) {
  const std::string key = fmt::format("rx\x1f{}", row.patient_id);
  auto cached = cache.ranks.find(key);
  if (cached == cache.ranks.end()) {
    store::SearchQuery q;
    q.type = row.type;
    q.patient_id = row.patient_id;
    RK_ASSIGN_OR_RETURN(std::vector<store::ResourceRow> rows, AllRows(tx, q, cache.max_ranked));
    std::map<std::string, int> ranks;
    if (rows.size() <= cache.max_ranked) {
      std::vector<Ranked> ranked;
      for (const auto& r : rows) {
        RK_ASSIGN_OR_RETURN(json::object other, Parse(r));
        ranked.push_back({PrescriptionAnchor(r, other), Millis(r.last_updated), r.id});
      }
      ranks = RankOf(std::move(ranked));
    } else {
      log::Warn("retention.rank_bound", {{"type", row.type}, {"limit", cache.max_ranked}});
    }
    cached = cache.ranks.emplace(key, std::move(ranks)).first;
  }
  auto it = cached->second.find(row.id);
  return it == cached->second.end() ? 0 : it->second;
}

Result<bool> PrescriptionItemsLeft(store::Transaction& tx, const store::ResourceRow& bundle) {
  store::SearchQuery q;
  q.type = std::string(prescription::kRequestType);
  q.patient_id = bundle.patient_id;
  Criterion c = Plain(std::string(prescription::kPrescriptionParam), MatchOp::kEq, bundle.id);
  c.has_system = true;
  c.system = std::string(prescription::kPrescriptionIdSystem);
  q.criteria.push_back(std::move(c));
  q.count = 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  return !page.rows.empty();
}

void CollectHashes(const json::value& v, std::vector<std::string>& out) {
  if (v.is_array()) {
    for (const auto& e : v.get_array()) CollectHashes(e, out);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, member] : v.get_object()) {
    if (key == "url" && member.is_string()) {
      std::string_view url = member.get_string();
      constexpr std::string_view kPrefix = "Binary/";
      if (url.starts_with(kPrefix) && url.size() == kPrefix.size() + 64) {
        std::string_view hash = url.substr(kPrefix.size());
        if (std::all_of(hash.begin(), hash.end(), [](char ch) {
              return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
            })) {
          out.emplace_back(hash);
        }
      }
    } else {
      CollectHashes(member, out);
    }
  }
}

}  // namespace

std::vector<Pass> Passes(TimePoint now) {
  std::vector<Pass> passes;
  auto add = [&](PassKind kind, std::string_view type, std::vector<Criterion> criteria,
                 TimePoint bound) {
    passes.push_back(Pass{kind, std::string(type), std::move(criteria), bound});
  };
  // Items: registered 5 years ago or earlier (`_lastUpdated` is the registration), not LTS.
  const TimePoint five = LatestExpiredAnchor(Rule::kItemFiveYears, now);
  add(PassKind::kItem, "Condition", {Before("_lastUpdated", five), NotLts()}, five);
  add(PassKind::kItem, "AllergyIntolerance", {Before("_lastUpdated", five), NotLts()}, five);
  add(PassKind::kItem, "Observation",
      {Before("_lastUpdated", five), OfCategory(access::Category::kInfections), NotLts()}, five);
  // Lab results: effective a year ago or earlier, or undated and registered then.
  const TimePoint year = LatestExpiredAnchor(Rule::kLabOneYear, now);
  add(PassKind::kLab, "Observation",
      {Before("date", year), OfCategory(access::Category::kLabResults)}, year);
  add(PassKind::kLab, "Observation",
      {Before("_lastUpdated", year), OfCategory(access::Category::kLabResults), Without("date")},
      year);
  // Prescriptions taken from documents.
  const TimePoint hundred = LatestExpiredAnchor(Rule::kDocumentPrescription, now);
  add(PassKind::kDocumentPrescription, kDocumentPrescriptionType, {Before("date", hundred)},
      hundred);
  // Documents: by their `submitted` / `retrieved` terms (never-retrieved referrals have none).
  const TimePoint seven = LatestExpiredAnchor(Rule::kReferralRetrieved, now);
  add(PassKind::kReferralRetrieved, kDocumentBundleType,
      {Before("retrieved", seven), Plain("doc-type", MatchOp::kEq, std::string(kReferralDocType))},
      seven);
  const TimePoint half_year = LatestExpiredAnchor(Rule::kReferralUnretrieved, now);
  add(PassKind::kReferralUnretrieved, kDocumentBundleType,
      {Before("submitted", half_year),
       Plain("doc-type", MatchOp::kEq, std::string(kReferralDocType)), Without("retrieved")},
      half_year);
  const TimePoint checkup = LatestExpiredAnchor(Rule::kCheckupFiveYears, now);
  add(PassKind::kCheckup, kDocumentBundleType,
      {Before("submitted", checkup), Plain("doc-type", MatchOp::kEq, std::string(kCheckupDocType))},
      checkup);
  // Issue 4 records: the `date` term is the first day taken (a Japan date at UTC midnight);
  // a days' supply can only make a record live longer, so the first day bounds the search.
  const TimePoint record = LatestExpiredAnchor(Rule::kPrescriptionRecord, now);
  add(PassKind::kPrescriptionRecord, prescription::kRequestType, {Before("date", record)}, record);
  add(PassKind::kPrescriptionRecord, prescription::kDispenseType, {Before("date", record)}, record);
  // Prescription Bundles last: their items may have gone in this very run.
  const TimePoint bundle = LatestExpiredAnchor(Rule::kPrescriptionBundle, now);
  add(PassKind::kPrescriptionBundle, prescription::kPrescriptionType,
      {Before("_lastUpdated", bundle)}, bundle);
  return passes;
}

Result<RecordFacts> FactsOf(store::Transaction& tx, const Pass& pass, const store::ResourceRow& row,
                            RankCache& cache) {
  RecordFacts f;
  f.registered = Millis(row.last_updated);
  switch (pass.kind) {
    case PassKind::kItem: {
      RK_ASSIGN_OR_RETURN(json::object r, Parse(row));
      f.lts = HasLts(r);
      if (row.type == "Condition") {
        f.kind = RecordKind::kCondition;
      } else if (row.type == "AllergyIntolerance") {
        f.kind = RecordKind::kAllergy;
      } else if (clinical::CategoryOf(clinical::ItemType::kObservation, r) ==
                 access::Category::kInfections) {
        f.kind = RecordKind::kInfection;
      } else {
        // Found by the infection search but not an infection by its codes: the lab rule
        // decides for it (rank unknown here, so it is kept).
        f.kind = RecordKind::kLabResult;
      }
      return f;
    }
    case PassKind::kLab: {
      RK_ASSIGN_OR_RETURN(json::object r, Parse(row));
      f.kind = RecordKind::kLabResult;
      if (clinical::CategoryOf(clinical::ItemType::kObservation, r) !=
          access::Category::kLabResults) {
        return f;  // rank 0: kept; an infection goes by the 5-year rule
      }
      f.effective = InstantOf(r, "effectiveDateTime");
      RK_ASSIGN_OR_RETURN(f.rank, LabRank(tx, row, r, cache));
      return f;
    }
    case PassKind::kDocumentPrescription: {
      RK_ASSIGN_OR_RETURN(json::object r, Parse(row));
      f.kind = RecordKind::kDocumentPrescription;
      f.effective = PrescriptionAnchor(row, r);
      RK_ASSIGN_OR_RETURN(f.rank, PatientPrescriptionRank(tx, row, cache));
      return f;
    }
    case PassKind::kReferralRetrieved:
    case PassKind::kReferralUnretrieved:
    case PassKind::kCheckup: {
      f.kind = pass.kind == PassKind::kCheckup ? RecordKind::kCheckupReport
                                               : RecordKind::kReferralLetter;
      // The search matched the `submitted` / `retrieved` terms against the bound; the stored
      // state (clinical/document_store.h, written together with those terms) gives the exact
      // instants. A state that cannot be read leaves the terms' word: at or before the bound.
      RK_ASSIGN_OR_RETURN(json::object r, Parse(row));
      const clinical::DocumentState state = clinical::DocumentStateOf(r);
      auto submitted = ParseDateTime(state.submitted);
      auto retrieved = ParseDateTime(state.retrieved);
      f.registered = submitted ? Millis(*submitted) : pass.bound;
      if (retrieved) {
        f.retrieved = Millis(*retrieved);
      } else if (pass.kind == PassKind::kReferralRetrieved) {
        f.retrieved = pass.bound;
      }
      return f;
    }
    case PassKind::kPrescriptionRecord: {
      RK_ASSIGN_OR_RETURN(json::object r, Parse(row));
      f.kind = RecordKind::kPrescriptionRecord;
      std::vector<Issue> ignored;
      prescription::ItemInput item = row.type == prescription::kDispenseType
                                         ? prescription::ReadDispenseItem(r, "", ignored)
                                         : prescription::ReadRequestItem(r, "", ignored);
      // The stored record always has a start (prescription/records.cpp fills authoredOn or
      // whenHandedOver); its update time stands in otherwise.
      f.first_day = item.start.value_or(JapanDay(row.last_updated));
      f.days_supply = item.days_supply;
      if (item.usage != prescription::Usage::kDaysSupply) {
        // As-needed and external drugs count 14 days in the check (JP-FHIR.md).
        f.days_supply = std::max(f.days_supply, prescription::kUncomputableSupplyDays);
      }
      return f;
    }
    case PassKind::kPrescriptionBundle: {
      f.kind = RecordKind::kPrescriptionBundle;
      RK_ASSIGN_OR_RETURN(f.items_left, PrescriptionItemsLeft(tx, row));
      return f;
    }
  }
  return Error(ErrorCode::kInternal, "unknown retention pass");
}

std::vector<std::string> AttachmentHashes(const json::value& document) {
  std::vector<std::string> out;
  CollectHashes(document, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace renkei::retention::internal
