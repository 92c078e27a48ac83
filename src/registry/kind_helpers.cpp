#include "registry/kind_helpers.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"
#include "registry/identifiers.h"

namespace renkei::registry {

using fhir::Child;
using fhir::Index;

void ValidateExtensions(const json::object& r, std::string_view path, fhir::IssueCollector& c) {
  const json::array* exts = fhir::OptionalArray(r, "extension", path, c);
  if (exts == nullptr) return;
  for (size_t i = 0; i < exts->size(); ++i) {
    std::string p = Index(Child(path, "extension"), i);
    if (!(*exts)[i].is_object()) {
      c.Invalid(p, "an extension must be an object");
      continue;
    }
    fhir::RequireString((*exts)[i].get_object(), "url", p, c);
  }
}

const json::object* FindExtension(const json::object& r, std::string_view url) {
  const json::array* exts = json::GetArray(r, "extension");
  if (exts == nullptr) return nullptr;
  for (const auto& e : *exts) {
    if (e.is_object() && json::GetString(e.get_object(), "url") == url) return &e.get_object();
  }
  return nullptr;
}

void ValidateHumanNames(const json::object& r, std::string_view path, fhir::IssueCollector& c,
                        bool required) {
  const json::array* names = fhir::OptionalArray(r, "name", path, c);
  std::string base = Child(path, "name");
  if (names == nullptr) {
    if (required && json::Find(r, "name") == nullptr)
      c.Invalid(base, "at least one name is required");
    return;
  }
  for (size_t i = 0; i < names->size(); ++i) {
    std::string p = Index(base, i);
    if (!(*names)[i].is_object()) {
      c.Invalid(p, "a name must be an object");
      continue;
    }
    const json::object& n = (*names)[i].get_object();
    ValidateExtensions(n, p, c);
    if (const json::object* rep = FindExtension(n, kNameRepresentationExtension)) {
      auto code = json::GetString(*rep, "valueCode");
      if (!code || (*code != "IDE" && *code != "SYL" && *code != "ABC")) {
        c.Invalid(Child(p, "extension"),
                  "the name representation must be IDE (kanji), SYL (kana) or ABC (alphabet)");
      }
    }
    auto family = fhir::OptionalString(n, "family", p, c);
    if (family && family->find("\xe3\x80\x80") != std::string_view::npos) {
      c.Invalid(Child(p, "family"), "names must not contain a full-width space (U+3000)");
    }
    bool has_given = false;
    if (const json::array* given = fhir::OptionalArray(n, "given", p, c)) {
      for (size_t g = 0; g < given->size(); ++g) {
        std::string gp = Index(Child(p, "given"), g);
        if (!(*given)[g].is_string()) {
          c.Invalid(gp, "given must be strings");
          continue;
        }
        has_given = true;
        if (std::string_view((*given)[g].get_string()).find("\xe3\x80\x80") !=
            std::string_view::npos) {
          c.Invalid(gp, "names must not contain a full-width space (U+3000)");
        }
      }
    }
    auto text = fhir::OptionalString(n, "text", p, c);
    if (!family && !has_given && !text) c.Invalid(p, "a name needs family, given or text");
    if (auto use = fhir::OptionalString(n, "use", p, c)) {
      static const std::vector<std::string_view> kUses = {
          "usual", "official", "temp", "nickname", "anonymous", "old", "maiden"};
      if (std::find(kUses.begin(), kUses.end(), *use) == kUses.end()) {
        c.Invalid(Child(p, "use"), "not a HumanName use code");
      }
    }
  }
}

namespace {

void AddKey(std::vector<store::IndexTerm>& terms, std::string_view param, std::string_view text) {
  std::string key = text::SearchKey(text);
  if (key.empty()) return;
  for (const auto& t : terms)
    if (t.param == param && t.value == key) return;
  terms.push_back({std::string(param), "", std::move(key)});
}

}  // namespace

void IndexHumanNames(const json::object& r, std::vector<store::IndexTerm>& terms) {
  const json::array* names = json::GetArray(r, "name");
  if (names == nullptr) return;
  for (const auto& v : *names) {
    if (!v.is_object()) continue;
    const json::object& n = v.get_object();
    std::string whole;
    if (auto family = json::GetString(n, "family")) {
      AddKey(terms, "name", *family);
      whole += *family;
    }
    if (const json::array* given = json::GetArray(n, "given")) {
      for (const auto& g : *given) {
        if (!g.is_string()) continue;
        AddKey(terms, "name", g.get_string());
        whole += std::string_view(g.get_string());
      }
    }
    AddKey(terms, "name", whole);
    if (auto text = json::GetString(n, "text")) AddKey(terms, "name", *text);
  }
}

void ValidateIdentifiers(const json::object& r, std::string_view path, fhir::IssueCollector& c) {
  const json::array* ids = fhir::OptionalArray(r, "identifier", path, c);
  if (ids == nullptr) return;
  for (size_t i = 0; i < ids->size(); ++i) {
    std::string p = Index(Child(path, "identifier"), i);
    if (!(*ids)[i].is_object()) {
      c.Invalid(p, "an identifier must be an object");
      continue;
    }
    const json::object& id = (*ids)[i].get_object();
    fhir::RequireString(id, "system", p, c);
    fhir::RequireString(id, "value", p, c);
  }
}

void IndexIdentifiers(const json::object& r, std::vector<store::IndexTerm>& terms) {
  const json::array* ids = json::GetArray(r, "identifier");
  if (ids == nullptr) return;
  for (const auto& v : *ids) {
    if (!v.is_object()) continue;
    auto system = json::GetString(v.get_object(), "system");
    auto value = json::GetString(v.get_object(), "value");
    if (!system || !value) continue;
    terms.push_back({"identifier", std::string(*system), text::SearchKey(*value)});
  }
}

std::optional<std::string_view> IdentifierValue(const json::object& r, std::string_view system) {
  const json::array* ids = json::GetArray(r, "identifier");
  if (ids == nullptr) return std::nullopt;
  for (const auto& v : *ids) {
    if (!v.is_object()) continue;
    if (json::GetString(v.get_object(), "system") == system) {
      return json::GetString(v.get_object(), "value");
    }
  }
  return std::nullopt;
}

bool AllDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool IsValidMemberId(std::string_view value) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || value[i] == ':') {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 4) return false;
  if (!AllDigits(parts[0], 8)) return false;
  for (size_t k = 1; k <= 2; ++k) {
    std::string_view p = parts[k];
    for (char ch : p) {
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
        return false;
      }
    }
    if (p.find("\xe3\x80\x80") != std::string_view::npos) return false;  // U+3000
    if (p.find("\xc2\xa0") != std::string_view::npos) return false;      // U+00A0
  }
  return parts[3].empty() || AllDigits(parts[3], 2);
}

bool IsValidInstitutionNo(std::string_view value) {
  if (!AllDigits(value, 10)) return false;
  int prefecture = (value[0] - '0') * 10 + (value[1] - '0');
  char table = value[2];
  return prefecture >= 1 && prefecture <= 47 && (table == '1' || table == '3' || table == '4');
}

std::optional<std::string_view> CodeIn(const json::object& o, std::string_view key,
                                       std::string_view system) {
  const json::value* v = json::Find(o, key);
  if (v == nullptr) return std::nullopt;
  auto in_concept = [&](const json::value& cc) -> std::optional<std::string_view> {
    if (!cc.is_object()) return std::nullopt;
    const json::array* codings = json::GetArray(cc.get_object(), "coding");
    if (codings == nullptr) return std::nullopt;
    for (const auto& coding : *codings) {
      if (coding.is_object() && json::GetString(coding.get_object(), "system") == system) {
        return json::GetString(coding.get_object(), "code");
      }
    }
    return std::nullopt;
  };
  if (v->is_array()) {
    for (const auto& cc : v->get_array()) {
      if (auto code = in_concept(cc)) return code;
    }
    return std::nullopt;
  }
  return in_concept(*v);
}

std::optional<std::string_view> ReferenceAt(const json::object& o, std::string_view key) {
  const json::object* ref = json::GetObject(o, key);
  if (ref == nullptr) return std::nullopt;
  return json::GetString(*ref, "reference");
}

std::optional<std::string> RequireReference(const json::object& o, std::string_view key,
                                            std::string_view type, std::string_view path,
                                            fhir::IssueCollector& c) {
  std::string p = Child(path, key);
  auto ref = ReferenceAt(o, key);
  if (!ref) {
    c.Invalid(p, fmt::format("a reference to a {} is required", type));
    return std::nullopt;
  }
  auto parsed = fhir::ParseReference(*ref);
  if (!parsed || parsed->first != type) {
    c.Invalid(Child(p, "reference"), fmt::format("must be {}/<id>", type));
    return std::nullopt;
  }
  return parsed->second;
}

}  // namespace renkei::registry
