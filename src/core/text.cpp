#include "core/text.h"

#include <array>
#include <cstdint>
#include <vector>

namespace renkei::text {

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else
      return false;
    if (i + n >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

namespace {

constexpr uint32_t kDakuten = 0x3099;     // combining voiced sound mark
constexpr uint32_t kHandakuten = 0x309A;  // combining semi-voiced sound mark

// Half-width katakana U+FF61..U+FF9F to their full-width forms (Unicode compatibility
// decompositions, as NFKC maps them).
constexpr std::array<uint16_t, 0x3f> kHalfWidthKana = {
    0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2, 0x30A1,   0x30A3,     0x30A5, 0x30A7, 0x30A9,
    0x30E3, 0x30E5, 0x30E7, 0x30C3, 0x30FC, 0x30A2, 0x30A4,   0x30A6,     0x30A8, 0x30AA, 0x30AB,
    0x30AD, 0x30AF, 0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9,   0x30BB,     0x30BD, 0x30BF, 0x30C1,
    0x30C4, 0x30C6, 0x30C8, 0x30CA, 0x30CB, 0x30CC, 0x30CD,   0x30CE,     0x30CF, 0x30D2, 0x30D5,
    0x30D8, 0x30DB, 0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2,   0x30E4,     0x30E6, 0x30E8, 0x30E9,
    0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3, kDakuten, kHandakuten};

// Decodes one code point at i (advancing i); invalid bytes come back as themselves with
// ok = false so that they are copied through unchanged.
uint32_t Decode(std::string_view s, size_t& i, bool& ok) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  ok = true;
  size_t n = 0;
  uint32_t cp = c;
  if (c < 0x80) {
    ++i;
    return c;
  }
  if ((c & 0xe0) == 0xc0) {
    n = 1;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 2;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 3;
    cp = c & 0x07;
  } else {
    ok = false;
    ++i;
    return c;
  }
  if (i + n >= s.size()) {  // truncated sequence
    ok = false;
    ++i;
    return c;
  }
  for (size_t k = 1; k <= n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) {
      ok = false;
      ++i;
      return c;
    }
    cp = cp << 6 | (cc & 0x3f);
  }
  i += n + 1;
  return cp;
}

void Encode(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The precomposed hiragana for base + mark, or 0 when Unicode has none (then the
// combining mark stays, as NFKC leaves it).
uint32_t Compose(uint32_t base, uint32_t mark) {
  if (mark == kDakuten) {
    // か..ぢ: voiceable syllables alternate with their voiced forms (U+304B..U+3062).
    if (base >= 0x304B && base <= 0x3061 && (base - 0x304B) % 2 == 0) return base + 1;
    if (base == 0x3064 || base == 0x3066 || base == 0x3068) return base + 1;  // つ て と
    if (base >= 0x306F && base <= 0x307B && (base - 0x306F) % 3 == 0) return base + 1;
    if (base == 0x3046) return 0x3094;  // う -> ゔ
    if (base == 0x309D) return 0x309E;  // ゝ -> ゞ
    return 0;
  }
  if (base >= 0x306F && base <= 0x307B && (base - 0x306F) % 3 == 0) return base + 2;
  return 0;
}

bool IsSpace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == 0xA0;
}

}  // namespace

std::string SearchKey(std::string_view text) {
  std::vector<uint32_t> cps;  // folded code points; invalid bytes kept as (0x80000000 | byte)
  cps.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool ok = true;
    uint32_t cp = Decode(text, i, ok);
    if (!ok) {
      cps.push_back(0x80000000u | cp);
      continue;
    }
    if (IsSpace(cp)) continue;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;                      // full-width ASCII
    if (cp >= 0xFF61 && cp <= 0xFF9F) cp = kHalfWidthKana[cp - 0xFF61];  // half-width kana
    if (cp == 0x309B) cp = kDakuten;  // spacing marks typed after a kana act as combining
    if (cp == 0x309C) cp = kHandakuten;
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    if (cp >= 0x30A1 && cp <= 0x30F6) cp -= 0x60;  // katakana -> hiragana
    if (cp >= 0x30F7 && cp <= 0x30FA) {            // ヷヸヹヺ = わゐゑを + voiced mark
      static constexpr std::array<uint32_t, 4> kBase = {0x308F, 0x3090, 0x3091, 0x3092};
      cps.push_back(kBase[cp - 0x30F7]);
      cp = kDakuten;
    }
    if (cp == 0x30FD || cp == 0x30FE) cp -= 0x60;  // ヽヾ -> ゝゞ
    if ((cp == kDakuten || cp == kHandakuten) && !cps.empty()) {
      uint32_t composed = Compose(cps.back(), cp);
      if (composed != 0) {
        cps.back() = composed;
        continue;
      }
    }
    cps.push_back(cp);
  }
  std::string out;
  out.reserve(text.size());
  for (uint32_t cp : cps) {
    if (cp & 0x80000000u) {
      out.push_back(static_cast<char>(cp & 0xff));
    } else {
      Encode(cp, out);
    }
  }
  return out;
}

}  // namespace renkei::text
