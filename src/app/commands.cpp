#include "app/commands.h"

#include <iostream>

#include "app/server_app.h"
#include "audit/audit_log.h"
#include "clinical/blob_store.h"
#include "core/log.h"
#include "prescription/master_store.h"
#include "retention/sweeper.h"
#include "store/store.h"

namespace renkei::app {

int Serve(const ServeOptions& options) {
  log::Init(log::Level::kInfo);
  auto app = ServerApp::Open(options);
  if (!app.ok()) {
    std::cerr << "cannot start: " << app.error().ToString() << "\n";
    return 1;
  }
  return (*app)->Run();
}

int Migrate(const std::string& db_url) {
  auto store = store::Open(db_url, 1);
  if (!store.ok()) {
    std::cerr << "error: " << store.error().ToString() << "\n";
    return 1;
  }
  auto version = (*store)->Migrate();
  if (!version.ok()) {
    std::cerr << "migration failed: " << version.error().ToString() << "\n";
    return 1;
  }
  std::cout << "schema version " << *version << "\n";
  return 0;
}

int LoadMaster(const std::string& db_url, const std::string& kind, const std::string& file,
               const std::string& data_dir) {
  prescription::MasterFileKind which{};
  if (!prescription::ParseMasterFileKind(kind, which)) {
    std::cerr << "error: the master kind is drugs or contraindications\n";
    return 2;
  }
  auto store = store::Open(db_url, 1);
  if (!store.ok()) {
    std::cerr << "error: " << store.error().ToString() << "\n";
    return 1;
  }
  if (auto migrated = (*store)->Migrate(); !migrated.ok()) {
    std::cerr << "migration failed: " << migrated.error().ToString() << "\n";
    return 1;
  }
  auto version = prescription::StoreMasterFileFrom(**store, which, file,
                                                   prescription::DefaultMasterFiles(data_dir));
  if (!version.ok()) {
    std::cerr << "error: " << version.error().ToString() << "\n";
    return 1;
  }
  std::cout << "master in force: " << *version << "\n";
  return 0;
}

int RetentionRun(const RetentionOptions& o) {
  std::optional<TimePoint> now;
  if (!o.now.empty()) {
    now = ParseDateTime(o.now);
    if (!now) {
      std::cerr << "error: --now takes an ISO date-time such as 2026-05-01T00:00:00Z\n";
      return 2;
    }
  }
  auto root = clinical::BlobRootFor(o.db_url, o.blob_dir);
  if (!root.ok()) {
    std::cerr << "error: " << root.error().message() << "\n";
    return 2;
  }
  auto blobs = clinical::BlobStore::Open(*root);
  auto store = store::Open(o.db_url, 2);
  if (!blobs.ok() || !store.ok()) {
    std::cerr << "error: " << (!blobs.ok() ? blobs.error() : store.error()).ToString() << "\n";
    return 1;
  }
  if (auto migrated = (*store)->Migrate(); !migrated.ok()) {
    std::cerr << "migration failed: " << migrated.error().ToString() << "\n";
    return 1;
  }
  // With --now the audit entries carry that instant too, so that a simulated run reads as one.
  SystemClock system;
  ManualClock manual(now.value_or(TimePoint{}));
  const Clock& clock = now ? static_cast<const Clock&>(manual) : system;
  audit::AuditLog audit(**store, clock);
  retention::SweepOptions options;
  clinical::BlobStore* b = blobs->get();
  options.release_blob = [b, &clock](std::string_view sha256) {
    (void)b->RemoveIfIdle(sha256, clinical::kBlobReleaseIdle, clock.Now());
  };
  // Runs until every rule has finished (each Sweep is bounded by its batches).
  json::object total;
  while (true) {
    auto report = retention::Sweep(**store, audit, clock.Now(), options);
    if (!report.ok()) {
      std::cerr << "error: " << report.error().ToString() << "\n";
      return 1;
    }
    total = retention::ToJson(*report);
    if (report->complete) break;
  }
  std::cout << json::Serialize(total) << "\n";
  return 0;
}

int AuditVerify(const std::string& db_url) {
  auto store = store::Open(db_url, 1);
  if (!store.ok()) {
    std::cerr << "error: " << store.error().ToString() << "\n";
    return 1;
  }
  auto report = audit::Verify(**store);
  if (!report.ok()) {
    std::cerr << "error: " << report.error().ToString() << "\n";
    return 1;
  }
  if (!report->ok) {
    std::cout << "audit chain BROKEN at entry " << report->first_bad_seq << ": " << report->problem
              << " (" << report->entries << " entries checked)\n";
    return 3;
  }
  std::cout << "audit chain intact: " << report->entries << " entries\n";
  return 0;
}

}  // namespace renkei::app
