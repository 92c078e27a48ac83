// Validation and indexing pieces shared by the registry kinds (names, identifiers, codings,
// references), so each kind's file states only its own rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "fhir/validation.h"
#include "store/store.h"

namespace renkei::registry {

// HumanName[] at path.key: each name an object with family/given/text (at least one), given
// an array of strings, the IDE/SYL representation extension valid when present, and no
// full-width space inside family or given (JP-CLINS name rule). required: at least one name.
void ValidateHumanNames(const json::object& r, std::string_view path, fhir::IssueCollector& c,
                        bool required);
// "name" terms: the search key of every part, of the text and of family+given together.
void IndexHumanNames(const json::object& r, std::vector<store::IndexTerm>& terms);

// Identifier[] at path.identifier: objects with a string system and value.
void ValidateIdentifiers(const json::object& r, std::string_view path, fhir::IssueCollector& c);
// "identifier" terms: (system, text::SearchKey(value)) for each identifier.
void IndexIdentifiers(const json::object& r, std::vector<store::IndexTerm>& terms);
// The value of the first identifier with this system.
std::optional<std::string_view> IdentifierValue(const json::object& r, std::string_view system);

// True for the insured-person id insurer(8):symbol:number:branch (JP-FHIR.md regex
// ^[0-9]{8}:[^:\s　]*:[^:\s　]*:(|[0-9]{2})$).
bool IsValidMemberId(std::string_view value);
// True for a 10-digit medical institution code: prefecture 01-47, point table 1, 3 or 4.
bool IsValidInstitutionNo(std::string_view value);
bool AllDigits(std::string_view s, size_t n);

// The code of the first coding with system inside the CodeableConcept(s) at o[key] (an
// object or an array of objects).
std::optional<std::string_view> CodeIn(const json::object& o, std::string_view key,
                                       std::string_view system);
// The reference string at o[key].reference.
std::optional<std::string_view> ReferenceAt(const json::object& o, std::string_view key);
// Reports o[key] unless it is {"reference":"<type>/<id>"}; returns the id.
std::optional<std::string> RequireReference(const json::object& o, std::string_view key,
                                            std::string_view type, std::string_view path,
                                            fhir::IssueCollector& c);
// The extension object with this url at r.extension, or nullptr.
const json::object* FindExtension(const json::object& r, std::string_view url);
// Reports extension[] entries that are not objects with a string url.
void ValidateExtensions(const json::object& r, std::string_view path, fhir::IssueCollector& c);

}  // namespace renkei::registry
