#include "fhir/validation.h"

#include <fmt/format.h>

#include <chrono>

#include "core/ids.h"
#include "core/text.h"

namespace renkei::fhir {

void IssueCollector::Invalid(std::string path, std::string text) {
  issues_.push_back(Issue{Issue::Severity::kError, "invalid", std::move(path), std::move(text)});
  any_invalid_ = true;
}

void IssueCollector::Rule(std::string path, std::string text) {
  issues_.push_back(
      Issue{Issue::Severity::kError, "business-rule", std::move(path), std::move(text)});
}

void IssueCollector::Merge(const IssueCollector& other, std::string_view prefix) {
  for (Issue issue : other.issues_) {
    std::string_view p = issue.expression;
    size_t dot = p.find_first_of(".[");
    std::string rest = dot == std::string_view::npos ? std::string() : std::string(p.substr(dot));
    issue.expression = std::string(prefix) + rest;
    issues_.push_back(std::move(issue));
  }
  any_invalid_ = any_invalid_ || other.any_invalid_;
}

bool IssueCollector::HasPath(std::string_view path) const {
  for (const auto& i : issues_)
    if (i.expression == path) return true;
  return false;
}

Status IssueCollector::ToStatus(std::string_view summary) const {
  if (issues_.empty()) return Ok();
  return Error(any_invalid_ ? ErrorCode::kInvalid : ErrorCode::kBusinessRule,
               fmt::format("{}: {} issue(s)", summary, issues_.size()), issues_);
}

std::string Child(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string Index(std::string_view path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

namespace {

void CheckValueShape(const json::value& v, const std::string& path, IssueCollector& c) {
  switch (v.kind()) {
    case boost::json::kind::null:
      c.Invalid(path, "null is not allowed in FHIR JSON");
      break;
    case boost::json::kind::string:
      if (v.get_string().empty()) c.Invalid(path, "empty strings are not allowed in FHIR JSON");
      break;
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) c.Invalid(path, "empty arrays are not allowed in FHIR JSON");
      for (size_t i = 0; i < a.size(); ++i) CheckValueShape(a[i], Index(path, i), c);
      break;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) c.Invalid(path, "empty objects are not allowed in FHIR JSON");
      for (const auto& kv : o) CheckValueShape(kv.value(), Child(path, kv.key()), c);
      break;
    }
    default:
      break;
  }
}

}  // namespace

void CheckResourceShape(const json::object& resource, std::string_view type, IssueCollector& c) {
  std::string root(type);
  auto rt = json::GetString(resource, "resourceType");
  if (!rt) {
    c.Invalid(Child(root, "resourceType"), "resourceType is required");
  } else if (*rt != type) {
    c.Invalid(Child(root, "resourceType"), fmt::format("expected {}", type));
  }
  if (const json::value* id = json::Find(resource, "id")) {
    if (!id->is_string() || !IsValidFhirId(id->get_string())) {
      c.Invalid(Child(root, "id"), "id must match [A-Za-z0-9\\-\\.]{1,64}");
    }
  }
  if (const json::value* meta = json::Find(resource, "meta"); meta && !meta->is_object()) {
    c.Invalid(Child(root, "meta"), "meta must be an object");
  }
  for (const auto& kv : resource) {
    if (kv.key() == "resourceType") continue;
    CheckValueShape(kv.value(), Child(root, kv.key()), c);
  }
}

std::optional<std::string_view> RequireString(const json::object& o, std::string_view key,
                                              std::string_view path, IssueCollector& c) {
  const json::value* v = json::Find(o, key);
  std::string p = Child(path, key);
  if (v == nullptr) {
    c.Invalid(p, fmt::format("{} is required", key));
    return std::nullopt;
  }
  if (!v->is_string()) {
    c.Invalid(p, fmt::format("{} must be a string", key));
    return std::nullopt;
  }
  if (v->get_string().empty()) return std::nullopt;  // reported by CheckResourceShape
  return std::string_view(v->get_string());
}

std::optional<std::string_view> OptionalString(const json::object& o, std::string_view key,
                                               std::string_view path, IssueCollector& c) {
  const json::value* v = json::Find(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    c.Invalid(Child(path, key), fmt::format("{} must be a string", key));
    return std::nullopt;
  }
  if (v->get_string().empty()) return std::nullopt;
  return std::string_view(v->get_string());
}

const json::array* OptionalArray(const json::object& o, std::string_view key, std::string_view path,
                                 IssueCollector& c) {
  const json::value* v = json::Find(o, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    c.Invalid(Child(path, key), fmt::format("{} must be an array", key));
    return nullptr;
  }
  return &v->get_array();
}

bool IsFhirDate(std::string_view s) {
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i)
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    return true;
  };
  if (s.size() != 4 && s.size() != 7 && s.size() != 10) return false;
  if (!digits(0, 4)) return false;
  int year = std::stoi(std::string(s.substr(0, 4)));
  unsigned month = 1, day = 1;
  if (s.size() >= 7) {
    if (s[4] != '-' || !digits(5, 2)) return false;
    month = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
  }
  if (s.size() == 10) {
    if (s[7] != '-' || !digits(8, 2)) return false;
    day = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  return ymd.ok();
}

std::optional<std::pair<std::string, std::string>> ParseReference(std::string_view reference) {
  size_t slash = reference.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::string_view type = reference.substr(0, slash);
  std::string_view id = reference.substr(slash + 1);
  for (char ch : type)
    if (!std::isalpha(static_cast<unsigned char>(ch))) return std::nullopt;
  if (!std::isupper(static_cast<unsigned char>(type[0])) || !IsValidFhirId(id)) return std::nullopt;
  return std::make_pair(std::string(type), std::string(id));
}

bool AllStringsValidUtf8(const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return text::IsValidUtf8(v.get_string());
    case boost::json::kind::array:
      for (const auto& e : v.get_array())
        if (!AllStringsValidUtf8(e)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!text::IsValidUtf8(kv.key()) || !AllStringsValidUtf8(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace renkei::fhir
