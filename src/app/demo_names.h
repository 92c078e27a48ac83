// Name parts for demo patients: kanji with their kana readings, including rare kanji and an
// ideographic variation sequence (葛󠄀 = U+845B U+E0100) so the demo exercises DESIGN.md §3.7.
#pragma once

#include <array>
#include <string_view>

namespace renkei::app {

struct NamePart {
  std::string_view kanji;
  std::string_view kana;  // full-width katakana, as JP Core SYL names are written
};

inline constexpr std::array<NamePart, 24> kFamilyNames = {{
    {"佐藤", "サトウ"},       {"鈴木", "スズキ"},   {"高橋", "タカハシ"}, {"田中", "タナカ"},
    {"伊藤", "イトウ"},       {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
    {"小林", "コバヤシ"},     {"加藤", "カトウ"},   {"吉田", "ヨシダ"},   {"山田", "ヤマダ"},
    {"佐々木", "ササキ"},     {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
    {"木村", "キムラ"},       {"牧野", "マキノ"},   {"髙橋", "タカハシ"}, {"𠮷田", "ヨシダ"},
    {"葛󠄀西", "カサイ"}, {"齋藤", "サイトウ"}, {"邊見", "ヘンミ"},   {"德永", "トクナガ"},
}};

inline constexpr std::array<NamePart, 20> kGivenNames = {{
    {"太郎", "タロウ"},   {"花子", "ハナコ"}, {"翔太", "ショウタ"}, {"陽菜", "ヒナ"},
    {"蓮", "レン"},       {"結衣", "ユイ"},   {"大翔", "ヒロト"},   {"葵", "アオイ"},
    {"健一", "ケンイチ"}, {"美咲", "ミサキ"}, {"進一", "シンイチ"}, {"恵子", "ケイコ"},
    {"誠", "マコト"},     {"由美", "ユミ"},   {"隆", "タカシ"},     {"洋子", "ヨウコ"},
    {"浩", "ヒロシ"},     {"幸子", "サチコ"}, {"勝", "マサル"},     {"和子", "カズコ"},
}};

struct Place {
  std::string_view prefecture_code;  // JIS X 0401
  std::string_view prefecture;
  std::string_view city;
};

inline constexpr std::array<Place, 4> kPlaces = {{
    {"13", "東京都", "千代田区"},
    {"27", "大阪府", "大阪市北区"},
    {"17", "石川県", "輪島市"},
    {"32", "島根県", "松江市"},
}};

}  // namespace renkei::app
