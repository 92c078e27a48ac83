// Reading the clinical golden files (tests/clinical/, data/fhir/examples/).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/json.h"
#include "core/limits.h"

namespace renkei::clinical::testing {

inline std::filesystem::path TestDir() {
  return RENKEI_CLINICAL_TEST_DIR;
}
inline std::filesystem::path ExamplesDir() {
  return RENKEI_FHIR_EXAMPLES_DIR;
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline json::object ReadObject(const std::filesystem::path& path) {
  auto parsed = json::ParseObject(ReadText(path), Limits{});
  EXPECT_TRUE(parsed.ok()) << path << ": " << (parsed.ok() ? "" : parsed.error().ToString());
  return parsed.ok() ? std::move(parsed).value() : json::object{};
}

}  // namespace renkei::clinical::testing
