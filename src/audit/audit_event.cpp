#include "audit/audit_event.h"

#include <array>
#include <string>

#include "core/clock.h"

namespace renkei::audit {
namespace {

constexpr std::string_view kDicomSystem = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kEventTypeSystem =
    "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr std::string_view kRestfulSystem = "http://hl7.org/fhir/restful-interaction";
constexpr std::string_view kEntityTypeSystem =
    "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr std::string_view kSourceTypeSystem =
    "http://terminology.hl7.org/CodeSystem/security-source-type";

json::object Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  json::object c;
  c["system"] = system;
  c["code"] = code;
  if (!display.empty()) c["display"] = display;
  return c;
}

json::object Concept(json::object coding) {
  json::array codings;
  codings.emplace_back(std::move(coding));
  json::object cc;
  cc["coding"] = std::move(codings);
  return cc;
}

struct ActReason {
  std::string_view code;
  std::string_view display;
};

// The v3-ActReason codes renkei records (DESIGN.md §5 legal bases, DOMAIN.md §1).
constexpr std::array<ActReason, 6> kActReasons = {{
    {"TREAT", "treatment"},
    {"ETREAT", "Emergency Treatment"},
    {"PATRQT", "patient requested"},
    {"HRESCH", "healthcare research"},
    {"COVERAGE", "coverage under policy or program"},
    {"HOPERAT", "healthcare operations"},
}};

// The restful-interaction code of a REST action, or "" for actions that are not one.
std::string_view RestfulCode(std::string_view action) {
  if (action == "read" || action == "vread" || action == "create" || action == "update" ||
      action == "delete" || action == "search" || action == "history") {
    return action;
  }
  if (action == "verify") return "operation";  // $verify-eligibility
  return {};
}

// C/R/U/D/E of http://hl7.org/fhir/audit-event-action.
std::string_view ActionCode(std::string_view action) {
  if (action == "create") return "C";
  if (action == "read" || action == "vread" || action == "search" || action == "history") {
    return "R";
  }
  if (action == "update") return "U";
  if (action == "delete" || action == "purge") return "D";
  return "E";
}

std::string_view OutcomeCode(std::string_view outcome) {
  if (outcome == "success") return "0";
  if (outcome == "denied") return "4";  // minor failure: the request was refused
  return "8";                           // serious failure: the request could not be done
}

json::object EventType(const store::AuditRow& row) {
  if (!RestfulCode(row.action).empty()) {
    return Coding(kEventTypeSystem, "rest", "RESTful Operation");
  }
  if (row.action == "login" || row.action == "token") {
    return Coding(kDicomSystem, "110114", "User Authentication");
  }
  if (!row.patient_id.empty()) return Coding(kDicomSystem, "110110", "Patient Record");
  return Coding(kDicomSystem, "110100", "Application Activity");
}

json::array Subtypes(const store::AuditRow& row) {
  json::array out;
  std::string_view restful = RestfulCode(row.action);
  if (!restful.empty()) out.emplace_back(Coding(kRestfulSystem, restful));
  if (row.action == "login" || row.action == "token") {
    out.emplace_back(Coding(kDicomSystem, "110122", "Login"));
  }
  out.emplace_back(Coding(kActionSystem, row.action));
  return out;
}

json::array Agents(const store::AuditRow& row) {
  json::array agents;
  json::object facility_who;
  if (!row.facility_code.empty()) {
    json::object facility_id;
    facility_id["system"] = kFacilitySystem;
    facility_id["value"] = row.facility_code;
    facility_who["identifier"] = std::move(facility_id);
  } else {
    // The server's own work (the retention sweeper): no facility, a system principal.
    facility_who["display"] = "renkei server";
  }

  bool person_agent = false;
  json::object person;
  if (!row.practitioner_id.empty()) {
    json::object who;
    who["reference"] = "Practitioner/" + row.practitioner_id;
    person["who"] = std::move(who);
    person_agent = true;
  } else if (row.qualification == "patient" && !row.patient_id.empty()) {
    json::object who;
    who["reference"] = "Patient/" + row.patient_id;
    person["who"] = std::move(who);
    person_agent = true;
  }
  json::array role;
  if (!row.qualification.empty()) {
    role.emplace_back(Concept(Coding(kQualificationSystem, row.qualification)));
  }
  if (person_agent) {
    person["role"] = role;
    person["requestor"] = true;
    agents.emplace_back(std::move(person));
  }
  // The facility the request came from; the requestor itself for system principals.
  json::object facility;
  facility["who"] = std::move(facility_who);
  if (!person_agent && !role.empty()) facility["role"] = std::move(role);
  facility["requestor"] = !person_agent;
  agents.emplace_back(std::move(facility));
  return agents;
}

json::array Entities(const store::AuditRow& row) {
  json::array entities;
  if (!row.patient_id.empty()) {
    json::object what;
    what["reference"] = "Patient/" + row.patient_id;
    json::object e;
    e["what"] = std::move(what);
    e["type"] = Coding(kEntityTypeSystem, "1", "Person");
    e["role"] = Coding(kObjectRoleSystem, "1", "Patient");
    entities.emplace_back(std::move(e));
  }
  if (!row.category.empty() || !row.detail.empty()) {
    json::object e;
    e["type"] = Coding(kEntityTypeSystem, "2", "System Object");
    if (!row.category.empty()) e["name"] = row.category;
    if (!row.detail.empty()) {
      json::object d;
      d["type"] = kAuditDetailType;
      d["valueString"] = row.detail;
      json::array details;
      details.emplace_back(std::move(d));
      e["detail"] = std::move(details);
    }
    entities.emplace_back(std::move(e));
  }
  return entities;
}

}  // namespace

json::object PurposeConcept(std::string_view purpose) {
  json::array codings;
  for (const ActReason& r : kActReasons) {
    if (r.code == purpose) codings.emplace_back(Coding(kActReasonSystem, r.code, r.display));
  }
  if (purpose == "DISASTER") {
    // v3-ActReason has no disaster code: keep renkei's code and map to emergency treatment,
    // the nearest v3 reason (disaster mode opens records without consent, DOMAIN.md §1).
    codings.emplace_back(Coding(kPurposeSystem, "DISASTER", "disaster-mode access"));
    codings.emplace_back(Coding(kActReasonSystem, "ETREAT", "Emergency Treatment"));
  } else if (codings.empty()) {
    codings.emplace_back(Coding(kPurposeSystem, purpose));
  }
  json::object cc;
  cc["coding"] = std::move(codings);
  return cc;
}

json::object ToAuditEvent(const store::AuditRow& row) {
  json::object ev;
  ev["resourceType"] = "AuditEvent";
  ev["id"] = std::to_string(row.seq);
  ev["type"] = EventType(row);
  ev["subtype"] = Subtypes(row);
  ev["action"] = ActionCode(row.action);
  ev["recorded"] = FormatInstant(row.recorded);
  ev["outcome"] = OutcomeCode(row.outcome);
  if (row.outcome != "success") ev["outcomeDesc"] = row.outcome;
  if (!row.purpose.empty()) {
    json::array purposes;
    purposes.emplace_back(PurposeConcept(row.purpose));
    ev["purposeOfUse"] = std::move(purposes);
  }
  ev["agent"] = Agents(row);
  json::object observer;
  observer["display"] = "renkei";
  json::array source_types;
  source_types.emplace_back(Coding(kSourceTypeSystem, "4", "Application Server"));
  json::object source;
  source["site"] = "renkei";
  source["observer"] = std::move(observer);
  source["type"] = std::move(source_types);
  ev["source"] = std::move(source);
  json::array entities = Entities(row);
  if (!entities.empty()) ev["entity"] = std::move(entities);
  return ev;
}

}  // namespace renkei::audit
