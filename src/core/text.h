// Japanese text helpers. Names are stored byte for byte (DESIGN.md §3.7); only search keys
// are normalized.
#pragma once

#include <string>
#include <string_view>

namespace renkei::text {

// True when text is valid UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view text);

// A search key for kana and names: NFKC-like width folding (half-width katakana and
// full-width ASCII to their normal forms, voiced marks composed), katakana folded to
// hiragana, ASCII lower-cased, and all white space (incl. U+3000) removed. So "ﾔﾏﾀﾞ ﾀﾛｳ",
// "ヤマダ　タロウ" and "やまだたろう" share one key. Kanji and variation selectors are kept as they
// are.
std::string SearchKey(std::string_view text);

}  // namespace renkei::text
