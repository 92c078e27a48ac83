// The drug master: CSV reading, the YJ check digit over the whole price list, the mapping
// of each drug, code validation (dummy, check digit, unknown, general-name), the rules,
// versions, limits and the atomic holder.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "prescription/csv.h"
#include "prescription/drug_code.h"
#include "test_master.h"

namespace renkei::prescription {
namespace {

using testing::ShippedMaster;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr std::string_view kHeader =
    "区分,薬価基準収載医薬品コード,成分名,規格,日本薬局方,麻薬,業者名追記,品名,メーカー名,"
    "診療報酬において加算等の算定対象となる後発医薬品,先発医薬品,"
    "同一剤形・規格の後発医薬品がある先発医薬品,薬価,経過措置による使用期限,備考\n";
constexpr std::string_view kRulesHeader =
    "ingredient_a,routes_a,ingredient_b,routes_b,stated_in,status\n";

TEST(CsvTest, QuotedFieldsEmbeddedCommasQuotesAndNewlines) {
  auto r = ParseCsv(
      "\xEF\xBB\xBF"
      "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,x\n\nlast");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ((*r)[1].fields, (std::vector<std::string>{"multi\nline", "", "x"}));
  EXPECT_EQ((*r)[1].line, 2u);
  EXPECT_EQ((*r)[2].fields, (std::vector<std::string>{"last"}));
  EXPECT_EQ((*r)[2].line, 5u);
  // Text is kept byte for byte, spaces included.
  auto spaced = ParseCsv(" a , ｂ　\n");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ((*spaced)[0].fields, (std::vector<std::string>{" a ", " ｂ　"}));
}

TEST(CsvTest, MalformedQuotingIsRefusedWithTheLine) {
  auto open = ParseCsv("a,b\n\"unterminated,c\n");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message().find("line 2"), std::string::npos);
  auto after = ParseCsv("\"a\"b,c\n");
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.error().message().find("after a closing quote"), std::string::npos);
}

TEST(DrugCodeTest, CheckDigitHoldsForEveryCodeOfThePriceList) {
  auto records = ParseCsv(ReadText(testing::PriceListPath()));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 12435u);  // header + 12,434 drugs
  size_t checked = 0;
  for (size_t i = 1; i < records->size(); ++i) {
    const std::string& code = (*records)[i].fields.at(1);
    EXPECT_TRUE(HasValidYjCheckDigit(code)) << code;
    ++checked;
  }
  EXPECT_EQ(checked, 12434u);
  EXPECT_EQ(YjCheckDigit("1141007F302"), '3');  // JP-FHIR.md example
  EXPECT_FALSE(HasValidYjCheckDigit("2000000X0000"));
  EXPECT_FALSE(HasValidYjCheckDigit("1141007F3024"));
  EXPECT_FALSE(HasValidYjCheckDigit("1141007f3023"));
  EXPECT_FALSE(HasValidYjCheckDigit("1141007F302"));
  EXPECT_FALSE(YjCheckDigit("1141007F30").has_value());
}

TEST(DrugCodeTest, DummyAndGeneralNameShapes) {
  EXPECT_TRUE(IsDummyDrugCode("666660000"));
  EXPECT_TRUE(IsDummyDrugCode("2000000X0000"));
  EXPECT_TRUE(IsDummyDrugCode("777770000"));
  EXPECT_FALSE(IsDummyDrugCode("2171022F2025"));
  EXPECT_TRUE(IsGeneralNameCodeShape("2171022F2ZZZ"));
  EXPECT_FALSE(IsGeneralNameCodeShape("2171022F2025"));
  EXPECT_FALSE(IsGeneralNameCodeShape("2171022f2ZZZ"));
  EXPECT_FALSE(IsGeneralNameCodeShape("2171022F2ZZ"));
}

TEST(DrugMasterTest, MapsEveryDrugOfTheShippedList) {
  auto m = ShippedMaster();
  EXPECT_EQ(m->drugs().size(), 12434u);
  size_t by_route[4] = {};
  for (const auto& d : m->drugs()) ++by_route[static_cast<int>(d.route)];
  EXPECT_EQ(by_route[static_cast<int>(RouteClass::kInternal)], 6940u);
  EXPECT_EQ(by_route[static_cast<int>(RouteClass::kInjection)], 3486u);
  EXPECT_EQ(by_route[static_cast<int>(RouteClass::kExternal)], 1980u);
  EXPECT_EQ(by_route[static_cast<int>(RouteClass::kDental)], 28u);

  const Drug* norvasc = m->Find("2171022F2025");
  ASSERT_NE(norvasc, nullptr);
  EXPECT_EQ(norvasc->route, RouteClass::kInternal);
  EXPECT_EQ(norvasc->product_name, "ノルバスク錠５ｍｇ");
  EXPECT_EQ(norvasc->strength, "５ｍｇ１錠");
  EXPECT_EQ(norvasc->maker, "ヴィアトリス製薬");
  EXPECT_EQ(norvasc->generic, GenericStatus::kBrand);
  EXPECT_EQ(norvasc->ingredients, std::vector<std::string>{"アムロジピンベシル酸塩"});
  EXPECT_EQ(norvasc->IngredientKey(), "2171022");

  const Drug* caduet = m->Find("2190101F1020");
  ASSERT_NE(caduet, nullptr);
  EXPECT_EQ(caduet->ingredients, (std::vector<std::string>{"アムロジピンベシル酸塩",
                                                           "アトルバスタチンカルシウム水和物"}));
  // Inner ideographic spaces are part of a name; only surrounding ones would be trimmed.
  const Drug* suglat = m->Find("3969107F1022");
  ASSERT_NE(suglat, nullptr);
  EXPECT_EQ(suglat->ingredients[1], "イプラグリフロジン　Ｌ－プロリン");
  // Spellings of one ingredient key are shared: the hydrate generic answers to the brand's
  // name and the other way round; a combination keeps its own components.
  EXPECT_EQ(m->Find("3949003F1112")->ingredients,
            std::vector<std::string>{"フェブキソスタット水和物"});
  EXPECT_EQ(m->Find("3949003F1112")->match_names,
            (std::vector<std::string>{"フェブキソスタット水和物", "フェブキソスタット"}));
  EXPECT_EQ(m->Find("3949003F1023")->match_names,
            (std::vector<std::string>{"フェブキソスタット", "フェブキソスタット水和物"}));
  EXPECT_EQ(caduet->match_names, caduet->ingredients);
  // Spellings of one ingredient key are shared: the hydrate generic answers to the brand's
  // name and the other way round; a combination keeps its own components.
  EXPECT_EQ(m->Find("3949003F1112")->ingredients,
            std::vector<std::string>{"フェブキソスタット水和物"});
  EXPECT_EQ(m->Find("3949003F1112")->match_names,
            (std::vector<std::string>{"フェブキソスタット水和物", "フェブキソスタット"}));
  EXPECT_EQ(m->Find("3949003F1023")->match_names,
            (std::vector<std::string>{"フェブキソスタット", "フェブキソスタット水和物"}));
  EXPECT_EQ(caduet->match_names, caduet->ingredients);
  EXPECT_EQ(m->Find("1149019F1013")->generic, GenericStatus::kGeneric);
  EXPECT_EQ(m->Find("6290400A1060")->route, RouteClass::kInjection);
  EXPECT_EQ(m->Find("6290704D1026")->route, RouteClass::kExternal);
  EXPECT_EQ(m->Find("2710803U1044")->route, RouteClass::kDental);
}

TEST(DrugMasterTest, RulesAreIndexedAndEveryRuleIngredientExists) {
  auto m = ShippedMaster();
  EXPECT_EQ(m->rules().size(), 39u);
  EXPECT_TRUE(m->UnmatchedRuleIngredients().empty());
  const auto& warfarin = m->RulesFor("ワルファリンカリウム");
  ASSERT_EQ(warfarin.size(), 3u);
  const auto& miconazole = m->rules()[warfarin[0]];
  EXPECT_EQ(miconazole.ingredient_b, "ミコナゾール");
  EXPECT_EQ(miconazole.routes_a, kAllRoutes);
  EXPECT_EQ(miconazole.routes_b,
            RouteBit(RouteClass::kInternal) | RouteBit(RouteClass::kInjection));
  EXPECT_EQ(m->RulesFor("ミコナゾール").size(), 1u);
  EXPECT_TRUE(m->RulesFor("アムロジピンベシル酸塩").empty());
}

TEST(DrugMasterTest, ResolveRefusesDummyMalformedFailingAndUnknownCodes) {
  auto m = ShippedMaster();
  for (const char* dummy : {"666660000", "2000000X0000", "777770000"}) {
    auto r = m->Resolve(dummy);
    ASSERT_FALSE(r.ok()) << dummy;
    EXPECT_EQ(r.error().code(), ErrorCode::kBusinessRule);
    EXPECT_NE(r.error().message().find(dummy), std::string::npos);
    EXPECT_NE(r.error().message().find("dummy"), std::string::npos);
  }
  auto bad_digit = m->Resolve("2171022F2026");
  ASSERT_FALSE(bad_digit.ok());
  EXPECT_EQ(bad_digit.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(bad_digit.error().message().find("check digit"), std::string::npos);
  auto malformed = m->Resolve("12345");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalid);
  auto unknown = m->Resolve("9999999F9990");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kBusinessRule);
  EXPECT_NE(unknown.error().message().find(m->version()), std::string::npos);
  auto ok = m->Resolve("2171022F2025");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->code, "2171022F2025");
}

TEST(DrugMasterTest, GeneralNameCodesMapToTheirIngredient) {
  auto m = ShippedMaster();
  auto g = m->Resolve("2171022F2ZZZ");
  ASSERT_TRUE(g.ok()) << g.error().ToString();
  EXPECT_TRUE((*g)->general_name);
  EXPECT_EQ((*g)->ingredients, std::vector<std::string>{"アムロジピンベシル酸塩"});
  EXPECT_EQ((*g)->route, RouteClass::kInternal);
  EXPECT_EQ((*g)->strength, "５ｍｇ１錠");
  auto combo = m->Resolve("2190101F1ZZZ");
  ASSERT_TRUE(combo.ok());
  EXPECT_EQ((*combo)->ingredients.size(), 2u);
  EXPECT_FALSE(m->Resolve("9999999F9ZZZ").ok());
  // General-name entries are lookups, not listed drugs.
  EXPECT_EQ(m->drugs().size(), 12434u);
}

TEST(DrugMasterTest, VersionNamesTheFilesAndFollowsTheContent) {
  auto m = ShippedMaster();
  EXPECT_TRUE(m->version().starts_with("mhlw-drug-price-list-20250716.csv+contraindications.csv@"));
  EXPECT_EQ(m->source().price_list_sha256.size(), 64u);
  const std::string csv =
      std::string(kHeader) +
      "内用薬,2171022F2025,アムロジピンベシル酸塩,５ｍｇ１錠,,,,ノルバスク錠５ｍｇ,"
      "ヴィアトリス製薬,,先発品,,10.1,,\n";
  auto a = BuildDrugMaster("list.csv", csv, "rules.csv", kRulesHeader);
  auto b = BuildDrugMaster("list.csv", csv + "\n", "rules.csv", kRulesHeader);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*a)->version(), (*b)->version());
  auto again = BuildDrugMaster("list.csv", csv, "rules.csv", kRulesHeader);
  EXPECT_EQ((*a)->version(), (*again)->version());
  // Replacing one file keeps the other.
  auto with_rules = (*a)->WithRules(
      "rules2.csv", std::string(kRulesHeader) + "アムロジピンベシル酸塩,*,X,内用,src,to-verify\n");
  ASSERT_TRUE(with_rules.ok()) << with_rules.error().ToString();
  EXPECT_EQ((*with_rules)->drugs().size(), 1u);
  EXPECT_EQ((*with_rules)->rules().size(), 1u);
  EXPECT_EQ((*with_rules)->UnmatchedRuleIngredients(), std::vector<std::string>{"X"});
}

TEST(DrugMasterTest, QuotedFieldsInThePriceListAreKept) {
  const std::string csv = std::string(kHeader) +
                          "内用薬,2171022F2025,\"アムロジピンベシル酸塩\",\"５ｍｇ,１錠\",,,,"
                          "\"ノルバスク \"\"錠\"\"\",メーカー,,先発品,,10.1,,\n";
  auto m = BuildDrugMaster("list.csv", csv, "rules.csv", kRulesHeader);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ((*m)->Find("2171022F2025")->strength, "５ｍｇ,１錠");
  EXPECT_EQ((*m)->Find("2171022F2025")->product_name, "ノルバスク \"錠\"");
}

TEST(DrugMasterTest, BadRowsRefuseTheWholeMaster) {
  const std::string good_row =
      "内用薬,2171022F2025,アムロジピンベシル酸塩,５ｍｇ１錠,,,,ノルバスク錠５ｍｇ,m,,先発品,,10.1,"
      ",\n";
  struct Case {
    std::string csv;
    std::string rules;
    std::string expect;
  } cases[] = {
      {std::string(kHeader) + "内服,2171022F2025,a,b,,,,c,m,,,,1,,\n", std::string(kRulesHeader),
       "unknown route class"},
      {std::string(kHeader) + "内用薬,2171022F2026,a,b,,,,c,m,,,,1,,\n", std::string(kRulesHeader),
       "check digit"},
      {std::string(kHeader) + good_row + good_row, std::string(kRulesHeader), "duplicate code"},
      {std::string(kHeader) + "内用薬,2171022F2025\n", std::string(kRulesHeader), "fields"},
      {"区分,コード\n", std::string(kRulesHeader), "missing column"},
      {std::string(kHeader) + good_row, std::string(kRulesHeader) + "a,経口,b,*,s,t\n", "routes"},
      {std::string(kHeader) + good_row, std::string(kRulesHeader) + ",*,b,*,s,t\n", "empty"},
      {std::string(kHeader) + good_row + "\xFF\n", std::string(kRulesHeader), "UTF-8"},
  };
  for (const auto& c : cases) {
    auto m = BuildDrugMaster("list.csv", c.csv, "rules.csv", c.rules);
    ASSERT_FALSE(m.ok()) << c.expect;
    EXPECT_EQ(m.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(m.error().message().find(c.expect), std::string::npos) << m.error().message();
  }
}

TEST(DrugMasterTest, FileLargerThanTheLimitIsRefused) {
  MasterLimits limits;
  limits.max_file_bytes = 1000;
  auto m = LoadDrugMaster(testing::PriceListPath(), testing::RulesPath(), limits);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kTooLarge);
  auto in_memory =
      BuildDrugMaster("list.csv", std::string(2000, 'a'), "r.csv", kRulesHeader, limits);
  ASSERT_FALSE(in_memory.ok());
  EXPECT_EQ(in_memory.error().code(), ErrorCode::kTooLarge);
  auto missing = LoadDrugMaster(testing::DataDir() + "/drugs/none.csv", testing::RulesPath());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST(MasterHolderTest, SwapIsAtomicForConcurrentReaders) {
  auto first = ShippedMaster();
  auto second = first->WithRules("contraindications-empty.csv", kRulesHeader);
  ASSERT_TRUE(second.ok());
  MasterHolder holder(first);
  EXPECT_EQ(holder.Get(), first);
  std::atomic<bool> stop{false};
  std::atomic<size_t> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto m = holder.Get();
        // A reader sees one whole master: its version and its rules agree.
        const bool is_first = m->version() == first->version();
        if (is_first != (m->rules().size() == 39)) ++bad;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) holder.Set(i % 2 == 0 ? *second : first);
  auto previous = holder.Set(*second);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(previous, first);
  EXPECT_EQ(holder.Get()->version(), (*second)->version());
  EXPECT_NE((*second)->version(), first->version());
}

}  // namespace
}  // namespace renkei::prescription
