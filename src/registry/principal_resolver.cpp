#include "registry/principal_resolver.h"

#include <fmt/format.h>

#include "core/ids.h"
#include "core/json.h"
#include "core/text.h"
#include "registry/identifiers.h"
#include "registry/kind_helpers.h"

namespace renkei::registry {

Result<Principal> ResolvePrincipal(store::Store& store, std::string_view practitioner_id,
                                   std::string_view facility_code) {
  if (!IsValidFhirId(practitioner_id)) {
    return Error(ErrorCode::kNotFound, "no such practitioner");
  }
  if (facility_code.empty()) return Error(ErrorCode::kNotFound, "no such facility");
  return store::RunInTransactionWithResult<Principal>(
      store, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Principal> {
        // The facility by its code, whichever identifier system carries it.
        store::SearchQuery oq;
        oq.type = "Organization";
        oq.criteria.push_back(
            {"identifier", store::MatchOp::kEq, false, "", {text::SearchKey(facility_code)}});
        oq.count = 2;
        oq.include_total = false;
        RK_ASSIGN_OR_RETURN(store::SearchPage orgs, tx.Search(oq));
        if (orgs.rows.empty()) return Error(ErrorCode::kNotFound, "no such facility");
        if (orgs.rows.size() > 1) {
          return Error(ErrorCode::kConflict, "the facility code names several organizations");
        }
        const store::ResourceRow& org_row = orgs.rows[0];

        store::SearchQuery rq;
        rq.type = "PractitionerRole";
        rq.criteria.push_back({"practitioner",
                               store::MatchOp::kEq,
                               false,
                               "",
                               {fmt::format("Practitioner/{}", practitioner_id)}});
        rq.criteria.push_back({"organization",
                               store::MatchOp::kEq,
                               false,
                               "",
                               {fmt::format("Organization/{}", org_row.id)}});
        rq.criteria.push_back({"active", store::MatchOp::kEq, false, "", {"true"}});
        rq.count = 1;
        rq.include_total = false;
        RK_ASSIGN_OR_RETURN(store::SearchPage roles, tx.Search(rq));
        if (roles.rows.empty()) {
          RK_ASSIGN_OR_RETURN(auto pr, tx.ReadCurrent("Practitioner", practitioner_id));
          if (!pr || pr->deleted) return Error(ErrorCode::kNotFound, "no such practitioner");
          return Error(ErrorCode::kForbidden,
                       "the practitioner holds no active role at this facility");
        }
        auto role = json::ParseObject(roles.rows[0].json, Limits{});
        auto org = json::ParseObject(org_row.json, Limits{});
        if (!role.ok() || !org.ok()) return Error(ErrorCode::kInternal, "stored JSON is broken");

        Principal p;
        p.kind = PrincipalKind::kPractitioner;
        p.subject = std::string(practitioner_id);
        p.practitioner_id = std::string(practitioner_id);
        p.facility_code = std::string(facility_code);
        auto qual = CodeIn(*role, "code", kQualificationSystem);
        if (!qual || !ParseQualification(*qual, p.qualification)) {
          return Error(ErrorCode::kInternal, "a stored PractitionerRole has no qualification");
        }
        auto type = CodeIn(*org, "type", kFacilityTypeSystem);
        if (!type || !ParseFacilityType(*type, p.facility_type)) {
          return Error(ErrorCode::kInternal, "a stored Organization has no facility type");
        }
        if (const json::object* ext = FindExtension(*org, kPrefectureExtension)) {
          if (const json::object* coding = json::GetObject(*ext, "valueCoding")) {
            p.prefecture = std::string(json::GetString(*coding, "code").value_or(""));
          }
        }
        if (p.prefecture.empty() && facility_code.size() == 10) {
          p.prefecture = std::string(facility_code.substr(0, 2));
        }
        if (const json::object* ext = FindExtension(*org, kEmergencyHospitalExtension)) {
          p.emergency_hospital = p.facility_type == FacilityType::kHospital &&
                                 json::GetBool(*ext, "valueBoolean").value_or(false);
        }
        if (const json::object* ext = FindExtension(*org, kNursesMayViewExtension)) {
          p.nurses_may_view = json::GetBool(*ext, "valueBoolean").value_or(false);
        }
        return p;
      });
}

}  // namespace renkei::registry
