// Server-assigned identifiers.
#pragma once

#include <string>
#include <string_view>

namespace renkei {

// A random UUID v4 in lower-case hex with dashes; a valid FHIR id.
std::string NewId();
// True when text matches the FHIR id grammar [A-Za-z0-9\-\.]{1,64}.
bool IsValidFhirId(std::string_view text);

}  // namespace renkei
