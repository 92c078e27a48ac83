// The one edge function: any Error becomes its HTTP status and a FHIR OperationOutcome
// listing every issue (STYLE.md habit 5).
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/request.h"
#include "core/status.h"

namespace renkei::fhir {

json::object OperationOutcomeOf(const Error& error);
// Status + OperationOutcome body; 429/503 also carry Retry-After.
Response ErrorResponse(const Error& error);
// An informational OperationOutcome (e.g. for a successful delete).
Response InformationResponse(int status, std::string_view text);

}  // namespace renkei::fhir
