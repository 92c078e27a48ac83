#include "core/status.h"

#include <array>

namespace renkei {

const ErrorCodeInfo& InfoOf(ErrorCode code) {
  // Order follows the enum; FHIR issue types from http://hl7.org/fhir/valueset-issue-type.html
  static const std::array<ErrorCodeInfo, 15> kInfo = {{
      {400, "invalid", "invalid"},
      {401, "login", "unauthenticated"},
      {403, "forbidden", "forbidden"},
      {404, "not-found", "not-found"},
      {405, "not-supported", "method-not-allowed"},
      {409, "conflict", "conflict"},
      {410, "deleted", "gone"},
      {412, "conflict", "precondition-failed"},
      {413, "too-costly", "too-large"},
      {415, "not-supported", "unsupported-media-type"},
      {422, "business-rule", "business-rule"},
      {429, "throttled", "rate-limited"},
      {500, "exception", "internal"},
      {503, "transient", "unavailable"},
      {503, "transient", "retryable"},
  }};
  return kInfo[static_cast<size_t>(code)];
}

std::string Error::ToString() const {
  std::string out(InfoOf(code_).name);
  out += ": ";
  out += message_;
  for (const auto& issue : issues_) {
    out += "\n  ";
    if (!issue.expression.empty()) out += issue.expression + ": ";
    out += issue.text;
  }
  return out;
}

}  // namespace renkei
