// The duplicate/contraindication check against the full shipped master, for a patient with
// about 5 and about 12 history items (issue 4 targets: the check itself far below 100 µs).
// Data: data/drugs/ of the source tree, or the folder in RENKEI_DATA_DIR.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "prescription/check.h"
#include "prescription/drug_master.h"

namespace renkei::prescription {
namespace {

std::filesystem::path DataDir() {
  if (const char* dir = std::getenv("RENKEI_DATA_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "data";
}

std::shared_ptr<const DrugMaster> Master() {
  static const std::shared_ptr<const DrugMaster> master = [] {
    auto m = LoadDrugMaster(DataDir() / "drugs/mhlw-drug-price-list-20250716.csv",
                            DataDir() / "drugs/contraindications.csv");
    if (!m.ok()) std::abort();
    return std::move(m).value();
  }();
  return master;
}

// A realistic request: history drawn from the whole list over the last 100 days from
// three facilities, with one dispensing superseding its prescription, plus warfarin and
// a triazolam so that the candidates (amlodipine, itraconazole, miconazole gel) raise a
// duplicate and contraindications.
CheckRequest MakeRequest(const DrugMaster& master, size_t history_items) {
  using std::chrono::days;
  const Date today = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20};
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, master.drugs().size() - 1);
  std::uniform_int_distribution<int> age(0, 99);
  const char* facilities[] = {"1310000029", "1310000011", "1340000013"};
  CheckRequest r;
  r.check_date = today;
  r.requesting_facility = "2710000017";
  r.details_allowed = true;
  const char* fixed[] = {"2171022F2025", "3332001F1016", "1124007F2026"};
  for (size_t i = 0; i < history_items; ++i) {
    HistoryItem h;
    h.code = i < 3 ? fixed[i] : master.drugs()[pick(rng)].code;
    h.facility = facilities[i % 3];
    h.kind = i % 2 == 0 ? RecordKind::kPrescription : RecordKind::kDispensing;
    h.record_id = "rec-" + std::to_string(i);
    // Dispensings from the fifth item on supersede the prescription just before them.
    if (i >= 5 && h.kind == RecordKind::kDispensing)
      h.prescription_id = "rec-" + std::to_string(i - 1);
    h.start = today - days(i < 3 ? 5 : age(rng));
    h.days_supply = 28;
    r.history.push_back(std::move(h));
  }
  for (const char* code : {"2171022F2041", "6290004M1029", "6290003X1039"}) {
    CandidateItem c;
    c.code = code;
    c.start = today;
    c.days_supply = 14;
    r.candidates.push_back(std::move(c));
  }
  return r;
}

void BM_Check(benchmark::State& state) {
  auto master = Master();
  const CheckRequest request = MakeRequest(*master, static_cast<size_t>(state.range(0)));
  size_t alerts = 0;
  for (auto _ : state) {
    auto result = RunCheck(*master, request);
    if (!result.ok()) {
      state.SkipWithError("check failed");
      return;
    }
    alerts = 0;
    for (const auto& item : result->items) alerts += item.alerts.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["alerts"] = static_cast<double>(alerts);
  state.counters["history"] = static_cast<double>(request.history.size());
}
BENCHMARK(BM_Check)->Arg(5)->Arg(12)->Unit(benchmark::kMicrosecond);

void BM_CheckMasked(benchmark::State& state) {
  auto master = Master();
  CheckRequest request = MakeRequest(*master, static_cast<size_t>(state.range(0)));
  request.details_allowed = false;
  for (auto _ : state) {
    auto result = RunCheck(*master, request);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_CheckMasked)->Arg(12)->Unit(benchmark::kMicrosecond);

void BM_LoadMaster(benchmark::State& state) {
  for (auto _ : state) {
    auto m = LoadDrugMaster(DataDir() / "drugs/mhlw-drug-price-list-20250716.csv",
                            DataDir() / "drugs/contraindications.csv");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_LoadMaster)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace renkei::prescription

BENCHMARK_MAIN();
