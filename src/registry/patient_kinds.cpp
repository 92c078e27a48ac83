// Patient and Coverage: the insured person and their insurance (DOMAIN.md §1, online
// eligibility; JP-FHIR.md identifiers).
#include <fmt/format.h>

#include <array>

#include "core/clock.h"
#include "core/text.h"
#include "registry/identifiers.h"
#include "registry/kind_helpers.h"
#include "registry/patient_read_policy.h"
#include "registry/registry_kinds.h"

namespace renkei::registry {

using fhir::Child;
using fhir::Index;
using fhir::IssueCollector;
using fhir::SearchParamKind;

namespace {

// 限度額適用区分: ア-オ under 70; the 70-and-over categories by their usual names.
constexpr std::array<std::string_view, 11> kHighCostCategories = {
    "ア",        "イ",        "ウ",   "エ",      "オ",     "現役並みⅢ",
    "現役並みⅡ", "現役並みⅠ", "一般", "低所得Ⅱ", "低所得Ⅰ"};

void ValidateMemberIds(const json::object& r, const std::string& root, IssueCollector& c) {
  const json::array* ids = json::GetArray(r, "identifier");
  if (ids == nullptr) return;
  for (size_t i = 0; i < ids->size(); ++i) {
    if (!(*ids)[i].is_object()) continue;
    const json::object& id = (*ids)[i].get_object();
    if (json::GetString(id, "system") != kMemberIdSystem) continue;
    auto value = json::GetString(id, "value");
    if (value && !value->empty() && !IsValidMemberId(*value)) {
      c.Invalid(Child(Index(Child(root, "identifier"), i), "value"),
                "the insured-person id is insurer(8):symbol:number:branch(2 digits or empty), "
                "without spaces");
    }
  }
}

void ValidatePatient(const json::object& r, IssueCollector& c) {
  const std::string root = "Patient";
  fhir::CheckResourceShape(r, root, c);
  ValidateExtensions(r, root, c);
  ValidateIdentifiers(r, root, c);
  ValidateMemberIds(r, root, c);
  ValidateHumanNames(r, root, c, true);
  if (auto gender = fhir::OptionalString(r, "gender", root, c)) {
    if (*gender != "male" && *gender != "female" && *gender != "other" && *gender != "unknown") {
      c.Invalid(Child(root, "gender"), "gender is male, female, other or unknown");
    }
  }
  if (auto birth = fhir::OptionalString(r, "birthDate", root, c)) {
    if (!fhir::IsFhirDate(*birth))
      c.Invalid(Child(root, "birthDate"), "not a FHIR date (YYYY-MM-DD)");
  }
  if (auto active = json::Find(r, "active"); active && !active->is_bool()) {
    c.Invalid(Child(root, "active"), "active must be a boolean");
  }
  if (const json::array* addrs = fhir::OptionalArray(r, "address", root, c)) {
    for (size_t i = 0; i < addrs->size(); ++i) {
      std::string p = Index(Child(root, "address"), i);
      if (!(*addrs)[i].is_object()) {
        c.Invalid(p, "an address must be an object");
        continue;
      }
      const json::object& a = (*addrs)[i].get_object();
      for (std::string_view key : {"text", "postalCode", "city", "state", "district", "country"}) {
        fhir::OptionalString(a, key, p, c);
      }
    }
  }
}

std::string DateKey(std::string_view date) {
  auto t = ParseDateTime(date);
  return t ? FormatInstant(*t) : std::string();
}

std::vector<store::IndexTerm> IndexPatient(const json::object& r) {
  std::vector<store::IndexTerm> terms;
  IndexIdentifiers(r, terms);
  IndexHumanNames(r, terms);
  if (auto birth = json::GetString(r, "birthDate")) {
    std::string key = DateKey(*birth);
    if (!key.empty()) terms.push_back({"birthdate", "", std::move(key)});
  }
  if (auto gender = json::GetString(r, "gender")) {
    terms.push_back({"gender", std::string(kAdministrativeGenderSystem), std::string(*gender)});
  }
  return terms;
}

void ValidateCoverage(const json::object& r, IssueCollector& c) {
  const std::string root = "Coverage";
  fhir::CheckResourceShape(r, root, c);
  ValidateExtensions(r, root, c);
  ValidateIdentifiers(r, root, c);
  ValidateMemberIds(r, root, c);
  auto member = IdentifierValue(r, kMemberIdSystem);
  if (!member) {
    c.Invalid(Child(root, "identifier"),
              fmt::format("the insured-person id ({}) is required", kMemberIdSystem));
  }
  if (auto status = fhir::RequireString(r, "status", root, c)) {
    if (*status != "active" && *status != "cancelled" && *status != "draft" &&
        *status != "entered-in-error") {
      c.Invalid(Child(root, "status"), "status is active, cancelled, draft or entered-in-error");
    }
  }
  RequireReference(r, "beneficiary", "Patient", root, c);
  fhir::OptionalString(r, "subscriberId", root, c);
  fhir::OptionalString(r, "dependent", root, c);

  const json::array* payors = fhir::OptionalArray(r, "payor", root, c);
  if (payors == nullptr) {
    if (json::Find(r, "payor") == nullptr)
      c.Invalid(Child(root, "payor"), "the insurer is required");
  } else if (payors->size() != 1 || !(*payors)[0].is_object()) {
    c.Invalid(Child(root, "payor"), "exactly one payor (the insurer) is required");
  } else {
    std::string p = Index(Child(root, "payor"), 0);
    const json::object& payor = (*payors)[0].get_object();
    const json::object* ident = json::GetObject(payor, "identifier");
    auto ref = json::GetString(payor, "reference");
    if (ident != nullptr) {
      auto value = json::GetString(*ident, "value");
      if (json::GetString(*ident, "system") != kInsurerNumberSystem || !value ||
          !AllDigits(*value, 8)) {
        c.Invalid(Child(p, "identifier"),
                  fmt::format("the payor identifier is an 8-digit insurer number in {}",
                              kInsurerNumberSystem));
      } else if (member && member->size() >= 8 && member->substr(0, 8) != *value) {
        c.Rule(Child(root, "identifier"),
               "the insured-person id does not start with the payor's insurer number");
      }
    } else if (!ref || !fhir::ParseReference(*ref) ||
               fhir::ParseReference(*ref)->first != "Organization") {
      c.Invalid(p, "the payor is an Organization reference or an insurer-number identifier");
    }
  }

  if (const json::object* period = json::GetObject(r, "period")) {
    std::string p = Child(root, "period");
    auto start = fhir::OptionalString(*period, "start", p, c);
    auto end = fhir::OptionalString(*period, "end", p, c);
    if (start && !ParseDateTime(*start)) c.Invalid(Child(p, "start"), "not a FHIR dateTime");
    if (end && !ParseDateTime(*end)) c.Invalid(Child(p, "end"), "not a FHIR dateTime");
    if (start && end && ParseDateTime(*start) && ParseDateTime(*end) &&
        *ParseDateTime(*end) < *ParseDateTime(*start)) {
      c.Rule(p, "the period ends before it starts");
    }
  } else if (json::Find(r, "period") != nullptr) {
    c.Invalid(Child(root, "period"), "period must be an object");
  }

  if (const json::array* costs = fhir::OptionalArray(r, "costToBeneficiary", root, c)) {
    for (size_t i = 0; i < costs->size(); ++i) {
      std::string p = Index(Child(root, "costToBeneficiary"), i);
      if (!(*costs)[i].is_object()) {
        c.Invalid(p, "costToBeneficiary must be an object");
        continue;
      }
      const json::object& cost = (*costs)[i].get_object();
      auto type = CodeIn(cost, "type", kCopayTypeSystem);
      const json::object* q = json::GetObject(cost, "valueQuantity");
      if (type && *type == "copaypct") {
        const json::value* v = q ? json::Find(*q, "value") : nullptr;
        double pct = v == nullptr     ? -1
                     : v->is_double() ? v->get_double()
                     : v->is_int64()  ? static_cast<double>(v->get_int64())
                     : v->is_uint64() ? static_cast<double>(v->get_uint64())
                                      : -1;
        if (pct < 0 || pct > 100) {
          c.Invalid(Child(p, "valueQuantity"), "the copayment rate is a percentage 0..100");
        }
      } else if (q == nullptr && json::GetObject(cost, "valueMoney") == nullptr) {
        c.Invalid(p, "costToBeneficiary needs valueQuantity (copaypct) or valueMoney");
      }
    }
  }

  if (const json::object* hc = FindExtension(r, kHighCostCategoryExtension)) {
    const json::object* coding = json::GetObject(*hc, "valueCoding");
    auto code = coding ? json::GetString(*coding, "code") : std::nullopt;
    bool ok = coding && json::GetString(*coding, "system") == kHighCostCategorySystem && code &&
              std::find(kHighCostCategories.begin(), kHighCostCategories.end(), *code) !=
                  kHighCostCategories.end();
    if (!ok) {
      c.Invalid(Child(root, "extension"),
                "the high-cost category is ア, イ, ウ, エ, オ (under 70) or 現役並みⅢ/Ⅱ/Ⅰ, 一般, "
                "低所得Ⅱ/Ⅰ (70 and over)");
    }
  }
}

// The beneficiary must exist and the payor must resolve to a registered insurer; the payor
// is indexed as "Organization/<id>" however it was given.
Status ResolveCoverage(WriteContext& ctx, const json::object& r, IssueCollector& c,
                       std::vector<store::IndexTerm>& terms) {
  if (auto ref = fhir::ParseReference(ReferenceAt(r, "beneficiary").value_or(""))) {
    std::string memo_key = fmt::format("exists:Patient/{}", ref->second);
    if (!ctx.memo.contains(memo_key)) {
      RK_ASSIGN_OR_RETURN(auto row, ctx.tx.ReadCurrent("Patient", ref->second));
      ctx.memo[memo_key] = (row && !row->deleted) ? "1" : "";
    }
    if (ctx.memo[memo_key].empty()) c.Rule("Coverage.beneficiary", "no such Patient");
  }
  const json::array* payors = json::GetArray(r, "payor");
  if (payors == nullptr || payors->size() != 1 || !(*payors)[0].is_object()) return Ok();
  const json::object& payor = (*payors)[0].get_object();
  std::string org_id;
  if (const json::object* ident = json::GetObject(payor, "identifier")) {
    auto number = json::GetString(*ident, "value");
    if (!number) return Ok();
    std::string memo_key = "insurer-org:" + std::string(*number);
    if (!ctx.memo.contains(memo_key)) {
      RK_ASSIGN_OR_RETURN(auto org, InsurerOrganizationId(ctx.tx, *number));
      ctx.memo[memo_key] = org.value_or("");
    }
    org_id = ctx.memo[memo_key];
    if (org_id.empty()) {
      c.Rule("Coverage.payor[0].identifier", "no insurer with this number is registered");
      return Ok();
    }
  } else if (auto ref = fhir::ParseReference(json::GetString(payor, "reference").value_or(""))) {
    std::string memo_key = "insurer-number-of:" + ref->second;
    if (!ctx.memo.contains(memo_key)) {
      RK_ASSIGN_OR_RETURN(auto number, PayorInsurerNumber(ctx.tx, r));
      ctx.memo[memo_key] = number.value_or("");
    }
    const std::string& number = ctx.memo[memo_key];
    if (number.empty()) {
      c.Rule("Coverage.payor[0]", "the payor is not a registered insurer Organization");
      return Ok();
    }
    auto member = IdentifierValue(r, kMemberIdSystem);
    if (member && member->size() >= 8 && member->substr(0, 8) != number) {
      c.Rule("Coverage.identifier",
             "the insured-person id does not start with the payor's insurer number");
    }
    org_id = ref->second;
  }
  if (!org_id.empty()) terms.push_back({"payor", "", "Organization/" + org_id});
  return Ok();
}

std::vector<store::IndexTerm> IndexCoverage(const json::object& r) {
  std::vector<store::IndexTerm> terms;
  IndexIdentifiers(r, terms);
  if (auto ref = ReferenceAt(r, "beneficiary"))
    terms.push_back({"beneficiary", "", std::string(*ref)});
  if (auto status = json::GetString(r, "status")) {
    terms.push_back({"status", "http://hl7.org/fhir/fm-status", std::string(*status)});
  }
  return terms;
}

}  // namespace

ResourceKind PatientKind() {
  ResourceKind k;
  k.type = "Patient";
  k.patient_owned = true;
  k.validate = ValidatePatient;
  k.index = IndexPatient;
  k.patient_of = [](const json::object& r) {
    return std::string(json::GetString(r, "id").value_or(""));
  };
  k.search_params = {
      {"identifier", SearchParamKind::kToken, "", true,
       "Insured-person id (JP_Insurance_memberID) or another identifier; kana/width folded"},
      {"name", SearchParamKind::kString, "", false,
       "Any part of the kanji or kana name, or the whole name (folded, prefix)"},
      {"birthdate", SearchParamKind::kDate, "", false, "Date of birth"},
      {"gender", SearchParamKind::kToken, "", false, "male, female, other, unknown"},
  };
  k.write_policy = PatientWritePolicy;
  k.access_category = access::Category::kDemographics;
  k.owner_param = "_id";
  k.lookup_param = "identifier";
  k.search_policy = CheckPatientSearch;
  return k;
}

ResourceKind CoverageKind() {
  ResourceKind k;
  k.type = "Coverage";
  k.patient_owned = true;
  k.validate = ValidateCoverage;
  k.resolve = ResolveCoverage;
  k.index = IndexCoverage;
  k.patient_of = [](const json::object& r) {
    auto ref = fhir::ParseReference(ReferenceAt(r, "beneficiary").value_or(""));
    return ref ? ref->second : std::string();
  };
  k.search_params = {
      {"identifier", SearchParamKind::kToken, "", true, "Insured-person id; kana/width folded"},
      {"beneficiary", SearchParamKind::kReference, "Patient", false, "The insured patient"},
      {"payor", SearchParamKind::kReference, "Organization", false, "The insurer Organization"},
      {"status", SearchParamKind::kToken, "", false, "active, cancelled, draft, entered-in-error"},
  };
  k.write_policy = CoverageWritePolicy;
  k.access_category = access::Category::kCoverage;
  // A Coverage is "registered" by the insurer paying it: the COVERAGE basis reaches exactly
  // the Coverage an insurer pays (access/decision.cpp).
  k.item_of = [](store::Transaction& tx, const store::ResourceRow& row) -> Result<ItemInfo> {
    ItemInfo item;
    item.category = access::Category::kCoverage;
    item.item_id = "Coverage/" + row.id;
    auto coverage = json::ParseObject(row.json, Limits{});
    if (!coverage.ok()) return Error(ErrorCode::kInternal, "a stored Coverage is not JSON");
    RK_ASSIGN_OR_RETURN(auto payor, PayorInsurerNumber(tx, *coverage));
    if (payor) item.registering_facility = std::move(*payor);
    return item;
  };
  k.owner_param = "beneficiary";
  k.search_policy = CheckPatientSearch;
  k.search_scope = CoverageSearchScope;
  return k;
}

}  // namespace renkei::registry
