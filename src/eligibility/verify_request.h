// The input of Coverage/$verify-eligibility: a FHIR Parameters resource naming the person by a
// card-signed assertion or by the numbers of the eligibility certificate (資格確認書).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/status.h"
#include "eligibility/insured_number.h"

namespace renkei::eligibility {

struct VerifyRequest {
  std::optional<std::string> card;        // compact JWS from the card reader
  std::optional<InsuredNumber> numbers;   // the certificate's numbers
  std::optional<std::string> birth_date;  // YYYY-MM-DD, confirms the person (numbers only)
  std::optional<std::string> date;        // service date YYYY-MM-DD; default today in Japan
};

// Parses and checks body. Every problem is reported at once as kInvalid with
// "Parameters.parameter[i]..." paths: unknown or repeated names, wrong value types, malformed
// numbers or dates, both or neither of card and numbers.
Result<VerifyRequest> ParseVerifyRequest(std::string_view body, const Limits& limits);

}  // namespace renkei::eligibility
