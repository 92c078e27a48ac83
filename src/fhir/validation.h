// Validation of FHIR resources as data (STYLE.md habit 6, google/fhir): every problem is
// collected with its element path and returned at once as one Error, never thrown.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace renkei::fhir {

// Gathers the problems found in one request's data. Structural problems make a kInvalid
// error (400); when every problem is a business rule the error is kBusinessRule (422).
class IssueCollector {
 public:
  // Malformed data at path, e.g. ("Patient.name[0].family", "must be a string").
  void Invalid(std::string path, std::string text);
  // Well-formed data breaking a rule at path (e.g. an unknown payor).
  void Rule(std::string path, std::string text);
  // Copies other's issues, replacing the leading resource type of each path with prefix
  // (e.g. "Bundle.entry[2].resource"), so bundle entries report where they are.
  void Merge(const IssueCollector& other, std::string_view prefix);

  bool empty() const { return issues_.empty(); }
  size_t size() const { return issues_.size(); }
  const std::vector<Issue>& issues() const { return issues_; }
  // True when some issue was recorded at exactly this path.
  bool HasPath(std::string_view path) const;

  // Ok when nothing was collected, else one Error carrying every issue; summary is its
  // message (e.g. "Patient is not valid").
  Status ToStatus(std::string_view summary) const;

 private:
  std::vector<Issue> issues_;
  bool any_invalid_ = false;
};

// "path.key" and "path[i]": element path builders.
std::string Child(std::string_view path, std::string_view key);
std::string Index(std::string_view path, size_t i);

// Generic FHIR JSON rules for a whole resource: resourceType equals type, id (when present)
// is a FHIR id, and no value is null, an empty string, an empty array or an empty object
// (FHIR JSON §2.6.2). Paths start with type.
void CheckResourceShape(const json::object& resource, std::string_view type, IssueCollector& c);

// Typed member checks. Each reports into c and returns the value when it is usable.
std::optional<std::string_view> RequireString(const json::object& o, std::string_view key,
                                              std::string_view path, IssueCollector& c);
std::optional<std::string_view> OptionalString(const json::object& o, std::string_view key,
                                               std::string_view path, IssueCollector& c);
const json::array* OptionalArray(const json::object& o, std::string_view key, std::string_view path,
                                 IssueCollector& c);
// True for FHIR date YYYY, YYYY-MM or YYYY-MM-DD with a real calendar day.
bool IsFhirDate(std::string_view text);
// A literal relative reference "Type/id" split in two; nullopt otherwise.
std::optional<std::pair<std::string, std::string>> ParseReference(std::string_view reference);
// Every string in the resource is valid UTF-8 (the parser guarantees it; kept for callers
// that build resources by hand).
bool AllStringsValidUtf8(const json::value& v);

}  // namespace renkei::fhir
