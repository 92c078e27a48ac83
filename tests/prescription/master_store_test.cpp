// The drug master in the store (issue 4 "Drug master"): a file replaces the old one
// atomically with its version, a bad file changes nothing, the defaults apply while nothing is
// stored, and every node's refresher picks up a new version.
#include "prescription/master_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "prescription/test_master.h"
#include "support/test_db.h"

namespace renkei::prescription::testing {
namespace {

using renkei::testing::Engine;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The shipped rules without the warfarin × iguratimod rule.
std::string FewerRules() {
  std::string rules = ReadAll(RulesPath());
  const size_t at = rules.find("ワルファリンカリウム,*,イグラチモド");
  EXPECT_NE(at, std::string::npos);
  rules.erase(at, rules.find('\n', at) + 1 - at);
  return rules;
}

class MasterStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { store_ = renkei::testing::MakeTestStore(GetParam()); }
  MasterDefaults defaults_ = DefaultMasterFiles(DataDir());
  std::unique_ptr<store::Store> store_;
};

TEST_P(MasterStoreTest, DefaultsApplyUntilAMasterIsStored) {
  auto m = LoadMasterFromStore(*store_, defaults_);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ((*m)->version(), ShippedMaster()->version());
  auto seeded = SeedDefaultMaster(*store_, defaults_);
  ASSERT_TRUE(seeded.ok()) << seeded.error().ToString();
  EXPECT_EQ(*seeded, ShippedMaster()->version());
  auto again = SeedDefaultMaster(*store_, defaults_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *seeded);
}

TEST_P(MasterStoreTest, NewRulesReplaceTheOldAtomicallyAndBadFilesChangeNothing) {
  auto v = StoreMasterFile(*store_, MasterFileKind::kContraindications, "rules-2.csv", FewerRules(),
                           defaults_);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_NE(*v, ShippedMaster()->version());
  EXPECT_NE(v->find("rules-2.csv"), std::string::npos);
  auto m = LoadMasterFromStore(*store_, defaults_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->version(), *v);
  EXPECT_EQ((*m)->rules().size() + 1, ShippedMaster()->rules().size());
  // The price list kept: the shipped one.
  EXPECT_EQ((*m)->drugs().size(), ShippedMaster()->drugs().size());

  // A bad price list (a code failing the check digit) is refused; the stored master stays.
  std::string bad = ReadAll(PriceListPath());
  bad += "内用薬,3332001F1017,ワルファリンカリウム,１ｍｇ１錠,,,,偽薬,,,,,9.8,,\n";
  auto refused = StoreMasterFile(*store_, MasterFileKind::kPriceList, "bad.csv", bad, defaults_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalid);
  auto still = LoadMasterFromStore(*store_, defaults_);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ((*still)->version(), *v);

  // Too large a file is refused before parsing.
  MasterLimits small;
  small.max_file_bytes = 100;
  auto big = StoreMasterFile(*store_, MasterFileKind::kContraindications, "x.csv",
                             std::string(101, 'a'), defaults_, small);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::kTooLarge);
}

TEST_P(MasterStoreTest, LoadsAFileByPath) {
  MasterFileKind kind;
  ASSERT_TRUE(ParseMasterFileKind("contraindications", kind));
  EXPECT_FALSE(ParseMasterFileKind("rules", kind));
  auto v = StoreMasterFileFrom(*store_, kind, RulesPath(), defaults_);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(*v, ShippedMaster()->version());
  auto missing = StoreMasterFileFrom(*store_, kind, RulesPath() + ".missing", defaults_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalid);
}

TEST_P(MasterStoreTest, RefresherPicksUpANewVersionAfterItsInterval) {
  ManualClock clock(*ParseDateTime("2026-03-10T00:00:00Z"));
  MasterHolder holder;
  MasterRefresher refresher(*store_, holder, clock, defaults_, std::chrono::seconds(5));
  ASSERT_TRUE(refresher.MaybeRefresh().ok());
  ASSERT_NE(holder.Get(), nullptr);
  EXPECT_EQ(holder.Get()->version(), ShippedMaster()->version());

  auto v = StoreMasterFile(*store_, MasterFileKind::kContraindications, "rules-2.csv", FewerRules(),
                           defaults_);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(refresher.MaybeRefresh().ok());  // within the interval: unchanged
  EXPECT_EQ(holder.Get()->version(), ShippedMaster()->version());
  clock.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(refresher.MaybeRefresh().ok());
  EXPECT_EQ(holder.Get()->version(), *v);
}

INSTANTIATE_TEST_SUITE_P(Engines, MasterStoreTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::prescription::testing
