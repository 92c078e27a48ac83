#include "access/facts_store.h"

#include <functional>

#include "access/consent_resource.h"
#include "access/facts_resources.h"
#include "core/json.h"
#include "core/limits.h"

namespace renkei::access {
namespace {

// Runs q over every page (each fact set is small: a day's consents, one restriction record,
// the live declarations) and hands each row's JSON to fn.
Status ForEachRow(store::Transaction& tx, store::SearchQuery q,
                  const std::function<Status(const json::object&)>& fn) {
  q.count = 100;
  q.include_total = false;
  for (;;) {
    RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
    for (const store::ResourceRow& row : page.rows) {
      RK_ASSIGN_OR_RETURN(json::object resource, json::ParseObject(row.json, Limits{}));
      RK_TRY(fn(resource));
    }
    if (page.next_cursor.empty()) return Ok();
    q.after = page.next_cursor;
  }
}

// The Consent's category code in kConsentCategorySystem ("card" or "restrictions").
std::string_view ConsentCategoryOf(const json::object& consent) {
  const json::array* categories = json::GetArray(consent, "category");
  if (categories == nullptr) return {};
  for (const auto& category : *categories) {
    if (!category.is_object()) continue;
    const json::array* codings = json::GetArray(category.get_object(), "coding");
    if (codings == nullptr) continue;
    for (const auto& coding : *codings) {
      if (!coding.is_object()) continue;
      if (json::GetString(coding.get_object(), "system") == kConsentCategorySystem) {
        return json::GetString(coding.get_object(), "code").value_or("");
      }
    }
  }
  return {};
}

// Declarations end by themselves: only those whose end is still ahead are read.
Result<std::vector<DisasterDeclaration>> LiveDeclarations(store::Transaction& tx, TimePoint now) {
  std::vector<DisasterDeclaration> out;
  store::SearchQuery declarations;
  declarations.type = std::string(kDisasterType);
  declarations.criteria.push_back({"code",
                                   store::MatchOp::kEq,
                                   true,
                                   std::string(kRenkeiCodeSystem),
                                   {std::string(kDisasterCode)}});
  declarations.criteria.push_back({"end", store::MatchOp::kGt, false, "", {FormatInstant(now)}});
  RK_TRY(ForEachRow(tx, declarations, [&](const json::object& r) -> Status {
    RK_ASSIGN_OR_RETURN(DisasterDeclaration d, ReadDeclaration(r));
    out.push_back(std::move(d));
    return Ok();
  }));
  return out;
}

}  // namespace

Result<AccessFacts> LoadFacts(store::Transaction& tx, std::string_view patient_id, TimePoint now) {
  return LoadFacts(tx, patient_id, now, nullptr);
}

Result<AccessFacts> LoadFacts(store::Transaction& tx, std::string_view patient_id, TimePoint now,
                              DeclarationCache* declarations) {
  AccessFacts facts;
  facts.now = now;

  // One query for both kinds of the patient's Consent that bind a decision: card consents
  // still open (signed at most 24 hours ago, DOMAIN.md §2) and the restrictions, which never
  // lapse. Both carry "in-force-until" (consent_resource.cpp, facts_resources.cpp; migration
  // 003 gave older ones the far future). Instants compare as FormatInstant text, so the bound is
  // inclusive to the millisecond and the decision applies the exact window.
  store::SearchQuery consents;
  consents.type = std::string(kConsentType);
  consents.patient_id = std::string(patient_id);
  consents.criteria.push_back(
      {"category",
       store::MatchOp::kEq,
       true,
       std::string(kConsentCategorySystem),
       {std::string(kCardConsentCategory), std::string(kRestrictionsCategory)}});
  consents.criteria.push_back(
      {std::string(kInForceUntilParam), store::MatchOp::kGe, false, "", {FormatInstant(now)}});
  RK_TRY(ForEachRow(tx, consents, [&](const json::object& r) -> Status {
    if (ConsentCategoryOf(r) == kRestrictionsCategory) {
      RK_ASSIGN_OR_RETURN(facts.restrictions, ReadRestrictions(r));
      return Ok();
    }
    RK_ASSIGN_OR_RETURN(CardConsent c, ReadCardConsent(r));
    facts.consents.push_back(std::move(c));
    return Ok();
  }));

  if (declarations != nullptr) {
    RK_ASSIGN_OR_RETURN(facts.declarations, declarations->Get(tx, now));
  } else {
    RK_ASSIGN_OR_RETURN(facts.declarations, LiveDeclarations(tx, now));
  }
  return facts;
}

DeclarationCache::DeclarationCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

void DeclarationCache::Invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
}

Result<std::vector<DisasterDeclaration>> DeclarationCache::Get(store::Transaction& tx,
                                                               TimePoint now) {
  const auto steady = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (cached_ && steady - loaded_ < ttl_) return *cached_;
  }
  RK_ASSIGN_OR_RETURN(auto live, LiveDeclarations(tx, now));
  std::lock_guard lock(mu_);
  cached_ = std::make_shared<const std::vector<DisasterDeclaration>>(live);
  loaded_ = steady;
  return live;
}

}  // namespace renkei::access
