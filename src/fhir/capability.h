// The CapabilityStatement, generated from the route table so that it lists exactly the
// interactions that exist (STYLE.md habit 9).
#pragma once

#include <string_view>

#include "core/json.h"
#include "core/request.h"

namespace renkei::fhir {

// Set as Route::operation on a kCreate route whose handler honours If-None-Exist; the
// statement then says conditionalCreate = true for that type.
inline constexpr std::string_view kConditionalCreateMarker = "conditional-create";

// A server CapabilityStatement (FHIR 4.0.1, json): per resource type exactly the
// interactions of the table's routes (read, vread, update, delete, history-instance,
// history-type, create, search-type) and its operations by name; system interactions
// transaction and batch when POST /fhir (kBatchTransaction) exists, and system operations
// (kOperation routes without a resource type).
json::object CapabilityStatementFrom(const RouteTable& routes, std::string_view base_url,
                                     std::string_view version);

}  // namespace renkei::fhir
