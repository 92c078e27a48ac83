// Resource ids: UUID version 7, valid FHIR ids, ordered by time, unguessable within an instant.
#include "core/ids.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace renkei {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

TEST(IdsTest, NewIdIsAVersion7UuidAndAValidFhirId) {
  std::string id = NewId();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(IsValidFhirId(id));
  for (size_t dash : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[dash], '-') << id;
  EXPECT_EQ(id[14], '7') << id;                                    // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // variant 10xx
}

TEST(IdsTest, TheFirst48BitsAreTheUnixTimeInMilliseconds) {
  // 2026-11-21T00:00:00.123Z is 1,795,219,200,123 ms since 1970 (hex 01a1fb67187b).
  const auto at = system_clock::time_point(milliseconds(1795219200123));
  std::string id = NewIdAt(at);
  std::string hex = id.substr(0, 8) + id.substr(9, 4);
  EXPECT_EQ(std::stoull(hex, nullptr, 16), 1795219200123ull) << id;
}

TEST(IdsTest, LaterIdsSortLater) {
  const auto t = system_clock::time_point(milliseconds(1795219200000));
  std::string earlier = NewIdAt(t);
  std::string later = NewIdAt(t + milliseconds(1));
  std::string much_later = NewIdAt(t + std::chrono::hours(24 * 365 * 10));
  EXPECT_LT(earlier, later);
  EXPECT_LT(later, much_later);
}

TEST(IdsTest, IdsOfOneInstantDiffer) {
  const auto t = system_clock::time_point(milliseconds(1795219200000));
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(NewIdAt(t));
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(IdsTest, FhirIdGrammar) {
  EXPECT_TRUE(IsValidFhirId("pat-000001"));
  EXPECT_TRUE(IsValidFhirId("A.b-9"));
  EXPECT_TRUE(IsValidFhirId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidFhirId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidFhirId(""));
  EXPECT_FALSE(IsValidFhirId("a_b"));
  EXPECT_FALSE(IsValidFhirId("a/b"));
}

}  // namespace
}  // namespace renkei
