#include "eligibility/insured_number.h"

#include <vector>

#include "core/text.h"

namespace renkei::eligibility {
namespace {

bool AllAsciiDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// ':' separates the parts; white space (ASCII, or U+3000 ideographic space E3 80 80) is not
// allowed inside one (JP-CLINS pattern [^:\s　]*).
bool HasSeparatorOrSpace(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      return true;
    }
    if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x80) {
      return true;
    }
  }
  return false;
}

std::string CheckFree(std::string_view s, std::string_view what) {
  if (!text::IsValidUtf8(s)) return std::string(what) + " is not valid UTF-8";
  if (HasSeparatorOrSpace(s)) return std::string(what) + " must not contain ':' or white space";
  if (s.size() > 64) return std::string(what) + " is longer than 64 bytes";
  return {};
}

}  // namespace

std::string FoldDigits(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    // U+FF10..U+FF19 is EF BC 90..99 in UTF-8.
    if (static_cast<unsigned char>(text[i]) == 0xEF && i + 2 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) == 0xBC) {
      unsigned char c = static_cast<unsigned char>(text[i + 2]);
      if (c >= 0x90 && c <= 0x99) {
        out += static_cast<char>('0' + (c - 0x90));
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string CheckInsurer(std::string_view insurer) {
  std::string d = FoldDigits(insurer);
  if (d.size() != 8 || !AllAsciiDigits(d)) return "insurer must be the 8-digit insurer number";
  return {};
}

std::string CheckSymbol(std::string_view symbol) {
  return CheckFree(symbol, "symbol");
}

std::string CheckNumber(std::string_view number) {
  if (number.empty()) return "number is required";
  return CheckFree(number, "number");
}

std::string CheckBranch(std::string_view branch) {
  std::string d = FoldDigits(branch);
  if (!d.empty() && (d.size() != 2 || !AllAsciiDigits(d))) {
    return "branch must be 2 digits or empty";
  }
  return {};
}

std::string MemberIdValue(const InsuredNumber& n) {
  return FoldDigits(n.insurer) + ":" + n.symbol + ":" + n.number + ":" + FoldDigits(n.branch);
}

std::optional<InsuredNumber> ParseMemberId(std::string_view value) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = value.find(':', start);
    parts.push_back(value.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 4) return std::nullopt;
  InsuredNumber n{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                  std::string(parts[3])};
  if (!CheckInsurer(n.insurer).empty() || !CheckSymbol(n.symbol).empty() ||
      !CheckNumber(n.number).empty() || !CheckBranch(n.branch).empty()) {
    return std::nullopt;
  }
  n.insurer = FoldDigits(n.insurer);
  n.branch = FoldDigits(n.branch);
  return n;
}

std::string MemberIdKey(const InsuredNumber& n) {
  return text::SearchKey(MemberIdValue(n));
}

}  // namespace renkei::eligibility
