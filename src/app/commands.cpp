#include "app/commands.h"

#include <iostream>

#include "app/server_app.h"
#include "audit/audit_log.h"
#include "core/log.h"
#include "prescription/master_store.h"
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
