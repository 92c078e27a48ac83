#include "eligibility/verify_request.h"

#include <fmt/format.h>

#include <set>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace renkei::eligibility {
namespace {

Issue At(std::string path, std::string text) {
  Issue i;
  i.expression = std::move(path);
  i.text = std::move(text);
  return i;
}

// A full date (YYYY-MM-DD) that exists in the calendar.
bool IsFullDate(std::string_view s) {
  if (s.size() != 10) return false;
  auto t = ParseDateTime(s);
  return t && FormatDate(*t) == s;
}

}  // namespace

Result<VerifyRequest> ParseVerifyRequest(std::string_view body, const Limits& limits) {
  RK_ASSIGN_OR_RETURN(json::object doc, json::ParseObject(body, limits));
  std::vector<Issue> issues;
  auto type = json::GetString(doc, "resourceType");
  if (!type || *type != "Parameters") {
    issues.push_back(At("Parameters.resourceType", "the body must be a Parameters resource"));
    return Error(ErrorCode::kInvalid, "invalid $verify-eligibility request", std::move(issues));
  }
  const json::array* params = json::GetArray(doc, "parameter");
  if (!params) {
    issues.push_back(At("Parameters.parameter", "parameters are required"));
    return Error(ErrorCode::kInvalid, "invalid $verify-eligibility request", std::move(issues));
  }

  VerifyRequest req;
  InsuredNumber numbers;
  bool any_number = false;
  bool has_insurer = false;
  bool has_number = false;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < params->size(); ++i) {
    const std::string base = fmt::format("Parameters.parameter[{}]", i);
    const json::object* p = (*params)[i].if_object();
    if (!p) {
      issues.push_back(At(base, "a parameter must be an object"));
      continue;
    }
    auto name = json::GetString(*p, "name");
    if (!name) {
      issues.push_back(At(base + ".name", "a parameter needs a name"));
      continue;
    }
    if (!seen.insert(std::string(*name)).second) {
      issues.push_back(At(base + ".name", fmt::format("parameter '{}' is repeated", *name)));
      continue;
    }
    const bool is_date = *name == "date" || *name == "birthDate";
    std::optional<std::string_view> value = json::GetString(*p, "valueString");
    std::string value_path = base + ".valueString";
    if (!value && is_date) {
      value = json::GetString(*p, "valueDate");
      value_path = base + ".valueDate";
    }
    if (*name != "card" && *name != "insurer" && *name != "symbol" && *name != "number" &&
        *name != "branch" && !is_date) {
      issues.push_back(At(base + ".name", fmt::format("unknown parameter '{}'", *name)));
      continue;
    }
    if (!value) {
      issues.push_back(At(base, fmt::format("parameter '{}' needs a {}", *name,
                                            is_date ? "valueDate" : "valueString")));
      continue;
    }
    std::string problem;
    if (*name == "card") {
      if (value->empty()) problem = "card must be the card reader's signed assertion";
      req.card = std::string(*value);
    } else if (*name == "insurer") {
      problem = CheckInsurer(*value);
      numbers.insurer = std::string(*value);
      any_number = has_insurer = true;
    } else if (*name == "symbol") {
      problem = CheckSymbol(*value);
      numbers.symbol = std::string(*value);
      any_number = true;
    } else if (*name == "number") {
      problem = CheckNumber(*value);
      numbers.number = std::string(*value);
      any_number = has_number = true;
    } else if (*name == "branch") {
      problem = CheckBranch(*value);
      numbers.branch = std::string(*value);
      any_number = true;
    } else if (*name == "birthDate") {
      if (!IsFullDate(*value)) problem = "birthDate must be a date YYYY-MM-DD";
      req.birth_date = std::string(*value);
    } else {  // date
      if (!IsFullDate(*value)) problem = "date must be a date YYYY-MM-DD";
      req.date = std::string(*value);
    }
    if (!problem.empty()) issues.push_back(At(value_path, std::move(problem)));
  }

  if (req.card && any_number) {
    issues.push_back(
        At("Parameters.parameter", "give either card or the certificate numbers, not both"));
  } else if (!req.card && !any_number) {
    issues.push_back(At("Parameters.parameter", "give card or insurer, symbol, number, branch"));
  } else if (any_number) {
    if (!has_insurer) issues.push_back(At("Parameters.parameter", "insurer is required"));
    if (!has_number) issues.push_back(At("Parameters.parameter", "number is required"));
    req.numbers = std::move(numbers);
  }
  if (req.card && req.birth_date) {
    issues.push_back(At("Parameters.parameter", "birthDate goes with the certificate numbers"));
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kInvalid, "invalid $verify-eligibility request", std::move(issues));
  }
  return req;
}

}  // namespace renkei::eligibility
