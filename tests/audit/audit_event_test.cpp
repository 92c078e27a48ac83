// The AuditEvent view: field-by-field checks of the FHIR R4 shape for typical entries.
#include "audit/audit_event.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace renkei::audit {
namespace {

store::AuditRow ReadRow() {
  store::AuditRow row;
  row.seq = 42;
  row.recorded = TimePoint(std::chrono::seconds(1'795'000'000)) + std::chrono::milliseconds(123);
  row.facility_code = "1310000001";
  row.practitioner_id = "prac-1";
  row.qualification = "physician";
  row.patient_id = "pat-1";
  row.action = "read";
  row.category = "Patient";
  row.purpose = "TREAT";
  row.outcome = "success";
  row.prev_hash = std::string(64, 'a');
  row.hash = std::string(64, 'b');
  return row;
}

std::string Str(const json::value& v) {
  return std::string(v.as_string());
}

TEST(AuditEventTest, ReadByPractitionerHasRestTypeAgentsAndPatientEntity) {
  json::object ev = ToAuditEvent(ReadRow());
  EXPECT_EQ(Str(ev.at("resourceType")), "AuditEvent");
  EXPECT_EQ(Str(ev.at("id")), "42");
  EXPECT_EQ(Str(ev.at("type").at("system")),
            "http://terminology.hl7.org/CodeSystem/audit-event-type");
  EXPECT_EQ(Str(ev.at("type").at("code")), "rest");
  const auto& subtypes = ev.at("subtype").as_array();
  ASSERT_EQ(subtypes.size(), 2u);
  EXPECT_EQ(Str(subtypes[0].at("system")), "http://hl7.org/fhir/restful-interaction");
  EXPECT_EQ(Str(subtypes[0].at("code")), "read");
  EXPECT_EQ(Str(subtypes[1].at("system")), kActionSystem);
  EXPECT_EQ(Str(subtypes[1].at("code")), "read");
  EXPECT_EQ(Str(ev.at("action")), "R");
  EXPECT_EQ(Str(ev.at("recorded")), FormatInstant(ReadRow().recorded));
  EXPECT_EQ(Str(ev.at("outcome")), "0");
  EXPECT_FALSE(ev.contains("outcomeDesc"));

  const auto& purpose = ev.at("purposeOfUse").as_array().at(0).at("coding").as_array();
  ASSERT_EQ(purpose.size(), 1u);
  EXPECT_EQ(Str(purpose[0].at("system")), "http://terminology.hl7.org/CodeSystem/v3-ActReason");
  EXPECT_EQ(Str(purpose[0].at("code")), "TREAT");

  const auto& agents = ev.at("agent").as_array();
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(Str(agents[0].at("who").at("reference")), "Practitioner/prac-1");
  EXPECT_EQ(Str(agents[0].at("role").as_array().at(0).at("coding").as_array().at(0).at("code")),
            "physician");
  EXPECT_TRUE(agents[0].at("requestor").as_bool());
  EXPECT_EQ(Str(agents[1].at("who").at("identifier").at("system")),
            "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no");
  EXPECT_EQ(Str(agents[1].at("who").at("identifier").at("value")), "1310000001");
  EXPECT_FALSE(agents[1].at("requestor").as_bool());

  const auto& entities = ev.at("entity").as_array();
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(Str(entities[0].at("what").at("reference")), "Patient/pat-1");
  EXPECT_EQ(Str(entities[0].at("role").at("code")), "1");
  EXPECT_EQ(Str(entities[1].at("name")), "Patient");
  EXPECT_FALSE(entities[1].as_object().contains("detail"));

  EXPECT_EQ(Str(ev.at("source").at("site")), "renkei");
  EXPECT_EQ(Str(ev.at("source").at("observer").at("display")), "renkei");
}

TEST(AuditEventTest, OutcomesMapToFhirCodes) {
  store::AuditRow row = ReadRow();
  row.outcome = "denied";
  json::object denied = ToAuditEvent(row);
  EXPECT_EQ(Str(denied.at("outcome")), "4");
  EXPECT_EQ(Str(denied.at("outcomeDesc")), "denied");
  row.outcome = "error";
  EXPECT_EQ(Str(ToAuditEvent(row).at("outcome")), "8");
}

TEST(AuditEventTest, DisasterKeepsRenkeiCodeAndMapsToEmergencyTreatment) {
  store::AuditRow row = ReadRow();
  row.purpose = "DISASTER";
  json::object ev = ToAuditEvent(row);
  const auto& coding = ev.at("purposeOfUse").as_array().at(0).at("coding").as_array();
  ASSERT_EQ(coding.size(), 2u);
  EXPECT_EQ(Str(coding[0].at("system")), kPurposeSystem);
  EXPECT_EQ(Str(coding[0].at("code")), "DISASTER");
  EXPECT_EQ(Str(coding[1].at("system")), kActReasonSystem);
  EXPECT_EQ(Str(coding[1].at("code")), "ETREAT");
}

TEST(AuditEventTest, EveryV3PurposeIsCodedInActReason) {
  for (std::string_view code : {"TREAT", "ETREAT", "PATRQT", "HRESCH", "COVERAGE", "HOPERAT"}) {
    json::object cc = PurposeConcept(code);
    const auto& coding = cc.at("coding").as_array();
    ASSERT_EQ(coding.size(), 1u) << code;
    EXPECT_EQ(Str(coding[0].at("system")), kActReasonSystem) << code;
    EXPECT_EQ(Str(coding[0].at("code")), code);
    EXPECT_TRUE(coding[0].as_object().contains("display")) << code;
  }
}

TEST(AuditEventTest, EligibilityVerificationIsAnOperationWithDetail) {
  store::AuditRow row = ReadRow();
  row.action = "verify";
  row.category = "Coverage";
  row.purpose = "COVERAGE";
  row.qualification = "clerk";
  row.detail = R"({"reason":"eligible"})";
  json::object ev = ToAuditEvent(row);
  EXPECT_EQ(Str(ev.at("type").at("code")), "rest");
  EXPECT_EQ(Str(ev.at("subtype").as_array().at(0).at("code")), "operation");
  EXPECT_EQ(Str(ev.at("action")), "E");
  const auto& detail = ev.at("entity").as_array().at(1).at("detail").as_array().at(0);
  EXPECT_EQ(Str(detail.at("valueString")), row.detail);
}

TEST(AuditEventTest, SystemPrincipalIsTheFacilityAgent) {
  store::AuditRow row = ReadRow();
  row.practitioner_id = "";
  row.qualification = "system";
  row.patient_id = "";
  row.action = "purge";
  row.purpose = "HOPERAT";
  json::object ev = ToAuditEvent(row);
  EXPECT_EQ(Str(ev.at("type").at("system")), "http://dicom.nema.org/resources/ontology/DCM");
  EXPECT_EQ(Str(ev.at("type").at("code")), "110100");
  EXPECT_EQ(Str(ev.at("action")), "D");
  const auto& agents = ev.at("agent").as_array();
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_TRUE(agents[0].at("requestor").as_bool());
  EXPECT_EQ(Str(agents[0].at("role").as_array().at(0).at("coding").as_array().at(0).at("code")),
            "system");
  // No patient: only the category entity.
  ASSERT_EQ(ev.at("entity").as_array().size(), 1u);
}

TEST(AuditEventTest, PatientActingIsThePatientAgent) {
  store::AuditRow row = ReadRow();
  row.practitioner_id = "";
  row.qualification = "patient";
  row.action = "login";
  row.purpose = "PATRQT";
  json::object ev = ToAuditEvent(row);
  EXPECT_EQ(Str(ev.at("type").at("code")), "110114");
  EXPECT_EQ(Str(ev.at("subtype").as_array().at(0).at("code")), "110122");
  EXPECT_EQ(Str(ev.at("agent").as_array().at(0).at("who").at("reference")), "Patient/pat-1");
}

TEST(AuditEventTest, ViewIsValidJsonText) {
  std::string text = json::Serialize(ToAuditEvent(ReadRow()));
  auto parsed = json::ParseObject(text, Limits{});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(Str(parsed->at("resourceType")), "AuditEvent");
}

}  // namespace
}  // namespace renkei::audit
