#include "core/text.h"

#include <gtest/gtest.h>

namespace renkei::text {
namespace {

TEST(SearchKeyTest, HalfWidthFullWidthKatakanaAndHiraganaShareOneKey) {
  const std::string expected = "やまだたろう";
  EXPECT_EQ(SearchKey("ﾔﾏﾀﾞ ﾀﾛｳ"), expected);
  EXPECT_EQ(SearchKey("ヤマダ　タロウ"), expected);
  EXPECT_EQ(SearchKey("やまだ たろう"), expected);
  EXPECT_EQ(SearchKey("ヤマダタロウ"), expected);
}

TEST(SearchKeyTest, RealNames) {
  EXPECT_EQ(SearchKey("ﾏｷﾉ ｼﾝｲﾁ"), "まきのしんいち");
  EXPECT_EQ(SearchKey("マキノ ランマン"), "まきのらんまん");
  EXPECT_EQ(SearchKey("ｶﾞｯｺｳ"), "がっこう");
  EXPECT_EQ(SearchKey("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"), "ぱぴぷぺぽ");
  EXPECT_EQ(SearchKey("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ"), "ばびぶべぼ");
  EXPECT_EQ(SearchKey("ｳﾞｧｲｵﾘﾝ"), "ゔぁいおりん");
  EXPECT_EQ(SearchKey("ヴァイオリン"), "ゔぁいおりん");
  EXPECT_EQ(SearchKey("ｹｰｷ"), "けーき");
}

TEST(SearchKeyTest, DecomposedVoicedMarksCompose) {
  // カ + U+3099 (as some systems send NFD) equals ガ.
  EXPECT_EQ(SearchKey("\xe3\x82\xab\xe3\x82\x99"), SearchKey("ガ"));
  // A mark that cannot compose stays as the combining mark.
  EXPECT_EQ(SearchKey("ｱﾞ"), "あ\xe3\x82\x99");
}

TEST(SearchKeyTest, FullWidthAsciiAndDigits) {
  EXPECT_EQ(SearchKey("１８７"), "187");
  EXPECT_EQ(SearchKey("１８７"), SearchKey("187"));
  EXPECT_EQ(SearchKey("ＡＢＣ ｄｅｆ"), "abcdef");
  EXPECT_EQ(SearchKey("Yamada Taro"), "yamadataro");
  EXPECT_EQ(SearchKey("00012345:あいう:１８７:05"), "00012345:あいう:187:05");
}

TEST(SearchKeyTest, KanjiAndVariationSelectorsKept) {
  EXPECT_EQ(SearchKey("牧野 爛漫"), "牧野爛漫");
  const std::string katsuragi = "葛\xf3\xa0\x84\x80城";  // 葛 + U+E0100 + 城
  EXPECT_EQ(SearchKey(katsuragi), katsuragi);
  EXPECT_EQ(SearchKey("𠮷田"), "𠮷田");
  EXPECT_NE(SearchKey(katsuragi), SearchKey("葛城"));
}

TEST(SearchKeyTest, EmptyAndSpacesOnly) {
  EXPECT_EQ(SearchKey(""), "");
  EXPECT_EQ(SearchKey(" 　 "), "");
}

TEST(IsValidUtf8Test, AcceptsJapaneseAndSupplementaryPlanes) {
  EXPECT_TRUE(IsValidUtf8("牧野 爛漫"));
  EXPECT_TRUE(IsValidUtf8("𠮷田"));
  EXPECT_TRUE(IsValidUtf8("葛\xf3\xa0\x84\x80"));
  EXPECT_TRUE(IsValidUtf8("ﾔﾏﾀﾞ"));
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(IsValidUtf8Test, RejectsBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xe7\x89"));          // truncated 牧
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\x80"));           // lone continuation byte
}

TEST(SearchKeyTest, InvalidBytesPassThrough) {
  EXPECT_EQ(SearchKey("a\xff"), "a\xff");
}

}  // namespace
}  // namespace renkei::text
