// The purpose a request claims in its headers, and what the decision makes of it.
#include "access/purpose_claim.h"

#include <gtest/gtest.h>

#include "fhir/url.h"

namespace renkei::access {
namespace {

Principal Staff(FacilityType type, Qualification q, bool emergency = false) {
  Principal p;
  p.kind = PrincipalKind::kPractitioner;
  p.facility_code = type == FacilityType::kFireDepartment ? "1700000001" : "1310000011";
  p.facility_type = type;
  p.prefecture = "13";
  p.emergency_hospital = emergency;
  p.qualification = q;
  return p;
}

Request With(std::map<std::string, std::string, std::less<>> headers) {
  Request r;
  r.headers = std::move(headers);
  return r;
}

TEST(PurposeClaim, DefaultsAreTreatAndTheCallersOwnForPatients) {
  auto c = ClaimedPurposeOf(With({}), Staff(FacilityType::kClinic, Qualification::kPhysician));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->purpose, Purpose::kTreat);
  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = "pat-1";
  auto own = ClaimedPurposeOf(With({}), patient);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->purpose, Purpose::kPatientRequest);
  EXPECT_EQ(own->code(), "PATRQT");
}

TEST(PurposeClaim, EtreatIsEmergencyAtHospitalsAndAmbulanceAtFireDepartments) {
  const std::string reason = "意識なし、搬送時心肺停止";
  auto req = With({{"x-purpose-of-use", "ETREAT"},
                   {"x-access-reason", fhir::PercentEncode(reason)},
                   {"x-consent", "cannot-obtain"}});
  Principal er = Staff(FacilityType::kHospital, Qualification::kPhysician, true);
  auto c = ClaimedPurposeOf(req, er);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->purpose, Purpose::kEmergency);
  EXPECT_EQ(c->reason, reason);
  EXPECT_TRUE(c->consent_cannot_be_obtained);
  EXPECT_EQ(c->code(), "ETREAT");

  AccessRequest r;
  r.actor = ActorOf(er);
  r.patient_id = "pat-1";
  r.item.category = Category::kDiagnoses;
  r.item.registering_facility = "2710000017";
  r.purpose = c->view();
  Decision d = Decide(r, AccessFacts{});
  EXPECT_TRUE(d.permit) << d.reason;
  EXPECT_EQ(d.basis, "ETREAT");
  // The same claim from a clinic is refused.
  Principal clinic = Staff(FacilityType::kClinic, Qualification::kPhysician);
  r.actor = ActorOf(clinic);
  EXPECT_FALSE(Decide(r, AccessFacts{}).permit);

  Principal crew = Staff(FacilityType::kFireDepartment, Qualification::kParamedic);
  auto amb =
      ClaimedPurposeOf(With({{"x-purpose-of-use", "ETREAT"}, {"x-consent", "verbal"}}), crew);
  ASSERT_TRUE(amb.ok());
  EXPECT_EQ(amb->purpose, Purpose::kAmbulance);
  EXPECT_TRUE(amb->verbal_consent);
  EXPECT_EQ(amb->code(), "ETREAT");
}

TEST(PurposeClaim, MalformedClaimsAreRefused) {
  Principal doc = Staff(FacilityType::kHospital, Qualification::kPhysician, true);
  auto code_of = [&](std::map<std::string, std::string, std::less<>> h) {
    auto c = ClaimedPurposeOf(With(std::move(h)), doc);
    return c.ok() ? ErrorCode::kInternal : c.error().code();
  };
  EXPECT_EQ(code_of({{"x-purpose-of-use", "CURIOSITY"}}), ErrorCode::kInvalid);
  EXPECT_EQ(code_of({{"x-consent", "maybe"}}), ErrorCode::kInvalid);
  EXPECT_EQ(code_of({{"x-access-reason", "%G1"}}), ErrorCode::kInvalid);
  EXPECT_EQ(code_of({{"x-access-reason", "%FF%FE"}}), ErrorCode::kInvalid);
}

TEST(PurposeClaim, ReasonLengthIsLimited) {
  Principal doc = Staff(FacilityType::kHospital, Qualification::kPhysician, true);
  auto at_limit = ClaimedPurposeOf(With({{"x-purpose-of-use", "ETREAT"},
                                         {"x-access-reason", std::string(kMaxReasonBytes, 'a')}}),
                                   doc);
  EXPECT_TRUE(at_limit.ok());
  auto over = ClaimedPurposeOf(With({{"x-purpose-of-use", "ETREAT"},
                                     {"x-access-reason", std::string(kMaxReasonBytes + 1, 'a')}}),
                               doc);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace renkei::access
