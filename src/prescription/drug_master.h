// The drug master: the national drug price list (薬価基準収載品目リスト) and the
// contraindicated-combination rules (併用禁忌), parsed into an immutable, versioned object
// with hash-map lookups, and a holder that swaps masters atomically. DOMAIN.md §1,
// JP-FHIR.md "YJ code", "Dummy codes", "How the national check of prescriptions works".
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace renkei::prescription {

// Route class of the price list (区分). Dental agents (歯科用薬剤) are their own class:
// a route-restricted rule never names them, only `*` matches them.
enum class RouteClass : uint8_t { kInternal, kInjection, kExternal, kDental };
// "internal", "injection", "external", "dental".
std::string_view ToString(RouteClass route);

// Generic/brand status from the two price-list columns: 後発品 or ★ (generic), 先発品
// (brand), 準先発品 (quasi-brand: long-listed, no generic comparator), or unmarked.
enum class GenericStatus : uint8_t { kUnmarked, kGeneric, kBrand, kQuasiBrand };
std::string_view ToString(GenericStatus status);

// One drug of the price list, or a general-name entry derived from it (code ends "ZZZ").
struct Drug {
  std::string code;  // 12-character YJ / price-list code
  RouteClass route = RouteClass::kInternal;
  std::string ingredient_text;           // 成分名 byte for byte
  std::vector<std::string> ingredients;  // 成分名 split on ・, surrounding spaces trimmed
  // Every name the drug's ingredients go by: its own, then those other products with the
  // same 7-character ingredient key carry (salt/hydrate spellings such as フェブキソスタット
  // and フェブキソスタット水和物). Duplicates and rules match on these names.
  std::vector<std::string> match_names;
  std::string strength;      // 規格
  std::string product_name;  // 品名 (general-name entries: 成分名 + 規格)
  std::string maker;         // メーカー名
  GenericStatus generic = GenericStatus::kUnmarked;
  bool general_name = false;  // a 一般名処方 code, not a listed product
  // The first 7 characters: one ingredient by one route class (JP-FHIR.md "YJ code").
  std::string_view IngredientKey() const { return std::string_view(code).substr(0, 7); }
};

// Bit set of route classes a rule side applies to; kAllRoutes is `*`.
using RouteMask = uint8_t;
constexpr RouteMask kAllRoutes = 0x0F;
constexpr RouteMask RouteBit(RouteClass r) {
  return static_cast<RouteMask>(1u << static_cast<int>(r));
}

// One contraindicated combination (併用禁忌) at ingredient level; symmetric.
struct ContraindicationRule {
  std::string ingredient_a;
  RouteMask routes_a = kAllRoutes;
  std::string ingredient_b;
  RouteMask routes_b = kAllRoutes;
  std::string stated_in;  // the package insert(s) and section
  std::string status;     // excerpt-confirmed | to-verify
};

// Where the master came from; version is "<price list file>+<rules file>@<sha256 prefix>",
// the hash covering both files' bytes, so equal versions mean equal content.
struct MasterSource {
  std::string price_list_name;
  std::string price_list_sha256;
  std::string rules_name;
  std::string rules_sha256;
  std::string version;
};

// Input limits of the loader; each file larger than max_file_bytes is refused.
struct MasterLimits {
  size_t max_file_bytes = 64u << 20;
};

// The immutable master. Build it with BuildDrugMaster/LoadDrugMaster; share it as
// shared_ptr<const DrugMaster>. All lookups are hash-map lookups.
class DrugMaster {
 public:
  const MasterSource& source() const { return source_; }
  const std::string& version() const { return source_.version; }
  // Listed drugs in file order (general-name entries are not included).
  const std::vector<Drug>& drugs() const { return drugs_; }
  const std::vector<ContraindicationRule>& rules() const { return rules_; }

  // Listed drug or general-name entry by exact code; nullptr when unknown. No validation.
  const Drug* Find(std::string_view code) const;

  // Validates a code from a prescription or check request and returns its entry.
  // kBusinessRule for dummy codes and unknown codes; kInvalid for a malformed code or a
  // failing YJ check digit. The message names the code and the reason.
  Result<const Drug*> Resolve(std::string_view code) const;

  // Indices into rules() of the rules naming ingredient on either side.
  const std::vector<uint32_t>& RulesFor(std::string_view ingredient) const;

  // Rule ingredients that no drug of the price list carries (a data-quality report).
  std::vector<std::string> UnmatchedRuleIngredients() const;

  // A new master with this one's rules and another price list (`load-master drugs`), or
  // with this one's price list and other rules (`load-master contraindications`).
  Result<std::shared_ptr<const DrugMaster>> WithPriceList(std::string_view name,
                                                          std::string_view csv,
                                                          const MasterLimits& limits = {}) const;
  Result<std::shared_ptr<const DrugMaster>> WithRules(std::string_view name, std::string_view csv,
                                                      const MasterLimits& limits = {}) const;

 private:
  friend Result<std::shared_ptr<const DrugMaster>> BuildDrugMaster(
      std::string_view, std::string_view, std::string_view, std::string_view, const MasterLimits&);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  MasterSource source_;
  std::string price_list_csv_;  // kept so that one file can be replaced without the other
  std::string rules_csv_;
  std::vector<Drug> drugs_;
  std::vector<Drug> general_names_;
  std::vector<ContraindicationRule> rules_;
  StringMap<const Drug*> by_code_;
  StringMap<std::vector<uint32_t>> rules_by_ingredient_;
};

// Parses both files' contents. Any bad row (unknown route class, duplicate code, failing
// check digit, malformed rule) refuses the whole master with kInvalid naming the file and
// line, so a broken file never replaces a good master.
Result<std::shared_ptr<const DrugMaster>> BuildDrugMaster(std::string_view price_list_name,
                                                          std::string_view price_list_csv,
                                                          std::string_view rules_name,
                                                          std::string_view rules_csv,
                                                          const MasterLimits& limits = {});

// Reads the two files and builds the master; the versions name the files.
Result<std::shared_ptr<const DrugMaster>> LoadDrugMaster(
    const std::filesystem::path& price_list_path,
    const std::filesystem::path& contraindications_path, const MasterLimits& limits = {});

// The master in force. Readers take a snapshot with Get() and keep using it for a whole
// check; Set() replaces it atomically for later readers. Thread-safe.
class MasterHolder {
 public:
  explicit MasterHolder(std::shared_ptr<const DrugMaster> initial = nullptr)
      : master_(std::move(initial)) {}
  // The current master, or nullptr when none was loaded.
  std::shared_ptr<const DrugMaster> Get() const { return master_.load(); }
  // Replaces the master; returns the one it replaced.
  std::shared_ptr<const DrugMaster> Set(std::shared_ptr<const DrugMaster> master) {
    return master_.exchange(std::move(master));
  }

 private:
  std::atomic<std::shared_ptr<const DrugMaster>> master_;
};

}  // namespace renkei::prescription
