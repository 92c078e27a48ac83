// The insured-person numbers of a health-insurance card or eligibility certificate (資格確認書)
// and their JP-CLINS identifier form insurer(8):symbol:number:branch (JP-FHIR.md, Identifiers).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fhir/jp_systems.h"

namespace renkei::eligibility {

// The identifier system of the insured person (capital I, lower-case s, as JP-CLINS spells it).
inline constexpr std::string_view kMemberIdSystem = fhir::kMemberIdSystem;

struct InsuredNumber {
  std::string insurer;  // 8 ASCII digits
  std::string symbol;   // 記号, may be empty
  std::string number;   // 番号
  std::string branch;   // 枝番: 2 ASCII digits or empty
};

// Full-width digits (U+FF10..U+FF19) to ASCII; other text unchanged.
std::string FoldDigits(std::string_view text);

// What is wrong with one part, or "" when it is well-formed. Insurer and branch are checked
// after folding full-width digits; symbol and number may hold any characters but ':' and
// white space (incl. U+3000), as the JP-CLINS pattern requires.
std::string CheckInsurer(std::string_view insurer);
std::string CheckSymbol(std::string_view symbol);
std::string CheckNumber(std::string_view number);
std::string CheckBranch(std::string_view branch);

// "insurer:symbol:number:branch" with insurer and branch digits folded.
std::string MemberIdValue(const InsuredNumber& n);
// Parses an identifier value; nullopt when it does not have four well-formed parts.
std::optional<InsuredNumber> ParseMemberId(std::string_view value);
// The search key the registry indexes Coverage/Patient identifiers under (text::SearchKey of
// the value, so full- and half-width forms match).
std::string MemberIdKey(const InsuredNumber& n);

}  // namespace renkei::eligibility
