// Shared pieces of the audit tests: a fresh migrated store per engine, kept with its database
// URL so that tests can also reach the database around renkei.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "support/test_db.h"

namespace renkei::testing {

struct OpenedStore {
  std::unique_ptr<TestDatabase> db;
  std::unique_ptr<store::Store> store;
};

// A migrated store on a fresh database of engine e; throws (failing the test) when it cannot.
inline OpenedStore OpenStore(Engine e, int pool_size = 8) {
  OpenedStore out;
  out.db = MakeTestDatabase(e);
  auto opened = store::Open(out.db->url(), pool_size);
  if (!opened.ok()) throw std::runtime_error(opened.error().ToString());
  out.store = std::move(opened).value();
  auto migrated = out.store->Migrate();
  if (!migrated.ok()) throw std::runtime_error(migrated.error().ToString());
  return out;
}

// An entry whose practitioner field names it uniquely.
inline audit::AuditEntry TestEntry(std::string_view tag, std::string_view patient = "pat-1") {
  audit::AuditEntry e;
  e.facility_code = "1310000001";
  e.practitioner_id = std::string(tag);
  e.qualification = "physician";
  e.patient_id = std::string(patient);
  e.action = "read";
  e.category = "Patient";
  e.purpose = "TREAT";
  return e;
}

// A fixture with a fresh migrated store per test on the engine of its parameter.
class EngineStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { opened_ = OpenStore(GetParam()); }
  void TearDown() override {
    opened_.store.reset();
    opened_.db.reset();
  }
  store::Store& store() { return *opened_.store; }

  OpenedStore opened_;
};

inline std::string EngineParamName(const ::testing::TestParamInfo<Engine>& info) {
  return EngineName(info.param);
}

}  // namespace renkei::testing
