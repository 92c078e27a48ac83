// `renkei seed-history`: medication histories for the patients of a seeded database, for the
// prescription check benchmark (issue "Electronic prescriptions", Performance: "1,000,000
// patients with realistic medication histories drawn from the full price list, on average
// about 5 drugs in the last 100 days, a few percent of patients with 10+"). The rows are the
// ones a real prescription stores (prescription/records.h RequestRow), so $check reads them as
// it reads any history.
#include <fmt/format.h>

#include <iostream>
#include <random>

#include "app/commands.h"
#include "core/clock.h"
#include "core/ids.h"
#include "prescription/master_store.h"
#include "prescription/records.h"
#include "store/store.h"

namespace renkei::app {
namespace {

// The facilities that prescribe in the demo registry (seed.cpp): hospitals, clinics, dental.
constexpr std::string_view kPrescribers[] = {"1310000011", "1310000029", "1330000015",
                                             "2710000017", "2710000025", "1710000013"};
constexpr int kSupplies[] = {7, 14, 14, 28, 28, 30, 56};
constexpr size_t kPatientsPerTransaction = 50;
// Where the last run stopped (the last patient id whose history is written), so that a run
// interrupted on a large dataset continues instead of doubling histories.
constexpr std::string_view kProgressSetting = "seed-history.last-patient";

// How many drugs a patient takes: Poisson around the mean, and heavy_percent of patients on
// 10 to 15 drugs (polypharmacy).
int DrugCount(std::mt19937_64& rng, double mean, int heavy_percent) {
  if (std::uniform_int_distribution<int>(0, 99)(rng) < heavy_percent) {
    return std::uniform_int_distribution<int>(10, 15)(rng);
  }
  return std::min(9, std::poisson_distribution<int>(mean)(rng));
}

}  // namespace

int SeedHistory(const SeedHistoryOptions& o) {
  auto store = store::Open(o.db_url, 2);
  if (!store.ok()) {
    std::cerr << "error: " << store.error().ToString() << "\n";
    return 1;
  }
  if (auto migrated = (*store)->Migrate(); !migrated.ok()) {
    std::cerr << "migration failed: " << migrated.error().ToString() << "\n";
    return 1;
  }
  auto master =
      prescription::LoadMasterFromStore(**store, prescription::DefaultMasterFiles(o.data_dir));
  if (!master.ok()) {
    std::cerr << "error: " << master.error().ToString() << "\n";
    return 1;
  }
  // Listed internal and external drugs; injections are mostly inpatient and not checked.
  std::vector<const prescription::Drug*> drugs;
  for (const auto& d : (*master)->drugs()) {
    if (d.route != prescription::RouteClass::kInjection) drugs.push_back(&d);
  }
  std::mt19937_64 rng(o.random_seed);
  const TimePoint now = SystemClock().Now();
  const auto today = prescription::JapanDate(now);
  size_t patients = 0;
  size_t rows = 0;
  auto progress = store::RunInTransactionWithResult<std::optional<std::string>>(
      **store, store::TxMode::kRead,
      [&](store::Transaction& tx) { return tx.GetSetting(kProgressSetting); });
  if (!progress.ok()) {
    std::cerr << "error: " << progress.error().ToString() << "\n";
    return 1;
  }
  std::string last_patient = o.after_patient.empty() ? progress->value_or("") : o.after_patient;
  if (!last_patient.empty()) std::cerr << "continuing after " << last_patient << "\n";
  std::string after;
  while (true) {
    // One page of patients, then their histories in one write transaction.
    store::SearchQuery q;
    q.type = "Patient";
    q.count = kPatientsPerTransaction;
    q.include_total = false;
    q.after = after;
    if (!last_patient.empty() && after.empty()) {
      q.criteria.push_back({"_id", store::MatchOp::kGt, false, "", {last_patient}});
    }
    auto page = store::RunInTransactionWithResult<store::SearchPage>(
        **store, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.Search(q); });
    if (!page.ok()) {
      std::cerr << "error: " << page.error().ToString() << "\n";
      return 1;
    }
    std::vector<prescription::StoredRow> batch;
    for (const auto& patient : page->rows) {
      const int n = DrugCount(rng, o.mean_drugs, o.heavy_percent);
      for (int i = 0; i < n; ++i) {
        const prescription::Drug& drug =
            *drugs[std::uniform_int_distribution<size_t>(0, drugs.size() - 1)(rng)];
        const int supply = kSupplies[std::uniform_int_distribution<int>(0, 6)(rng)];
        const auto start =
            today - std::chrono::days(std::uniform_int_distribution<int>(0, 99)(rng));
        const std::string facility(kPrescribers[std::uniform_int_distribution<size_t>(
            0, std::size(kPrescribers) - 1)(rng)]);
        prescription::ItemInput item;
        item.code = drug.code;
        item.start = start;
        item.days_supply = supply;
        json::object mr{
            {"medicationCodeableConcept",
             json::object{{"coding", json::array{json::object{{"system", prescription::kYjSystem},
                                                              {"code", drug.code},
                                                              {"display", drug.product_name}}}}}},
            {"authoredOn", fmt::format("{}T09:00:00+09:00", prescription::FormatDay(start))},
            {"dispenseRequest", json::object{{"expectedSupplyDuration",
                                              json::object{{"value", supply},
                                                           {"unit", "日"},
                                                           {"system", "http://unitsofmeasure.org"},
                                                           {"code", "d"}}}}}};
        batch.push_back(prescription::RequestRow(std::move(mr), item, NewId(), NewId(), patient.id,
                                                 facility, now));
      }
    }
    auto written = store::RunInTransaction(
        **store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          for (const auto& r : batch) {
            RK_TRY(tx.WriteResource(r.row, r.terms, 0));
          }
          if (page->rows.empty()) return Ok();
          return tx.PutSetting(kProgressSetting, page->rows.back().id);
        });
    if (!written.ok()) {
      std::cerr << "error: " << written.error().ToString() << "\n";
      return 1;
    }
    patients += page->rows.size();
    rows += batch.size();
    if (patients % 100000 < kPatientsPerTransaction) {
      std::cerr << fmt::format("{} patients, {} prescribed drugs\n", patients, rows);
    }
    if (page->next_cursor.empty()) break;
    after = page->next_cursor;
  }
  std::cout << fmt::format(
      "medication histories: {} patients, {} prescribed drugs ({:.1f} per "
      "patient) in the last 100 days\n",
      patients, rows, patients ? double(rows) / patients : 0.0);
  return 0;
}

}  // namespace renkei::app
