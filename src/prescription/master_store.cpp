#include "prescription/master_store.h"

#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace renkei::prescription {
namespace {

constexpr std::string_view kPriceNameSetting = "prescription.master.price_list.name";
constexpr std::string_view kPriceCsvSetting = "prescription.master.price_list.csv";
constexpr std::string_view kRulesNameSetting = "prescription.master.rules.name";
constexpr std::string_view kRulesCsvSetting = "prescription.master.rules.csv";

struct MasterFiles {
  std::string price_name;
  std::string price_csv;
  std::string rules_name;
  std::string rules_csv;
};

Result<std::string> ReadText(const std::filesystem::path& path, const MasterLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::kInvalid, fmt::format("cannot read {}", path.string()));
  if (size > limits.max_file_bytes) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("{} is larger than {} bytes", path.string(), limits.max_file_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalid, fmt::format("cannot read {}", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<MasterFiles> DefaultFiles(const MasterDefaults& defaults, const MasterLimits& limits) {
  MasterFiles f;
  f.price_name = defaults.price_list.filename().string();
  f.rules_name = defaults.rules.filename().string();
  RK_ASSIGN_OR_RETURN(f.price_csv, ReadText(defaults.price_list, limits));
  RK_ASSIGN_OR_RETURN(f.rules_csv, ReadText(defaults.rules, limits));
  return f;
}

// The stored files, or nullopt when no master was ever stored.
Result<std::optional<MasterFiles>> StoredFiles(store::Transaction& tx) {
  RK_ASSIGN_OR_RETURN(auto version, tx.GetSetting(kMasterVersionSetting));
  if (!version || version->empty()) return std::optional<MasterFiles>();
  MasterFiles f;
  const std::pair<std::string_view, std::string*> parts[] = {{kPriceNameSetting, &f.price_name},
                                                             {kPriceCsvSetting, &f.price_csv},
                                                             {kRulesNameSetting, &f.rules_name},
                                                             {kRulesCsvSetting, &f.rules_csv}};
  for (const auto& [key, out] : parts) {
    RK_ASSIGN_OR_RETURN(auto v, tx.GetSetting(key));
    if (!v) return Error(ErrorCode::kInternal, fmt::format("stored master lacks {}", key));
    *out = std::move(*v);
  }
  return std::optional<MasterFiles>(std::move(f));
}

Status PutFiles(store::Transaction& tx, const MasterFiles& f, std::string_view version) {
  RK_TRY(tx.PutSetting(kPriceNameSetting, f.price_name));
  RK_TRY(tx.PutSetting(kPriceCsvSetting, f.price_csv));
  RK_TRY(tx.PutSetting(kRulesNameSetting, f.rules_name));
  RK_TRY(tx.PutSetting(kRulesCsvSetting, f.rules_csv));
  // The version last: readers that see it see the files it was computed from (same tx).
  return tx.PutSetting(kMasterVersionSetting, version);
}

Result<std::shared_ptr<const DrugMaster>> Build(const MasterFiles& f, const MasterLimits& limits) {
  return BuildDrugMaster(f.price_name, f.price_csv, f.rules_name, f.rules_csv, limits);
}

}  // namespace

MasterDefaults DefaultMasterFiles(const std::filesystem::path& data_dir) {
  return MasterDefaults{data_dir / "drugs" / "mhlw-drug-price-list-20250716.csv",
                        data_dir / "drugs" / "contraindications.csv"};
}

Result<std::string> StoreMasterFile(store::Store& store, MasterFileKind kind,
                                    std::string_view file_name, std::string_view csv_text,
                                    const MasterDefaults& defaults, const MasterLimits& limits) {
  if (csv_text.size() > limits.max_file_bytes) {
    return Error(ErrorCode::kTooLarge,
                 fmt::format("{} is larger than {} bytes", file_name, limits.max_file_bytes));
  }
  std::string name = std::filesystem::path(std::string(file_name)).filename().string();
  if (name.empty()) return Error(ErrorCode::kInvalid, "the master file needs a name");
  // The defaults are read outside the transaction (file I/O never holds the writer).
  std::optional<MasterFiles> fallback;
  return store::RunInTransactionWithResult<std::string>(
      store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<std::string> {
        RK_ASSIGN_OR_RETURN(auto stored, StoredFiles(tx));
        MasterFiles files;
        if (stored) {
          files = std::move(*stored);
        } else {
          if (!fallback) {
            RK_ASSIGN_OR_RETURN(auto d, DefaultFiles(defaults, limits));
            fallback = std::move(d);
          }
          files = *fallback;
        }
        if (kind == MasterFileKind::kPriceList) {
          files.price_name = name;
          files.price_csv = std::string(csv_text);
        } else {
          files.rules_name = name;
          files.rules_csv = std::string(csv_text);
        }
        // The whole master must build: a bad row refuses the file and nothing is written.
        RK_ASSIGN_OR_RETURN(auto master, Build(files, limits));
        RK_TRY(PutFiles(tx, files, master->version()));
        return master->version();
      });
}

Result<std::string> StoreMasterFileFrom(store::Store& store, MasterFileKind kind,
                                        const std::filesystem::path& path,
                                        const MasterDefaults& defaults,
                                        const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(std::string text, ReadText(path, limits));
  return StoreMasterFile(store, kind, path.filename().string(), text, defaults, limits);
}

bool ParseMasterFileKind(std::string_view word, MasterFileKind& out) {
  if (word == "drugs") {
    out = MasterFileKind::kPriceList;
    return true;
  }
  if (word == "contraindications") {
    out = MasterFileKind::kContraindications;
    return true;
  }
  return false;
}

Result<std::string> SeedDefaultMaster(store::Store& store, const MasterDefaults& defaults,
                                      const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(MasterFiles files, DefaultFiles(defaults, limits));
  RK_ASSIGN_OR_RETURN(auto master, Build(files, limits));
  return store::RunInTransactionWithResult<std::string>(
      store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<std::string> {
        RK_ASSIGN_OR_RETURN(std::string version, StoredMasterVersion(tx));
        if (!version.empty()) return version;  // a loaded master is never replaced by seeding
        RK_TRY(PutFiles(tx, files, master->version()));
        return master->version();
      });
}

Result<std::string> StoredMasterVersion(store::Transaction& tx) {
  RK_ASSIGN_OR_RETURN(auto version, tx.GetSetting(kMasterVersionSetting));
  return version.value_or("");
}

Result<std::shared_ptr<const DrugMaster>> LoadMasterFromStore(store::Store& store,
                                                              const MasterDefaults& defaults,
                                                              const MasterLimits& limits) {
  RK_ASSIGN_OR_RETURN(auto stored, store::RunInTransactionWithResult<std::optional<MasterFiles>>(
                                       store, store::TxMode::kRead,
                                       [](store::Transaction& tx) { return StoredFiles(tx); }));
  if (!stored) return LoadDrugMaster(defaults.price_list, defaults.rules, limits);
  return Build(*stored, limits);
}

MasterRefresher::MasterRefresher(store::Store& store, MasterHolder& holder, const Clock& clock,
                                 MasterDefaults defaults, std::chrono::seconds interval)
    : store_(store),
      holder_(holder),
      clock_(clock),
      defaults_(std::move(defaults)),
      interval_(std::chrono::duration_cast<std::chrono::microseconds>(interval)) {}

Status MasterRefresher::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  return RefreshLocked();
}

Status MasterRefresher::RefreshLocked() {
  next_check_us_.store((clock_.Now() + interval_).time_since_epoch().count());
  RK_ASSIGN_OR_RETURN(std::string version,
                      store::RunInTransactionWithResult<std::string>(
                          store_, store::TxMode::kRead,
                          [](store::Transaction& tx) { return StoredMasterVersion(tx); }));
  auto current = holder_.Get();
  // Nothing stored: the defaults stay in force once loaded.
  if (current && (version.empty() || current->version() == version)) return Ok();
  RK_ASSIGN_OR_RETURN(auto master, LoadMasterFromStore(store_, defaults_));
  holder_.Set(std::move(master));
  return Ok();
}

Status MasterRefresher::MaybeRefresh() {
  if (holder_.Get() && clock_.Now().time_since_epoch().count() < next_check_us_.load()) {
    return Ok();
  }
  // One thread refreshes; the others go on with the master in force (without one they wait).
  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  if (holder_.Get()) {
    if (!lock.try_lock()) return Ok();
  } else {
    lock.lock();
    if (holder_.Get()) return Ok();  // another thread loaded it meanwhile
  }
  return RefreshLocked();
}

}  // namespace renkei::prescription
