// Sweep cost on SQLite (a temporary file, synchronous=normal): deleting expired diagnoses, and
// a run that deletes nothing but reads old lab results kept as their item's last 3 (the part
// of every run that does not shrink).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <filesystem>

#include "audit/audit_log.h"
#include "clinical/clins_codes.h"
#include "clinical/item_access.h"
#include "retention/sweeper.h"

namespace renkei::retention {
namespace {

const TimePoint kRegistered = *ParseDateTime("2019-04-01T00:00:00Z");
const TimePoint kNow = *ParseDateTime("2026-04-01T00:00:00Z");

struct Db {
  std::filesystem::path path;
  std::unique_ptr<store::Store> store;
  ManualClock clock{kNow};
  std::unique_ptr<audit::AuditLog> audit;

  explicit Db(const std::string& name) {
    path = std::filesystem::temp_directory_path() / fmt::format("renkei-bench-{}.db", name);
    std::filesystem::remove(path);
    store =
        std::move(store::Open(fmt::format("sqlite:{}?synchronous=normal", path.string())).value());
    (void)store->Migrate();
    audit = std::make_unique<audit::AuditLog>(*store, clock);
  }
  ~Db() {
    audit.reset();
    store.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix);
    }
  }
};

// n rows of type, each written with its terms, 500 to a transaction.
void Fill(
    store::Store& store, int n,
    const std::function<std::pair<store::ResourceRow, std::vector<store::IndexTerm>>(int)>& make) {
  for (int first = 0; first < n; first += 500) {
    Status s = store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) {
      for (int i = first; i < std::min(n, first + 500); ++i) {
        auto [row, terms] = make(i);
        auto v = tx.WriteResource(row, terms, int64_t{0});
        if (!v.ok()) return Status(std::move(v).error());
      }
      return Ok();
    });
    if (!s.ok()) throw std::runtime_error(s.error().ToString());
  }
}

std::pair<store::ResourceRow, std::vector<store::IndexTerm>> Condition(int i) {
  store::ResourceRow row;
  row.type = "Condition";
  row.id = fmt::format("c{}", i);
  row.patient_id = fmt::format("pat-{}", i / 5);
  row.last_updated = kRegistered;
  row.json = fmt::format(R"({{"resourceType":"Condition","id":"{}"}})", row.id);
  clinical::ItemVisibility v;
  v.category = access::Category::kDiagnoses;
  std::vector<store::IndexTerm> terms = clinical::VisibilityTerms(v);
  terms.push_back({"patient", "", "Patient/" + row.patient_id});
  terms.push_back({"_lastUpdated", "", FormatInstant(kRegistered)});
  return {row, terms};
}

std::pair<store::ResourceRow, std::vector<store::IndexTerm>> Lab(int i) {
  const std::string code = "3A015000001827101";
  const std::string system =
      "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
  const TimePoint effective = kRegistered + std::chrono::days(i % 3);
  store::ResourceRow row;
  row.type = "Observation";
  row.id = fmt::format("o{}", i);
  row.patient_id = fmt::format("pat-{}", i / 3);
  row.last_updated = kRegistered;
  row.json = fmt::format(
      R"({{"resourceType":"Observation","id":"{}","effectiveDateTime":"{}","code":{{"coding":[{{"system":"{}","code":"{}"}}]}}}})",
      row.id, FormatInstant(effective), system, code);
  clinical::ItemVisibility v;
  v.category = access::Category::kLabResults;
  std::vector<store::IndexTerm> terms = clinical::VisibilityTerms(v);
  terms.push_back({"patient", "", "Patient/" + row.patient_id});
  terms.push_back({"code", system, code});
  terms.push_back({"date", "", FormatInstant(effective)});
  terms.push_back({"_lastUpdated", "", FormatInstant(kRegistered)});
  return {row, terms};
}

// Deletes range(0) expired diagnoses per iteration.
void BM_SweepExpiredDiagnoses(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  int64_t deleted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto db = std::make_unique<Db>("diagnoses");
    Fill(*db->store, n, Condition);
    state.ResumeTiming();
    auto report = Sweep(*db->store, *db->audit, kNow, SweepOptions{});
    if (!report.ok()) state.SkipWithError(report.error().ToString().c_str());
    deleted += report.ok() ? report->deleted : 0;
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
  }
  state.counters["deleted/s"] =
      benchmark::Counter(static_cast<double>(deleted), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SweepExpiredDiagnoses)->Arg(2000)->Unit(benchmark::kMillisecond)->UseRealTime();

// range(0) old lab results, 3 per patient: all kept as their item's last 3.
void BM_SweepKeptLabResults(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Db db("labs");
  Fill(*db.store, n, Lab);
  int64_t examined = 0;
  for (auto _ : state) {
    auto report = Sweep(*db.store, *db.audit, kNow, SweepOptions{});
    if (!report.ok() || report->deleted != 0) state.SkipWithError("unexpected sweep result");
    examined += report.ok() ? report->examined : 0;
  }
  state.counters["examined/s"] =
      benchmark::Counter(static_cast<double>(examined), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SweepKeptLabResults)->Arg(3000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace renkei::retention

BENCHMARK_MAIN();
