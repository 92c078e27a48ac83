// Drug code syntax: the 12-character YJ / price-list code with its check digit, the
// general-name (一般名処方) code, and the dummy codes the national service refuses
// (JP-FHIR.md "YJ code", "Dummy codes").
#pragma once

#include <optional>
#include <string_view>

namespace renkei::prescription {

// The check digit character ('0'..'9') for the first 11 characters of a YJ code, or
// nullopt when they are not 11 characters of [0-9A-Z]. Weights 6,5,4,3,2,7,6,5,4,3,2;
// letters A–I → 1–9, J–R → 1–9, S–Z → 2–9; check = (11 − sum mod 11) mod 11, 10 → 0.
std::optional<char> YjCheckDigit(std::string_view first11);

// True when code is 12 characters of [0-9A-Z] whose last one is the check digit.
bool HasValidYjCheckDigit(std::string_view code);

// True for the drug/device dummy codes refused since August 2025: 666660000 (claims
// code), 2000000X0000 (YJ form), 777770000 (device).
bool IsDummyDrugCode(std::string_view code);

// True when code has the general-name shape: 9 characters of [0-9A-Z] then "ZZZ"
// (the first 9 characters of the YJ codes it stands for; JP-FHIR.md GCM rule).
bool IsGeneralNameCodeShape(std::string_view code);

}  // namespace renkei::prescription
