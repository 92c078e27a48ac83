#include "registry/patient_read_policy.h"

#include <fmt/format.h>

#include "core/text.h"
#include "fhir/validation.h"
#include "registry/identifiers.h"
#include "registry/kind_helpers.h"

namespace renkei::registry {
namespace {

Error Forbidden(std::string reason) {
  return Error(ErrorCode::kForbidden, std::move(reason));
}

bool IsMinistry(const Principal& who) {
  return who.facility_type == FacilityType::kMinistry;
}
bool IsInsurer(const Principal& who) {
  return who.facility_type == FacilityType::kInsurer;
}

}  // namespace

Result<std::optional<std::string>> InsurerOrganizationId(store::Transaction& tx,
                                                         std::string_view insurer_number) {
  store::SearchQuery q;
  q.type = "Organization";
  q.criteria.push_back({"identifier",
                        store::MatchOp::kEq,
                        true,
                        std::string(kInsurerNumberSystem),
                        {std::string(insurer_number)}});
  q.count = 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(auto page, tx.Search(q));
  if (page.rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(page.rows[0].id);
}

Result<std::optional<std::string>> PayorInsurerNumber(store::Transaction& tx,
                                                      const json::object& coverage) {
  const json::array* payors = json::GetArray(coverage, "payor");
  if (payors == nullptr || payors->empty() || !(*payors)[0].is_object()) {
    return std::optional<std::string>();
  }
  const json::object& payor = (*payors)[0].get_object();
  if (const json::object* ident = json::GetObject(payor, "identifier")) {
    if (json::GetString(*ident, "system") == kInsurerNumberSystem) {
      if (auto v = json::GetString(*ident, "value")) return std::optional<std::string>(*v);
    }
  }
  auto ref = json::GetString(payor, "reference");
  if (!ref) return std::optional<std::string>();
  auto parsed = fhir::ParseReference(*ref);
  if (!parsed || parsed->first != "Organization") return std::optional<std::string>();
  RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent("Organization", parsed->second));
  if (!row || row->deleted) return std::optional<std::string>();
  auto org = json::ParseObject(row->json, Limits{});
  if (!org.ok()) return Error(ErrorCode::kInternal, "a stored Organization is not JSON");
  if (const json::array* ids = json::GetArray(*org, "identifier")) {
    for (const auto& id : *ids) {
      if (!id.is_object()) continue;
      if (json::GetString(id.get_object(), "system") == kInsurerNumberSystem) {
        if (auto v = json::GetString(id.get_object(), "value"))
          return std::optional<std::string>(*v);
      }
    }
  }
  return std::optional<std::string>();
}

Status CheckPatientSearch(const Principal& who) {
  if (who.kind == PrincipalKind::kPatient || IsMinistry(who) || IsInsurer(who)) return Ok();
  if (who.qualification == Qualification::kClerk) {
    return Forbidden("clerks may verify eligibility but not read patient records");
  }
  if (who.kind == PrincipalKind::kPractitioner && IsClinicallyQualified(who.qualification)) {
    return Ok();
  }
  return Forbidden("only qualified staff may read patient records");
}

Result<std::optional<std::vector<store::Criterion>>> CoverageSearchScope(const Principal& who,
                                                                         store::Transaction& tx) {
  using Scope = std::optional<std::vector<store::Criterion>>;
  if (!IsInsurer(who)) return Scope(std::vector<store::Criterion>());
  RK_ASSIGN_OR_RETURN(auto org, InsurerOrganizationId(tx, who.facility_code));
  if (!org) return Scope();
  std::vector<store::Criterion> criteria;
  criteria.push_back(
      {"payor", store::MatchOp::kEq, false, "", {fmt::format("Organization/{}", *org)}});
  return Scope(std::move(criteria));
}

Status DirectoryWritePolicy(WriteContext& ctx, const json::object&) {
  if (IsMinistry(ctx.who)) return Ok();
  return Forbidden("only the ministry maintains the facility and practitioner registry");
}

Result<std::string> DirectoryReadPolicy(const Principal&, store::Transaction&,
                                        const store::ResourceRow&) {
  return std::string("HOPERAT");
}

Status PatientWritePolicy(WriteContext& ctx, const json::object& resource) {
  if (IsMinistry(ctx.who)) return Ok();
  if (!IsInsurer(ctx.who)) return Forbidden("only insurers and the ministry register patients");
  // An insurer registers the people it insures (DOMAIN.md §1, online eligibility): the
  // insured-person id (insurer:symbol:number:branch) names the insurer. Checked on the stored
  // version of an update too, so no insurer rewrites another's insured person.
  auto member = IdentifierValue(resource, kMemberIdSystem);
  if (member) {
    const std::string folded = text::SearchKey(*member);
    if (folded.substr(0, folded.find(':')) == ctx.who.facility_code) return Ok();
  }
  return Forbidden(
      "an insurer may write only the Patients whose insured-person id carries its own insurer "
      "number");
}

Status CoverageWritePolicy(WriteContext& ctx, const json::object& resource) {
  if (IsMinistry(ctx.who)) return Ok();
  if (!IsInsurer(ctx.who)) return Forbidden("only insurers and the ministry write Coverage");
  RK_ASSIGN_OR_RETURN(auto number, PayorInsurerNumber(ctx.tx, resource));
  if (number && *number == ctx.who.facility_code) return Ok();
  return Forbidden("an insurer may write only Coverage whose payor is its own insurer number");
}

}  // namespace renkei::registry
