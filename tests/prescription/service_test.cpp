// The prescription service on SQLite and PostgreSQL: the check over stored history with and
// without details, prescribing with code validation, receiving (also racing), handing back,
// dispensing, cancelling, idempotent retries and the limits (issue 4).
#include <atomic>
#include <thread>

#include "access/facts_service.h"
#include "auth/jws.h"
#include "auth/test_keys.h"
#include "core/crypto.h"
#include "prescription/service_fixture.h"

namespace renkei::prescription::testing {
namespace {

const char* kCheck = "/fhir/MedicationRequest/$check";
const char* kPrescribe = "/fhir/MedicationRequest/$prescribe";
const char* kRelease = "/fhir/MedicationRequest/$release";
const char* kCancel = "/fhir/MedicationRequest/$cancel";
const char* kDispense = "/fhir/MedicationDispense/$dispense";

class ServiceTest : public PrescriptionServiceTest {
 protected:
  Response Check(const Principal& who, std::vector<json::object> extra,
                 std::string patient = "pat-1") {
    json::array params{PatientRef(patient)};
    for (auto& e : extra) params.push_back(std::move(e));
    return Call(kCheck, who, Params(std::move(params)));
  }
  int64_t CountRows(std::string_view type) {
    auto n = store::RunInTransactionWithResult<int64_t>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<int64_t> {
          store::SearchQuery q;
          q.type = std::string(type);
          q.patient_id = "pat-1";
          RK_ASSIGN_OR_RETURN(auto page, tx.Search(q));
          return page.total.value_or(-1);
        });
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }
  std::vector<store::AuditRow> AuditOf(std::string_view patient) {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) {
          store::AuditFilter f;
          f.patient_id = std::string(patient);
          return tx.FindAudit(f);
        });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }
};

TEST_P(ServiceTest, CheckFindsAnotherFacilitysPrescriptionMaskedWithoutConsent) {
  Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  Response r = Check(hospital_doctor_, {Candidate(kAmlodipineOther, 14)});
  ASSERT_EQ(r.status, 200) << r.body;
  json::object b = Body(r);
  EXPECT_EQ(Value(b, "detailsShown"), "false");
  EXPECT_EQ(Value(b, "masterVersion"), ShippedMaster()->version());
  auto alerts = Alerts(b, 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "duplicate");
  EXPECT_EQ(alerts[0].count("otherCode"), 0u);  // neither the drug nor the facility shows
  EXPECT_EQ(alerts[0].count("otherFacility"), 0u);
  EXPECT_EQ(r.body.find(kClinic), std::string::npos);

  Consent("pat-1", kHospital);
  b = Body(Check(hospital_doctor_, {Candidate(kAmlodipineOther, 14)}));
  EXPECT_EQ(Value(b, "detailsShown"), "true");
  alerts = Alerts(b, 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["otherCode"], kAmlodipine);
  EXPECT_EQ(alerts[0]["otherFacility"], kClinic);
  EXPECT_EQ(alerts[0]["otherKind"], "prescription");
  EXPECT_EQ(alerts[0]["otherStart"], "2026-03-10");
  EXPECT_EQ(alerts[0]["otherEnd"], "2026-04-06");

  // Checks are audited, each one, and change nothing.
  size_t checks = 0;
  for (const auto& a : AuditOf("pat-1")) checks += a.action == "check" ? 1 : 0;
  EXPECT_EQ(checks, 2u);
  EXPECT_EQ(CountRows("MedicationRequest"), 1);
}

TEST_P(ServiceTest, OptedOutPatientIsCheckedButShowsNoDetails) {
  Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  Consent("pat-1", kHospital);
  access::FactsService facts(*store_, *audit_, clock_);
  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = "pat-1";
  access::PatientRestrictions opt_out;
  opt_out.opted_out = true;
  ASSERT_TRUE(facts.SetRestrictions(patient, opt_out).ok());
  json::object b = Body(Check(hospital_doctor_, {Candidate(kAmlodipineOther, 14)}));
  EXPECT_EQ(Value(b, "detailsShown"), "false");
  auto alerts = Alerts(b, 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "duplicate");
  EXPECT_EQ(alerts[0].count("otherCode"), 0u);
}

TEST_P(ServiceTest, OwnFacilityHistoryIsLeftOutUnlessAsked) {
  Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  EXPECT_TRUE(Alerts(Body(Check(clinic_doctor_, {Candidate(kAmlodipineOther)})), 0).empty());
  json::object include{{"name", "includeOwnFacility"}, {"valueBoolean", true}};
  EXPECT_EQ(Alerts(Body(Check(clinic_doctor_, {Candidate(kAmlodipineOther), include})), 0).size(),
            1u);
}

TEST_P(ServiceTest, ContraindicationRespectsRouteClass) {
  Prescribe(clinic_doctor_, kMember1, {{std::string(kWarfarin), 28}});
  Consent("pat-1", kHospital);
  json::object b = Body(Check(hospital_doctor_, {Candidate(kMiconazoleGel, 7)}));
  auto alerts = Alerts(b, 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "contraindication");
  EXPECT_EQ(alerts[0]["otherCode"], kWarfarin);
  EXPECT_FALSE(alerts[0]["statedIn"].empty());
  // The skin cream is not restricted by the rule (route class external).
  json::object cream{
      {"name", "medication"},
      {"part", json::array{json::object{{"name", "code"}, {"valueCode", kMiconazoleCream}},
                           json::object{{"name", "external"}, {"valueBoolean", true}}}}};
  EXPECT_TRUE(Alerts(Body(Check(hospital_doctor_, {cream})), 0).empty());
}

TEST_P(ServiceTest, OnlyPrescribersAndPharmacistsCheck) {
  Response r = Check(clerk_, {Candidate(kAmlodipine)});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Check(pharmacist_, {Candidate(kAmlodipine)}).status, 200);
  EXPECT_EQ(Check(hospital_doctor_, {Candidate(kAmlodipine)}, "pat-unknown").status, 422);
}

TEST_P(ServiceTest, CheckRefusesBadCodesNamingTheCandidate) {
  Response r = Check(hospital_doctor_, {Candidate("666660000")});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("Parameters.parameter[1]"), std::string::npos) << r.body;
  r = Check(hospital_doctor_, {Candidate("3332001F1017")});  // check digit is 6
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_P(ServiceTest, CheckLimits) {
  std::vector<json::object> many;
  for (size_t i = 0; i <= kMaxCandidates; ++i) many.push_back(Candidate(kAmlodipine));
  EXPECT_EQ(Check(hospital_doctor_, many).status, 413);
  std::string big = Params(
      {PatientRef("pat-1"), Str("excludePrescription", std::string(kMaxCheckBodyBytes, 'x'))});
  EXPECT_EQ(Call(kCheck, hospital_doctor_, big).status, 413);
  json::object too_long{
      {"name", "medication"},
      {"part",
       json::array{json::object{{"name", "code"}, {"valueCode", kAmlodipine}},
                   json::object{{"name", "daysSupply"}, {"valueInteger", kMaxDaysSupply + 1}}}}};
  EXPECT_EQ(Check(hospital_doctor_, {too_long}).status, 400);
}

TEST_P(ServiceTest, PrescribeRefusesEveryBadEntryInOneOutcome) {
  Response r = Call(kPrescribe, hospital_doctor_,
                    PrescriptionBundle(kMember1, {{std::string(kAmlodipine), 14},
                                                  {"666660000", 14},
                                                  {"2000000X0000", 14},
                                                  {"3332001F1017", 14}}));
  EXPECT_EQ(r.status, 422) << r.body;
  json::object oo = Body(r);
  EXPECT_EQ(json::GetString(oo, "resourceType"), "OperationOutcome");
  ASSERT_EQ(json::GetArray(oo, "issue")->size(), 3u) << r.body;
  for (const char* path : {"Bundle.entry[3].resource.medicationCodeableConcept.coding[0].code",
                           "Bundle.entry[4].resource.medicationCodeableConcept.coding[0].code",
                           "Bundle.entry[5].resource.medicationCodeableConcept.coding[0].code"}) {
    EXPECT_NE(r.body.find(path), std::string::npos) << path;
  }
  EXPECT_EQ(CountRows("MedicationRequest"), 0);  // nothing stored
  // A failing check digit alone is malformed input (400).
  r = Call(kPrescribe, hospital_doctor_, PrescriptionBundle(kMember1, {{"3332001F1017", 14}}));
  EXPECT_EQ(r.status, 400) << r.body;
  // Unknown insured person: 422; missing days' supply of an internal drug: 400.
  EXPECT_EQ(Call(kPrescribe, hospital_doctor_,
                 PrescriptionBundle("01130012::99999999:00", {{std::string(kAmlodipine), 14}}))
                .status,
            422);
  r = Call(kPrescribe, hospital_doctor_,
           PrescriptionBundle(kMember1, {{std::string(kAmlodipine), 0}}));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Bundle.entry[2].resource"), std::string::npos);
}

TEST_P(ServiceTest, GeneralNameCodesAreAcceptedAndMatchTheirIngredient) {
  Med general{"3332001F1ZZZ", 14};
  general.system = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode";
  json::object a = Prescribe(clinic_doctor_, kMember1, {general});
  EXPECT_FALSE(Value(a, "prescriptionId").empty());
  auto alerts = Alerts(Body(Check(hospital_doctor_, {Candidate(kWarfarin)})), 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "duplicate");
}

TEST_P(ServiceTest, OnlyPhysiciansAndDentistsPrescribe) {
  EXPECT_EQ(
      Call(kPrescribe, pharmacist_, PrescriptionBundle(kMember1, {{std::string(kAmlodipine)}}))
          .status,
      403);
  EXPECT_EQ(
      Call(kPrescribe, clerk_, PrescriptionBundle(kMember1, {{std::string(kAmlodipine)}})).status,
      403);
  Principal dentist = Staff(kClinic, FacilityType::kDentalClinic, Qualification::kDentist);
  EXPECT_EQ(
      Call(kPrescribe, dentist, PrescriptionBundle(kMember1, {{std::string(kAmlodipine)}})).status,
      201);
}

TEST_P(ServiceTest, PrescribeReceiveDispenseThenAnotherClinicSeesTheDuplicate) {
  json::object rx = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  const std::string id = Value(rx, "prescriptionId");
  const std::string code = Value(rx, "accessCode");
  EXPECT_EQ(code.size(), kAccessCodeLength);
  EXPECT_EQ(Value(rx, "status"), "active");

  Response r = Receive(pharmacist_, code, kMember1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Value(Body(r), "status"), "received");
  // Generic substitution: another product of the same ingredient is dispensed. The check
  // leaves out the prescription being dispensed, so no duplicate with itself.
  r = Call(kDispense, pharmacist_,
           Params({Str("prescriptionId", id), Dispense(kAmlodipineOther, 28)}));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(Alerts(Body(r), 0).empty()) << r.body;
  EXPECT_EQ(CountRows("MedicationDispense"), 1);

  // Another clinic prescribing the same ingredient gets one duplicate: the dispensing
  // supersedes its prescription (no double counting).
  Consent("pat-1", kClinic);
  json::object second = Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 7}});
  auto alerts = Alerts(second, 0);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "duplicate");
  EXPECT_EQ(alerts[0]["otherKind"], "dispensing");
  EXPECT_EQ(alerts[0]["otherFacility"], kPharmacy);
  EXPECT_EQ(alerts[0]["otherCode"], kAmlodipineOther);

  // Dispensed once only; cancelling now is refused.
  r = Call(kDispense, pharmacist_, Params({Str("prescriptionId", id), Dispense(kAmlodipine)}));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Call(kCancel, hospital_doctor_, Params({Str("prescriptionId", id)})).status, 409);
  EXPECT_EQ(Receive(pharmacist2_, code, kMember1).status, 409);
}

TEST_P(ServiceTest, ReceivingNeedsTheCodeAndThePatient) {
  json::object rx = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  const std::string code = Value(rx, "accessCode");
  // A guessed code and a right code with the wrong patient answer alike.
  Response guessed = Receive(pharmacist_, "ABCDEFGHJK", kMember1);
  Response wrong_patient = Receive(pharmacist_, code, kMember2);
  EXPECT_EQ(guessed.status, 404);
  EXPECT_EQ(wrong_patient.status, 404);
  EXPECT_EQ(guessed.body, wrong_patient.body);
  EXPECT_EQ(Receive(clinic_doctor_, code, kMember1).status, 403);
  EXPECT_EQ(Call("/fhir/MedicationRequest/$receive", pharmacist_, Params({Str("accessCode", code)}))
                .status,
            400);
  // Dispensing before receiving is refused.
  EXPECT_EQ(
      Call(kDispense, pharmacist_,
           Params({Str("prescriptionId", Value(rx, "prescriptionId")), Dispense(kAmlodipine)}))
          .status,
      409);
  EXPECT_EQ(Receive(pharmacist_, code, kMember1).status, 200);
  EXPECT_EQ(Receive(pharmacist_, code, kMember1).status, 200);  // again by the holder: fine
}

TEST_P(ServiceTest, ReceiveByCardAssertion) {
  auth::KeyPair card = auth::testkeys::MakeKey("ES256");
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                return tx.PutKey(auth::testkeys::RecordFor(card, "patient", "pat-1", "card-1"));
              }).ok());
  json::object rx = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  auto jws =
      auth::SignCardAssertion(card, "card-1", "pat-1", kPharmacy, "TREAT", {"all"}, clock_.Now());
  ASSERT_TRUE(jws.ok());
  Response r = Call("/fhir/MedicationRequest/$receive", pharmacist_,
                    Params({Str("accessCode", Value(rx, "accessCode")), Str("card", *jws)}));
  EXPECT_EQ(r.status, 200) << r.body;
  // The same assertion again is a replay.
  r = Call("/fhir/MedicationRequest/$receive", pharmacist_,
           Params({Str("accessCode", Value(rx, "accessCode")), Str("card", *jws)}));
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_P(ServiceTest, AnotherPharmacyGets409UntilTheHolderHandsItBack) {
  json::object rx = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  const std::string id = Value(rx, "prescriptionId");
  const std::string code = Value(rx, "accessCode");
  ASSERT_EQ(Receive(pharmacist_, code, kMember1).status, 200);
  Response r = Receive(pharmacist2_, code, kMember1);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("another pharmacy"), std::string::npos) << r.body;
  // Only the holder hands it back.
  EXPECT_EQ(Call(kRelease, pharmacist2_, Params({Str("prescriptionId", id)})).status, 404);
  EXPECT_EQ(Call(kRelease, pharmacist_, Params({Str("prescriptionId", id)})).status, 200);
  EXPECT_EQ(Receive(pharmacist2_, code, kMember1).status, 200);
}

TEST_P(ServiceTest, CancelBeforeReceiptOnlyByThePrescriber) {
  json::object rx = Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  const std::string id = Value(rx, "prescriptionId");
  Principal colleague = Staff(kClinic, FacilityType::kClinic, Qualification::kPhysician, "2");
  EXPECT_EQ(Call(kCancel, colleague, Params({Str("prescriptionId", id)})).status, 403);
  Response r = Call(kCancel, clinic_doctor_, Params({Str("prescriptionId", id)}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Value(Body(r), "status"), "cancelled");
  // A cancelled prescription is not being taken and cannot be received.
  EXPECT_TRUE(Alerts(Body(Check(hospital_doctor_, {Candidate(kAmlodipineOther)})), 0).empty());
  EXPECT_EQ(Receive(pharmacist_, Value(rx, "accessCode"), kMember1).status, 409);

  json::object rx2 = Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  ASSERT_EQ(Receive(pharmacist_, Value(rx2, "accessCode"), kMember1).status, 200);
  r = Call(kCancel, clinic_doctor_, Params({Str("prescriptionId", Value(rx2, "prescriptionId"))}));
  EXPECT_EQ(r.status, 409) << r.body;
}

TEST_P(ServiceTest, RetriesWithTheSameRequestIdCreateNothingNew) {
  Headers key{{"x-request-id", "retry-1"}};
  json::object first = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}}, key);
  json::object again = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}}, key);
  EXPECT_EQ(Value(first, "prescriptionId"), Value(again, "prescriptionId"));
  EXPECT_EQ(Value(first, "accessCode"), Value(again, "accessCode"));
  EXPECT_EQ(CountRows("MedicationRequest"), 1);
  // The same key for another body is refused.
  Response r = Call(kPrescribe, hospital_doctor_,
                    PrescriptionBundle(kMember1, {{std::string(kWarfarin), 28}}), key);
  EXPECT_EQ(r.status, 409);

  ASSERT_EQ(Receive(pharmacist_, Value(first, "accessCode"), kMember1).status, 200);
  Headers dkey{{"x-request-id", "dispense-1"}};
  std::string body =
      Params({Str("prescriptionId", Value(first, "prescriptionId")), Dispense(kAmlodipine, 28)});
  Response d1 = Call(kDispense, pharmacist_, body, dkey);
  Response d2 = Call(kDispense, pharmacist_, body, dkey);
  EXPECT_EQ(d1.status, 201) << d1.body;
  EXPECT_EQ(d2.status, 201) << d2.body;
  EXPECT_EQ(d1.body, d2.body);
  EXPECT_EQ(CountRows("MedicationDispense"), 1);
}

TEST_P(ServiceTest, TwoPharmaciesRacingExactlyOneWins) {
  for (int round = 0; round < 10; ++round) {
    json::object rx = Prescribe(hospital_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
    const std::string code = Value(rx, "accessCode");
    std::atomic<int> ok{0}, conflict{0}, other{0};
    auto race = [&](const Principal& who) {
      Response r = Receive(who, code, kMember1);
      (r.status == 200 ? ok : r.status == 409 ? conflict : other)++;
    };
    std::thread a(race, pharmacist_);
    std::thread b(race, pharmacist2_);
    a.join();
    b.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(conflict.load(), 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
  }
}

TEST_P(ServiceTest, PaperPrescriptionDispensing) {
  Response r = Call(kDispense, pharmacist_, Params({PatientRef("pat-1"), Dispense(kWarfarin, 28)}));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(Value(Body(r), "dispensingId").empty());
  // It is history for the next check.
  EXPECT_EQ(Alerts(Body(Check(hospital_doctor_, {Candidate(kMiconazoleGel, 7)})), 0).size(), 1u);
  EXPECT_EQ(Call(kDispense, pharmacist_, Params({Dispense(kWarfarin, 28)})).status, 400);
  EXPECT_EQ(
      Call(kDispense, pharmacist_, Params({PatientRef("pat-9"), Dispense(kWarfarin, 28)})).status,
      422);
  EXPECT_EQ(
      Call(kDispense, hospital_doctor_, Params({PatientRef("pat-1"), Dispense(kWarfarin)})).status,
      403);
}

TEST_P(ServiceTest, SignedPrescriptionIsVerifiedAndKept) {
  auth::KeyPair key = auth::testkeys::MakeKey("ES384");
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                return tx.PutKey(auth::testkeys::RecordFor(key, "practitioner",
                                                           hospital_doctor_.practitioner_id, "k1"));
              }).ok());
  std::string bundle = PrescriptionBundle(kMember1, {{std::string(kAmlodipine), 28}});
  auto jws = auth::SignCompact(key, "ES384", "k1",
                               json::object{{"bundle_sha256", crypto::Sha256Hex(bundle)},
                                            {"sub", hospital_doctor_.practitioner_id}});
  ASSERT_TRUE(jws.ok());
  Response r = Call(kPrescribe, hospital_doctor_, bundle, {{"x-signature", *jws}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Value(Body(r), "signed"), "true");
  // The signature over another body is refused.
  std::string other = PrescriptionBundle(kMember1, {{std::string(kAmlodipine), 14}});
  EXPECT_EQ(Call(kPrescribe, hospital_doctor_, other, {{"x-signature", *jws}}).status, 401);
  EXPECT_EQ(Call(kPrescribe, clinic_doctor_, bundle, {{"x-signature", *jws}}).status, 401);
}

TEST_P(ServiceTest, PrescriptionLimits) {
  std::vector<Med> meds(kMaxCandidates + 1, Med{std::string(kAmlodipine), 7});
  EXPECT_EQ(Call(kPrescribe, hospital_doctor_, PrescriptionBundle(kMember1, meds)).status, 413);
  std::string big(kMaxPrescriptionBodyBytes + 1, ' ');
  EXPECT_EQ(Call(kPrescribe, hospital_doctor_, big).status, 413);
}

TEST_P(ServiceTest, HistorySearchGoesThroughTheAccessPolicy) {
  Prescribe(clinic_doctor_, kMember1, {{std::string(kAmlodipine), 28}});
  Prescribe(hospital_doctor_, kMember1, {{std::string(kWarfarin), 28}});
  auto search = [&](const Principal& who, std::vector<std::pair<std::string, std::string>> q) {
    Request req;
    req.method = Method::kGet;
    req.path = "/fhir/MedicationRequest";
    req.query = std::move(q);
    req.principal = who;
    req.base_url = "http://127.0.0.1:8080";
    return service_->HandleSearch(req, "MedicationRequest");
  };
  // Without consent the clinic's prescription never shows, not even in the total.
  Response r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}});
  if (r.status == 200) {
    EXPECT_EQ(json::GetInt(Body(r), "total"), 1) << r.body;
    EXPECT_EQ(r.body.find(kAmlodipine), std::string::npos);
  } else {
    EXPECT_EQ(r.status, 403) << r.body;
  }
  EXPECT_EQ(search(clerk_, {{"patient", "Patient/pat-1"}}).status, 403);
  EXPECT_EQ(search(hospital_doctor_, {{"code", std::string(kAmlodipine)}}).status, 400);

  Consent("pat-1", kHospital);
  r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::GetInt(Body(r), "total"), 2);
  r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}, {"code", std::string(kAmlodipine)}});
  EXPECT_EQ(json::GetInt(Body(r), "total"), 1);
  r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}, {"date", "ge2026-03-11"}});
  EXPECT_EQ(json::GetInt(Body(r), "total"), 0);
  r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}, {"date", "2026-03-10"}});
  EXPECT_EQ(json::GetInt(Body(r), "total"), 2);
  r = search(hospital_doctor_, {{"patient", "Patient/pat-1"}, {"_count", "1"}});
  json::object page = Body(r);
  ASSERT_EQ(json::GetArray(page, "entry")->size(), 1u);
  EXPECT_NE(r.body.find("\"next\""), std::string::npos) << r.body;
  size_t searches = 0;
  for (const auto& a : AuditOf("pat-1")) searches += a.action == "search" ? 1 : 0;
  EXPECT_GE(searches, 5u);
}

INSTANTIATE_TEST_SUITE_P(Engines, ServiceTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::prescription::testing
