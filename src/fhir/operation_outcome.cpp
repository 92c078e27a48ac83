#include "fhir/operation_outcome.h"

namespace renkei::fhir {
namespace {

std::string_view SeverityName(Issue::Severity s) {
  switch (s) {
    case Issue::Severity::kFatal:
      return "fatal";
    case Issue::Severity::kError:
      return "error";
    case Issue::Severity::kWarning:
      return "warning";
    case Issue::Severity::kInformation:
      return "information";
  }
  return "error";
}

json::object IssueObject(std::string_view severity, std::string_view code, std::string_view text,
                         std::string_view expression) {
  json::object issue;
  issue["severity"] = severity;
  issue["code"] = code;
  issue["diagnostics"] = text;
  if (!expression.empty()) {
    json::array expr;
    expr.emplace_back(expression);
    issue["expression"] = std::move(expr);
  }
  return issue;
}

}  // namespace

json::object OperationOutcomeOf(const Error& error) {
  const auto& info = InfoOf(error.code());
  json::array issues;
  if (error.issues().empty()) {
    issues.emplace_back(IssueObject("error", info.fhir_issue_type, error.message(), ""));
  } else {
    for (const auto& i : error.issues()) {
      issues.emplace_back(IssueObject(SeverityName(i.severity),
                                      i.type.empty() ? info.fhir_issue_type : i.type, i.text,
                                      i.expression));
    }
  }
  json::object oo;
  oo["resourceType"] = "OperationOutcome";
  oo["issue"] = std::move(issues);
  return oo;
}

Response ErrorResponse(const Error& error) {
  Response r = Response::Json(error.http_status(), json::Serialize(OperationOutcomeOf(error)));
  if (error.code() == ErrorCode::kRateLimited || error.code() == ErrorCode::kUnavailable ||
      error.code() == ErrorCode::kRetryable) {
    r.headers.emplace_back("Retry-After", "1");
  }
  return r;
}

Response InformationResponse(int status, std::string_view text) {
  json::array issues;
  issues.emplace_back(IssueObject("information", "informational", text, ""));
  json::object oo;
  oo["resourceType"] = "OperationOutcome";
  oo["issue"] = std::move(issues);
  return Response::Json(status, json::Serialize(oo));
}

}  // namespace renkei::fhir
