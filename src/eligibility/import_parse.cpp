#include "eligibility/import_parse.h"

#include <fmt/format.h>

#include <map>

namespace renkei::eligibility {
namespace {

Issue At(size_t line, std::string_view path, std::string text) {
  Issue i;
  i.expression =
      path.empty() ? fmt::format("line[{}]", line) : fmt::format("line[{}].{}", line, path);
  i.text = std::move(text);
  return i;
}

// The insured-person identifier among identifier[], parsed; reports what is wrong otherwise.
std::optional<InsuredNumber> MemberIdOf(const json::object& r, size_t line,
                                        std::vector<Issue>& issues) {
  const json::array* ids = json::GetArray(r, "identifier");
  if (ids) {
    for (size_t i = 0; i < ids->size(); ++i) {
      const json::object* id = (*ids)[i].if_object();
      if (!id) continue;
      auto system = json::GetString(*id, "system");
      if (!system || *system != kMemberIdSystem) continue;
      auto value = json::GetString(*id, "value");
      auto parsed = value ? ParseMemberId(*value) : std::nullopt;
      if (!parsed) {
        issues.push_back(
            At(line, fmt::format("identifier[{}].value", i),
               "the insured-person identifier must be insurer(8):symbol:number:branch"));
      }
      return parsed;
    }
  }
  issues.push_back(At(line, "identifier",
                      fmt::format("an identifier with system {} is required", kMemberIdSystem)));
  return std::nullopt;
}

}  // namespace

std::string InsurerNumberOf(std::string_view facility_code) {
  std::string code = FoldDigits(facility_code);
  if (code.size() == 6) code = "00" + code;
  return code;
}

Result<std::vector<ImportLine>> ParseImport(std::string_view body, std::string_view insurer,
                                            const Limits& limits) {
  std::vector<ImportLine> out;
  std::vector<Issue> issues;
  std::vector<Issue> foreign;
  std::map<std::string, size_t, std::less<>> patient_lines;
  std::map<std::string, size_t, std::less<>> coverage_lines;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    auto parsed = json::ParseObject(line, limits);
    if (!parsed.ok()) {
      issues.push_back(At(line_no, "", parsed.error().message()));
      continue;
    }
    ImportLine item;
    item.line = line_no;
    item.resource = std::move(parsed).value();
    auto type = json::GetString(item.resource, "resourceType");
    if (!type || (*type != "Patient" && *type != "Coverage")) {
      issues.push_back(At(line_no, "resourceType", "each line must be a Patient or a Coverage"));
      continue;
    }
    item.type = std::string(*type);
    const size_t before = issues.size();
    auto member = MemberIdOf(item.resource, line_no, issues);
    if (member) {
      item.member_key = MemberIdKey(*member);
      if (member->insurer != insurer) {
        foreign.push_back(
            At(line_no, "identifier", "the insured person belongs to another insurer"));
      }
      auto& seen = item.type == "Patient" ? patient_lines : coverage_lines;
      auto [it, fresh] = seen.emplace(item.member_key, line_no);
      if (!fresh) {
        issues.push_back(At(line_no, "identifier",
                            fmt::format("the same insured person is also on line {}", it->second)));
      }
    }
    if (item.type == "Coverage") {
      if (const json::array* payors = json::GetArray(item.resource, "payor")) {
        for (const auto& p : *payors) {
          const json::object* po = p.if_object();
          const json::object* id = po ? json::GetObject(*po, "identifier") : nullptr;
          if (!id) continue;
          auto system = json::GetString(*id, "system");
          auto value = json::GetString(*id, "value");
          if (system && *system == kInsurerNumberSystem && value &&
              InsurerNumberOf(*value) != insurer) {
            foreign.push_back(At(line_no, "payor", "the coverage is paid by another insurer"));
          }
        }
      }
      const json::object* b = json::GetObject(item.resource, "beneficiary");
      auto ref = b ? json::GetString(*b, "reference") : std::nullopt;
      const json::object* bid = b ? json::GetObject(*b, "identifier") : nullptr;
      if (ref) {
        if (!ref->starts_with("Patient/") || ref->size() == 8) {
          issues.push_back(At(line_no, "beneficiary.reference", "must be Patient/<id>"));
        } else {
          item.beneficiary_id = std::string(ref->substr(8));
        }
      } else if (bid) {
        auto system = json::GetString(*bid, "system");
        auto value = json::GetString(*bid, "value");
        auto n = value ? ParseMemberId(*value) : std::nullopt;
        if (!system || *system != kMemberIdSystem || !n) {
          issues.push_back(At(line_no, "beneficiary.identifier",
                              "a logical beneficiary reference must be the insured-person "
                              "identifier"));
        } else {
          item.beneficiary_key = MemberIdKey(*n);
        }
      } else {
        issues.push_back(At(line_no, "beneficiary", "a Coverage needs its beneficiary"));
      }
    }
    if (issues.size() == before) out.push_back(std::move(item));
  }
  if (!foreign.empty()) {
    return Error(ErrorCode::kForbidden, "an insurer may load only its own members' coverages",
                 std::move(foreign));
  }
  if (!issues.empty()) {
    return Error(ErrorCode::kInvalid, "invalid coverage load; nothing was stored",
                 std::move(issues));
  }
  if (out.empty()) return Error(ErrorCode::kInvalid, "the load holds no resources");
  return out;
}

}  // namespace renkei::eligibility
