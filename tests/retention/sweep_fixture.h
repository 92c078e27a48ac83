// A real store (SQLite and PostgreSQL), an audit log on a settable clock, and the helpers the
// sweeper tests share: running a sweep, reading rows back, counting audit entries.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "retention/sweeper.h"
#include "support/test_db.h"

namespace renkei::retention::testing {

inline TimePoint At(const char* text) {
  auto t = ParseDateTime(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(TimePoint{});
}

class SweepTest : public ::testing::TestWithParam<renkei::testing::Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
  }
  void TearDown() override {
    audit_.reset();
    store_.reset();
  }

  // One sweep at now; the audit clock follows it. Fails the test on error.
  SweepReport Run(TimePoint now, SweepOptions options = {}) {
    clock_.Set(now);
    auto report = Sweep(*store_, *audit_, now, options);
    EXPECT_TRUE(report.ok()) << report.error().ToString();
    return report.ok() ? std::move(report).value() : SweepReport{};
  }

  std::optional<store::ResourceRow> Read(std::string_view type, std::string_view id) {
    auto row = store::RunInTransactionWithResult<std::optional<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ReadCurrent(type, id); });
    EXPECT_TRUE(row.ok()) << row.error().ToString();
    return row.ok() ? *row : std::nullopt;
  }

  std::optional<store::ResourceRow> ReadVersion(std::string_view type, std::string_view id,
                                                int64_t version) {
    auto row = store::RunInTransactionWithResult<std::optional<store::ResourceRow>>(
        *store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ReadVersion(type, id, version); });
    EXPECT_TRUE(row.ok()) << row.error().ToString();
    return row.ok() ? *row : std::nullopt;
  }

  // True when the row exists and its current version is a deletion.
  bool Deleted(std::string_view type, std::string_view id) {
    auto row = Read(type, id);
    EXPECT_TRUE(row.has_value()) << type << "/" << id << " does not exist at all";
    return row && row->deleted;
  }

  std::vector<store::AuditRow> AuditRows() {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead,
        [](store::Transaction& tx) { return tx.ScanAudit(1, 1'000'000); });
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<store::AuditRow>{};
  }

  std::vector<store::AuditRow> Deletions() {
    std::vector<store::AuditRow> out;
    for (auto& r : AuditRows()) {
      if (r.action == "delete") out.push_back(std::move(r));
    }
    return out;
  }

  void Write(const store::ResourceRow& row, const std::vector<store::IndexTerm>& terms) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) -> Status {
                                         auto version = tx.WriteResource(row, terms, std::nullopt);
                                         if (!version.ok()) return std::move(version).error();
                                         return Ok();
                                       });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  ManualClock clock_{At("2020-01-01T00:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
};

}  // namespace renkei::retention::testing
