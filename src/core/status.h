// Errors as values. One catalogue of error codes (code, HTTP status, FHIR issue type) and a
// small Result<T>; every fallible call across a module boundary returns one of these.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace renkei {

// The catalogue. Each code maps to exactly one HTTP status and FHIR issue type (see
// ErrorCodeInfo); DESIGN.md §3.2 names the statuses.
enum class ErrorCode {
  kInvalid,             // 400 malformed input (bad JSON, bad parameter)
  kUnauthenticated,     // 401 missing/invalid token or assertion
  kForbidden,           // 403 authenticated but not allowed (reason in message)
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kConflict,            // 409 version conflict, already received, duplicate
  kGone,                // 410 deleted (by retention or explicitly)
  kPreconditionFailed,  // 412 If-Match / If-None-Exist with several matches
  kTooLarge,            // 413 body, bundle entries
  kUnsupportedMedia,    // 415
  kBusinessRule,        // 422 well-formed but breaks a rule (unknown patient, not eligible)
  kRateLimited,         // 429
  kInternal,            // 500 a code or environment failure
  kUnavailable,         // 503 database busy beyond retries, shutting down
  kRetryable,           // internal: serialization failure / SQLITE_BUSY; retried by the store
};

struct ErrorCodeInfo {
  int http_status;
  std::string_view fhir_issue_type;  // OperationOutcome.issue.code
  std::string_view name;
};
const ErrorCodeInfo& InfoOf(ErrorCode code);

// One problem found in input, with the FHIR element path (e.g. "Patient.name[0].family").
struct Issue {
  enum class Severity { kFatal, kError, kWarning, kInformation };
  Severity severity = Severity::kError;
  std::string type;        // FHIR issue type; empty means "derive from the error code"
  std::string expression;  // element path, may be empty
  std::string text;        // human-readable, never contains patient identifiers in logs
};

// An error: a code, a message for the caller, and optionally every issue found (for
// validation, all issues are returned at once in one OperationOutcome).
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Error(ErrorCode code, std::string message, std::vector<Issue> issues)
      : code_(code), message_(std::move(message)), issues_(std::move(issues)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<Issue>& issues() const { return issues_; }
  int http_status() const { return InfoOf(code_).http_status; }
  // "code: message" for logs and test failure messages.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<Issue> issues_;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error(code, std::move(message));
}

// Result<T>: a value or an Error. Result<void> is spelled Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(data_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT implicit
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return *error_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;
inline Status Ok() {
  return Status();
}

}  // namespace renkei

#define RENKEI_CONCAT_INNER(a, b) a##b
#define RENKEI_CONCAT(a, b) RENKEI_CONCAT_INNER(a, b)

// RK_TRY(expr): return the error of a Status/Result expression, else continue.
#define RK_TRY(expr)                                                    \
  do {                                                                  \
    auto&& rk_try_result_ = (expr);                                     \
    if (!rk_try_result_.ok()) return std::move(rk_try_result_).error(); \
  } while (0)

// RK_ASSIGN_OR_RETURN(auto x, expr): bind the value of a Result or return its error.
#define RK_ASSIGN_OR_RETURN(lhs, expr) \
  RK_ASSIGN_OR_RETURN_IMPL(RENKEI_CONCAT(rk_result_, __LINE__), lhs, expr)
#define RK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).error();  \
  lhs = std::move(tmp).value()
