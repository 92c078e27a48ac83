// The drug master in the store, so that every server node checks against the same master
// (issue 4 "Drug master": loading a newer list replaces the old one atomically; the version
// in force is recorded with every check). The raw CSV texts live in settings together with
// the version they produce; nodes notice a new version by reading one small setting.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "prescription/drug_master.h"
#include "store/store.h"

namespace renkei::prescription {

// Which of the two master files a load replaces.
enum class MasterFileKind : uint8_t { kPriceList, kContraindications };

// The files used when the store holds no master yet (the repository's data/drugs/).
struct MasterDefaults {
  std::filesystem::path price_list;
  std::filesystem::path rules;
};
// data_dir/drugs/mhlw-drug-price-list-20250716.csv and data_dir/drugs/contraindications.csv.
MasterDefaults DefaultMasterFiles(const std::filesystem::path& data_dir);

// Settings keys (store/store.h Settings) holding the master.
inline constexpr std::string_view kMasterVersionSetting = "prescription.master.version";

// Validates csv_text as the new file of this kind together with the other file in force
// (stored, or the default file when nothing is stored), and stores both texts and the
// resulting version in one write transaction. A bad file changes nothing (kInvalid naming
// file and line). file_name names the file in the version. Returns the new version.
Result<std::string> StoreMasterFile(store::Store& store, MasterFileKind kind,
                                    std::string_view file_name, std::string_view csv_text,
                                    const MasterDefaults& defaults,
                                    const MasterLimits& limits = {});

// Reads path and stores it as above, named by its file name (`renkei load-master drugs FILE`
// / `renkei load-master contraindications FILE`). kInvalid when the file cannot be read.
Result<std::string> StoreMasterFileFrom(store::Store& store, MasterFileKind kind,
                                        const std::filesystem::path& path,
                                        const MasterDefaults& defaults,
                                        const MasterLimits& limits = {});
// "drugs" -> kPriceList, "contraindications" -> kContraindications; false otherwise.
bool ParseMasterFileKind(std::string_view word, MasterFileKind& out);

// Stores the default files when the store holds no master (for `renkei seed`); returns the
// version in force afterwards. Idempotent.
Result<std::string> SeedDefaultMaster(store::Store& store, const MasterDefaults& defaults,
                                      const MasterLimits& limits = {});

// The stored master, or the master built from the default files when nothing is stored.
Result<std::shared_ptr<const DrugMaster>> LoadMasterFromStore(store::Store& store,
                                                              const MasterDefaults& defaults,
                                                              const MasterLimits& limits = {});

// The version stored ("" when nothing is stored): one small read.
Result<std::string> StoredMasterVersion(store::Transaction& tx);

// Keeps a MasterHolder in step with the store: Refresh() loads the stored master when its
// version differs from the holder's; MaybeRefresh() does so at most once per interval and
// never blocks callers while another thread refreshes. Thread-safe.
class MasterRefresher {
 public:
  MasterRefresher(store::Store& store, MasterHolder& holder, const Clock& clock,
                  MasterDefaults defaults, std::chrono::seconds interval = std::chrono::seconds(5));
  // Loads now (on start, or after a load-master in the same process).
  Status Refresh();
  // Cheap when called often: checks the stored version only when the interval has passed.
  Status MaybeRefresh();

 private:
  Status RefreshLocked();  // with mu_ held

  store::Store& store_;
  MasterHolder& holder_;
  const Clock& clock_;
  MasterDefaults defaults_;
  std::chrono::microseconds interval_;
  std::mutex mu_;
  std::atomic<int64_t> next_check_us_{0};
};

}  // namespace renkei::prescription
