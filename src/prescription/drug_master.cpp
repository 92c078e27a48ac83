#include "prescription/drug_master.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/crypto.h"
#include "core/text.h"
#include "prescription/csv.h"
#include "prescription/drug_code.h"

namespace renkei::prescription {
namespace {

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";  // U+3000
constexpr std::string_view kMiddleDot = "\xE3\x83\xBB";         // ・ U+30FB

// Trims ASCII white space and U+3000 at both ends; inner spaces are part of the name
// (e.g. "イプラグリフロジン　Ｌ－プロリン").
std::string_view TrimSpaces(std::string_view s) {
  bool changed = true;
  while (changed && !s.empty()) {
    changed = false;
    if (s.front() == ' ' || s.front() == '\t') {
      s.remove_prefix(1);
      changed = true;
    } else if (s.starts_with(kIdeographicSpace)) {
      s.remove_prefix(kIdeographicSpace.size());
      changed = true;
    }
    if (s.empty()) break;
    if (s.back() == ' ' || s.back() == '\t') {
      s.remove_suffix(1);
      changed = true;
    } else if (s.ends_with(kIdeographicSpace)) {
      s.remove_suffix(kIdeographicSpace.size());
      changed = true;
    }
  }
  return s;
}

// 成分名 of a combination product joins its ingredients with ・ (data/README.md).
std::vector<std::string> SplitIngredients(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t next = text.find(kMiddleDot, pos);
    const std::string_view part = TrimSpaces(
        text.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (!part.empty() && std::find(out.begin(), out.end(), part) == out.end()) {
      out.emplace_back(part);
    }
    if (next == std::string_view::npos) break;
    pos = next + kMiddleDot.size();
  }
  return out;
}

std::optional<RouteClass> ParseRouteClass(std::string_view s) {
  if (s == "内用薬") return RouteClass::kInternal;
  if (s == "注射薬") return RouteClass::kInjection;
  if (s == "外用薬") return RouteClass::kExternal;
  if (s == "歯科用薬剤") return RouteClass::kDental;
  return std::nullopt;
}

// Rule routes: `*` or alternatives of 内用|注射|外用 (data/README.md).
std::optional<RouteMask> ParseRouteMask(std::string_view s) {
  s = TrimSpaces(s);
  if (s == "*") return kAllRoutes;
  RouteMask mask = 0;
  size_t pos = 0;
  while (true) {
    const size_t bar = s.find('|', pos);
    const std::string_view token = TrimSpaces(
        s.substr(pos, bar == std::string_view::npos ? std::string_view::npos : bar - pos));
    if (token == "内用") {
      mask |= RouteBit(RouteClass::kInternal);
    } else if (token == "注射") {
      mask |= RouteBit(RouteClass::kInjection);
    } else if (token == "外用") {
      mask |= RouteBit(RouteClass::kExternal);
    } else {
      return std::nullopt;
    }
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
  return mask;
}

Error FileError(std::string_view file, size_t line, std::string_view what) {
  return Error(ErrorCode::kInvalid,
               std::string(file) + " line " + std::to_string(line) + ": " + std::string(what));
}

// Index of each named column in the header, or an error naming the missing one.
Result<std::vector<size_t>> FindColumns(std::string_view file, const CsvRecord& header,
                                        const std::vector<std::string_view>& names) {
  std::vector<size_t> out;
  for (const auto name : names) {
    auto it = std::find_if(header.fields.begin(), header.fields.end(),
                           [&](const std::string& f) { return TrimSpaces(f) == name; });
    if (it == header.fields.end()) {
      return FileError(file, header.line, "missing column " + std::string(name));
    }
    out.push_back(static_cast<size_t>(it - header.fields.begin()));
  }
  return out;
}

Result<std::vector<CsvRecord>> ReadTable(std::string_view file, std::string_view text,
                                         const MasterLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return Error(ErrorCode::kTooLarge, std::string(file) + ": file larger than " +
                                           std::to_string(limits.max_file_bytes) + " bytes");
  }
  if (!text::IsValidUtf8(text)) {
    return Error(ErrorCode::kInvalid, std::string(file) + ": not valid UTF-8");
  }
  auto records = ParseCsv(text);
  if (!records.ok()) {
    return Error(ErrorCode::kInvalid, std::string(file) + ": " + records.error().message());
  }
  if (records->empty()) return Error(ErrorCode::kInvalid, std::string(file) + ": empty file");
  return std::move(records).value();
}

Result<std::vector<Drug>> ParsePriceList(std::string_view file, std::string_view text,
                                         const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(auto records, ReadTable(file, text, limits));
  RK_ASSIGN_OR_RETURN(
      auto cols,
      FindColumns(file, records[0],
                  {"区分", "薬価基準収載医薬品コード", "成分名", "規格", "品名", "メーカー名",
                   "診療報酬において加算等の算定対象となる後発医薬品", "先発医薬品"}));
  const size_t needed = *std::max_element(cols.begin(), cols.end()) + 1;
  std::vector<Drug> drugs;
  drugs.reserve(records.size() - 1);
  std::set<std::string_view> seen;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (rec.fields.size() < needed) {
      return FileError(file, rec.line,
                       "expected at least " + std::to_string(needed) + " fields, found " +
                           std::to_string(rec.fields.size()));
    }
    Drug d;
    const auto route = ParseRouteClass(TrimSpaces(rec.fields[cols[0]]));
    if (!route) return FileError(file, rec.line, "unknown route class " + rec.fields[cols[0]]);
    d.route = *route;
    d.code = std::string(TrimSpaces(rec.fields[cols[1]]));
    if (!HasValidYjCheckDigit(d.code)) {
      return FileError(file, rec.line, "code " + d.code + " fails the YJ check digit");
    }
    d.ingredient_text = rec.fields[cols[2]];
    d.ingredients = SplitIngredients(d.ingredient_text);
    if (d.ingredients.empty()) return FileError(file, rec.line, "no ingredient for " + d.code);
    d.strength = rec.fields[cols[3]];
    d.product_name = rec.fields[cols[4]];
    d.maker = rec.fields[cols[5]];
    const std::string_view generic = TrimSpaces(rec.fields[cols[6]]);
    const std::string_view brand = TrimSpaces(rec.fields[cols[7]]);
    if (generic == "後発品" || generic == "★") {
      d.generic = GenericStatus::kGeneric;
    } else if (brand == "先発品") {
      d.generic = GenericStatus::kBrand;
    } else if (brand == "準先発品") {
      d.generic = GenericStatus::kQuasiBrand;
    }
    drugs.push_back(std::move(d));
  }
  for (const auto& d : drugs) {
    if (!seen.insert(d.code).second) {
      return Error(ErrorCode::kInvalid, std::string(file) + ": duplicate code " + d.code);
    }
  }
  return drugs;
}

Result<std::vector<ContraindicationRule>> ParseRules(std::string_view file, std::string_view text,
                                                     const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(auto records, ReadTable(file, text, limits));
  RK_ASSIGN_OR_RETURN(auto cols, FindColumns(file, records[0],
                                             {"ingredient_a", "routes_a", "ingredient_b",
                                              "routes_b", "stated_in", "status"}));
  const size_t needed = *std::max_element(cols.begin(), cols.end()) + 1;
  std::vector<ContraindicationRule> rules;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (rec.fields.size() < needed) {
      return FileError(file, rec.line, "expected " + std::to_string(needed) + " fields");
    }
    ContraindicationRule rule;
    rule.ingredient_a = std::string(TrimSpaces(rec.fields[cols[0]]));
    rule.ingredient_b = std::string(TrimSpaces(rec.fields[cols[2]]));
    if (rule.ingredient_a.empty() || rule.ingredient_b.empty()) {
      return FileError(file, rec.line, "empty ingredient");
    }
    const auto routes_a = ParseRouteMask(rec.fields[cols[1]]);
    const auto routes_b = ParseRouteMask(rec.fields[cols[3]]);
    if (!routes_a || !routes_b) {
      return FileError(file, rec.line, "routes must be * or 内用|注射|外用 alternatives");
    }
    rule.routes_a = *routes_a;
    rule.routes_b = *routes_b;
    rule.stated_in = rec.fields[cols[4]];
    rule.status = std::string(TrimSpaces(rec.fields[cols[5]]));
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string BaseName(std::string_view name) {
  const size_t slash = name.find_last_of('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

Result<std::string> ReadFile(const std::filesystem::path& path, const MasterLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::kNotFound, "cannot read " + path.string() + ": " + ec.message());
  if (size > limits.max_file_bytes) {
    return Error(ErrorCode::kTooLarge, path.filename().string() + ": file larger than " +
                                           std::to_string(limits.max_file_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string_view ToString(RouteClass route) {
  switch (route) {
    case RouteClass::kInternal:
      return "internal";
    case RouteClass::kInjection:
      return "injection";
    case RouteClass::kExternal:
      return "external";
    case RouteClass::kDental:
      return "dental";
  }
  return "internal";
}

std::string_view ToString(GenericStatus status) {
  switch (status) {
    case GenericStatus::kUnmarked:
      return "unmarked";
    case GenericStatus::kGeneric:
      return "generic";
    case GenericStatus::kBrand:
      return "brand";
    case GenericStatus::kQuasiBrand:
      return "quasi-brand";
  }
  return "unmarked";
}

const Drug* DrugMaster::Find(std::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : it->second;
}

Result<const Drug*> DrugMaster::Resolve(std::string_view code) const {
  const std::string shown(code.substr(0, 32));
  if (IsDummyDrugCode(code)) {
    return Error(ErrorCode::kBusinessRule,
                 "drug code " + shown +
                     " is a dummy code; the prescription service refuses dummy codes, use the "
                     "drug's real code from the master");
  }
  if (IsGeneralNameCodeShape(code)) {
    if (const Drug* d = Find(code)) return d;
    return Error(ErrorCode::kBusinessRule, "general-name drug code " + shown +
                                               " names no ingredient of drug master " + version());
  }
  if (code.size() != 12 || !YjCheckDigit(code.substr(0, 11))) {
    return Error(ErrorCode::kInvalid,
                 "drug code " + shown + " is not a 12-character YJ or general-name code");
  }
  if (!HasValidYjCheckDigit(code)) {
    return Error(ErrorCode::kInvalid, "drug code " + shown + " fails the YJ check digit");
  }
  if (const Drug* d = Find(code)) return d;
  return Error(ErrorCode::kBusinessRule,
               "drug code " + shown + " is not listed in drug master " + version());
}

const std::vector<uint32_t>& DrugMaster::RulesFor(std::string_view ingredient) const {
  static const std::vector<uint32_t> kNone;
  auto it = rules_by_ingredient_.find(ingredient);
  return it == rules_by_ingredient_.end() ? kNone : it->second;
}

std::vector<std::string> DrugMaster::UnmatchedRuleIngredients() const {
  std::set<std::string_view> known;
  for (const auto& d : drugs_) {
    for (const auto& i : d.ingredients) known.insert(i);
  }
  std::set<std::string> missing;
  for (const auto& r : rules_) {
    if (!known.contains(r.ingredient_a)) missing.insert(r.ingredient_a);
    if (!known.contains(r.ingredient_b)) missing.insert(r.ingredient_b);
  }
  return {missing.begin(), missing.end()};
}

Result<std::shared_ptr<const DrugMaster>> DrugMaster::WithPriceList(
    std::string_view name, std::string_view csv, const MasterLimits& limits) const {
  return BuildDrugMaster(name, csv, source_.rules_name, rules_csv_, limits);
}

Result<std::shared_ptr<const DrugMaster>> DrugMaster::WithRules(std::string_view name,
                                                                std::string_view csv,
                                                                const MasterLimits& limits) const {
  return BuildDrugMaster(source_.price_list_name, price_list_csv_, name, csv, limits);
}

Result<std::shared_ptr<const DrugMaster>> BuildDrugMaster(std::string_view price_list_name,
                                                          std::string_view price_list_csv,
                                                          std::string_view rules_name,
                                                          std::string_view rules_csv,
                                                          const MasterLimits& limits) {
  auto master = std::make_shared<DrugMaster>();
  RK_ASSIGN_OR_RETURN(master->drugs_, ParsePriceList(price_list_name, price_list_csv, limits));
  RK_ASSIGN_OR_RETURN(master->rules_, ParseRules(rules_name, rules_csv, limits));
  master->price_list_csv_ = std::string(price_list_csv);
  master->rules_csv_ = std::string(rules_csv);

  MasterSource& src = master->source_;
  src.price_list_name = BaseName(price_list_name);
  src.rules_name = BaseName(rules_name);
  src.price_list_sha256 = crypto::Sha256Hex(price_list_csv);
  src.rules_sha256 = crypto::Sha256Hex(rules_csv);
  src.version = src.price_list_name + "+" + src.rules_name + "@" +
                crypto::Sha256Hex(src.price_list_sha256 + src.rules_sha256).substr(0, 16);

  // General-name codes (一般名処方): the national master is not part of the price list,
  // but its codes are the first 9 characters of the YJ codes they stand for + "ZZZ"
  // (JP-FHIR.md, J-FAGY GCM rule). The first 7 characters fix ingredient and route class,
  // the 9th the strength, so every listed product sharing the 9-character prefix carries
  // the same ingredients; the entry takes them from the first such product.
  std::unordered_map<std::string_view, size_t> first_by_prefix;
  for (size_t i = 0; i < master->drugs_.size(); ++i) {
    first_by_prefix.emplace(std::string_view(master->drugs_[i].code).substr(0, 9), i);
  }
  master->general_names_.reserve(first_by_prefix.size());
  for (size_t i = 0; i < master->drugs_.size(); ++i) {
    const Drug& d = master->drugs_[i];
    const std::string_view prefix = std::string_view(d.code).substr(0, 9);
    if (first_by_prefix.at(prefix) != i) continue;
    Drug g;
    g.code = std::string(prefix) + "ZZZ";
    g.route = d.route;
    g.ingredient_text = d.ingredient_text;
    g.ingredients = d.ingredients;
    g.strength = d.strength;
    g.product_name = d.ingredient_text + " " + d.strength;
    g.general_name = true;
    master->general_names_.push_back(std::move(g));
  }
  // The first 7 characters name one ingredient by one route class (JP-FHIR.md), yet 23
  // prefixes of the July 2025 list spell it two ways (e.g. フェブキソスタット on the brand,
  // フェブキソスタット水和物 on one generic). Matching by name alone would miss a duplicate
  // between them and a rule written with the other spelling, so every product of a key
  // answers to all the spellings of that key.
  std::unordered_map<std::string_view, std::vector<std::string>> names_by_key;
  for (const auto& d : master->drugs_) {
    auto& names = names_by_key[d.IngredientKey()];
    for (const auto& i : d.ingredients) {
      if (std::find(names.begin(), names.end(), i) == names.end()) names.push_back(i);
    }
  }
  for (auto* list : {&master->drugs_, &master->general_names_}) {
    for (auto& d : *list) {
      d.match_names = d.ingredients;
      for (const auto& n : names_by_key.at(d.IngredientKey())) {
        if (std::find(d.match_names.begin(), d.match_names.end(), n) == d.match_names.end()) {
          d.match_names.push_back(n);
        }
      }
    }
  }
  // Pointers into the vectors are taken only after both are complete (no reallocation).
  master->by_code_.reserve(master->drugs_.size() + master->general_names_.size());
  for (const auto& d : master->drugs_) master->by_code_.emplace(d.code, &d);
  for (const auto& g : master->general_names_) master->by_code_.emplace(g.code, &g);
  for (uint32_t r = 0; r < master->rules_.size(); ++r) {
    const auto& rule = master->rules_[r];
    master->rules_by_ingredient_[rule.ingredient_a].push_back(r);
    if (rule.ingredient_b != rule.ingredient_a) {
      master->rules_by_ingredient_[rule.ingredient_b].push_back(r);
    }
  }
  return std::shared_ptr<const DrugMaster>(std::move(master));
}

Result<std::shared_ptr<const DrugMaster>> LoadDrugMaster(
    const std::filesystem::path& price_list_path,
    const std::filesystem::path& contraindications_path, const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(auto price_list, ReadFile(price_list_path, limits));
  RK_ASSIGN_OR_RETURN(auto rules, ReadFile(contraindications_path, limits));
  return BuildDrugMaster(price_list_path.filename().string(), price_list,
                         contraindications_path.filename().string(), rules, limits);
}

}  // namespace renkei::prescription
