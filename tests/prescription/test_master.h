// The shipped drug master (data/drugs/), loaded once per test binary.
#pragma once

#include <memory>
#include <string>

#include "prescription/drug_master.h"

namespace renkei::prescription::testing {

inline std::string DataDir() {
  return RENKEI_DATA_DIR;
}
inline std::string PriceListPath() {
  return DataDir() + "/drugs/mhlw-drug-price-list-20250716.csv";
}
inline std::string RulesPath() {
  return DataDir() + "/drugs/contraindications.csv";
}

// The master built from the shipped files; aborts the test binary if they do not load.
inline std::shared_ptr<const DrugMaster> ShippedMaster() {
  static const std::shared_ptr<const DrugMaster> master = [] {
    auto m = LoadDrugMaster(PriceListPath(), RulesPath());
    if (!m.ok()) std::abort();
    return std::move(m).value();
  }();
  return master;
}

}  // namespace renkei::prescription::testing
