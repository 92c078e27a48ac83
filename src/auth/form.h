// application/x-www-form-urlencoded bodies (WHATWG URL §5.1), as the OAuth token endpoint
// receives them (RFC 6749 §4.4.2).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace renkei::auth {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Decodes name=value pairs separated by '&' ('+' is a space, %XX a byte). kInvalid on a bad
// percent escape or more than max_fields fields.
Result<FormFields> ParseForm(std::string_view body, size_t max_fields = 64);

// Encodes fields as a form body (for clients and tests).
std::string EncodeForm(const FormFields& fields);

}  // namespace renkei::auth
