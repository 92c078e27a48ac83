// The three documents over their handlers on real SQLite and PostgreSQL stores, a real blob
// directory and a simulated clock (issue 5 "Referral lifecycle", "The 3 documents"): send,
// the addressee's inbox, consent patterns 1-3 and "pending", retrieval marking and the read
// receipt, a third facility refused, 410 after deletion, discharge summary attachments,
// checkup reports for the patient, the insurer and consented facilities, and the limits.
#include "document_fixture.h"

namespace renkei::clinical {
namespace {

TEST_P(DocumentServiceTest, ReferralLifecycleSendListRetrieveReceipt) {
  const std::string id = SendReferral();
  ASSERT_FALSE(id.empty());

  // Stored as a DocumentBundle with the attachments in the blob store, by hash.
  auto row = Row(kDocumentBundleType, id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->patient_id, "pat-1");
  EXPECT_EQ(row->json.find("JVBERi0xLjQ"), std::string::npos) << "attachment data left inline";
  auto stored = json::ParseObject(row->json, Limits{});
  ASSERT_TRUE(stored.ok());
  auto attachments = AttachmentsOf(*stored);
  ASSERT_EQ(attachments.size(), 2u);
  for (const auto& a : attachments) EXPECT_TRUE(*blobs_->Exists(a.sha256));
  EXPECT_TRUE(attachments[1].discharge_summary);
  EXPECT_EQ(Count(kDocumentBundleType,
                  {"attachment", store::MatchOp::kEq, false, "", {attachments[0].sha256}}),
            1u);
  // The medication section's MedicationRequest became a prescriptions item.
  EXPECT_EQ(Count(kDocumentMedicationType, {"source", store::MatchOp::kEq, false, "", {id}}), 1u);
  EXPECT_EQ(Count(kDocumentMedicationType, {"code",
                                            store::MatchOp::kEq,
                                            true,
                                            "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
                                            {"2171014F1020"}}),
            1u);

  // The addressee lists it pending, not yet readable (no consent).
  auto inbox = Listed(List(clinic_, {{"addressee", std::string(kClinic)}, {"status", "pending"}}));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(json::GetString(inbox[0], "id"), id);
  EXPECT_EQ(Delivery(inbox[0], "status"), "pending");
  EXPECT_EQ(Delivery(inbox[0], "readable"), "false");
  // Another facility's inbox is not the caller's to list.
  EXPECT_EQ(List(clinic_, {{"addressee", std::string(kOsaka)}}).status, 403);

  // Pattern 3: pending until the patient consents at the addressee's card reader.
  Response pending = Read(clinic_, id);
  EXPECT_EQ(pending.status, 403);
  EXPECT_NE(pending.body.find("pending the patient's consent"), std::string::npos);
  EXPECT_EQ(Receipt(hospital_, id).status, 200);
  EXPECT_EQ(Param(Body(Receipt(hospital_, id)), "status"), "pending");

  Consent("pat-1", kClinic, access::kConsentClinical);
  clock_.Advance(std::chrono::minutes(5));
  const std::string retrieved_at = FormatInstant(clock_.Now());
  Response got = Read(clinic_, id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::GetString(Body(got), "resourceType"), "Bundle");
  EXPECT_EQ(
      Count(kDocumentBundleType, {"retrieved", store::MatchOp::kEq, false, "", {retrieved_at}}),
      1u);

  // A second read does not move the retrieval instant.
  clock_.Advance(std::chrono::minutes(5));
  ASSERT_EQ(Read(clinic_, id).status, 200);
  json::object receipt = Body(Receipt(hospital_, id));
  EXPECT_EQ(Param(receipt, "status"), "retrieved");
  EXPECT_EQ(Param(receipt, "retrieved"), retrieved_at);

  // Lists follow the state; the sender's list shows the receipt too.
  EXPECT_TRUE(
      Listed(List(clinic_, {{"addressee", std::string(kClinic)}, {"status", "pending"}})).empty());
  auto sent = Listed(List(hospital_, {{"author", std::string(kHospital)}}));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(Delivery(sent[0], "retrieved"), retrieved_at);
  // The addressee is not the sender: no receipt for it; a clerk lists nothing.
  EXPECT_EQ(Receipt(clinic_, id).status, 403);
  EXPECT_EQ(List(clinic_clerk_, {{"addressee", std::string(kClinic)}}).status, 403);

  // Every step is audited: the retrieval once with "retrieved", the refusals as denied.
  auto audit = AuditOf("pat-1");
  size_t retrievals = 0, denied = 0;
  for (const auto& a : audit) {
    if (a.detail.find("\"retrieved\":true") != std::string::npos) ++retrievals;
    if (a.outcome == "denied") ++denied;
  }
  EXPECT_EQ(retrievals, 1u);
  EXPECT_GE(denied, 2u);
}

TEST_P(DocumentServiceTest, ThirdFacilityIsRefusedAndAudited) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  Consent("pat-1", kOsaka, access::kConsentAll);
  Response r = Read(osaka_, id);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("only the addressee"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("山田"), std::string::npos);
  bool audited = false;
  for (const auto& a : AuditOf("pat-1")) {
    audited = audited || (a.facility_code == kOsaka && a.outcome == "denied");
  }
  EXPECT_TRUE(audited);
  // Nor its attachments.
  auto stored = json::ParseObject(Row(kDocumentBundleType, id)->json, Limits{});
  auto attachments = AttachmentsOf(*stored);
  ASSERT_FALSE(attachments.empty());
  EXPECT_EQ(Call(Method::kGet, "/fhir/Binary/{id}", osaka_, attachments[0].sha256).status, 403);
  // The patient reads no referral letters in the portal.
  EXPECT_EQ(Read(PatientPrincipal("pat-1"), id).status, 403);
}

TEST_P(DocumentServiceTest, ConsentAtTheReferringFacilityOpensItToTheAddressee) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  Response r = Read(clinic_, id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto inbox = Listed(List(clinic_, {{"addressee", std::string(kClinic)}}));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(Delivery(inbox[0], "consent"), "referring-facility");
  EXPECT_EQ(Delivery(inbox[0], "status"), "retrieved");
  // The header is for referral letters only and has one value.
  EXPECT_EQ(Submit(hospital_, ReferralWithSummary(), {{"x-patient-consent", "yes"}}).status, 400);
}

TEST_P(DocumentServiceTest, ConsentInThePortalOpensItToTheAddressee) {
  const std::string id = SendReferral();
  ASSERT_EQ(Read(clinic_, id).status, 403);
  // Another patient cannot consent to it; practitioners cannot consent for the patient.
  EXPECT_EQ(Call(Method::kPost, "/fhir/Bundle/{id}/$consent", PatientPrincipal("pat-2"), id).status,
            404);
  EXPECT_EQ(Call(Method::kPost, "/fhir/Bundle/{id}/$consent", clinic_, id).status, 403);
  Response c = Call(Method::kPost, "/fhir/Bundle/{id}/$consent", PatientPrincipal("pat-1"), id);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Param(Body(c), "consent"), "portal");
  ASSERT_EQ(Read(clinic_, id).status, 200);
  EXPECT_EQ(Param(Body(Receipt(hospital_, id)), "consent"), "portal");
  // Still only the addressee.
  EXPECT_EQ(Read(osaka_, id).status, 403);
}

TEST_P(DocumentServiceTest, DeletedDocumentAnswersGone) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  ASSERT_EQ(Read(clinic_, id).status, 200);
  clock_.Advance(std::chrono::hours(24 * 8));
  // What the retention sweeper does: a deleted version of the row.
  auto row = Row(kDocumentBundleType, id);
  ASSERT_TRUE(row);
  store::ResourceRow tomb = *row;
  tomb.deleted = true;
  tomb.json.clear();
  tomb.last_updated = clock_.Now();
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite,
                                      [&](store::Transaction& tx) -> Status {
                                        RK_TRY(tx.WriteResource(tomb, {}, row->version));
                                        return Ok();
                                      })
                  .ok());
  EXPECT_EQ(Read(clinic_, id).status, 410);
  EXPECT_EQ(Receipt(hospital_, id).status, 410);
  EXPECT_EQ(Read(clinic_, "no-such-document").status, 404);
  EXPECT_TRUE(Listed(List(clinic_, {{"addressee", std::string(kClinic)}})).empty());
}

TEST_P(DocumentServiceTest, DischargeSummaryAttachmentIsValidatedAndServedByHash) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  auto stored = json::ParseObject(Row(kDocumentBundleType, id)->json, Limits{});
  auto attachments = AttachmentsOf(*stored);
  ASSERT_EQ(attachments.size(), 2u);
  const std::string summary = ReadText(TestDir() / "documents" / "discharge-summary.json");
  Response raw = Call(Method::kGet, "/fhir/Binary/{id}", clinic_, attachments[1].sha256);
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(raw.body, summary);
  EXPECT_EQ(raw.content_type, "application/fhir+json");
  Response binary = Call(Method::kGet, "/fhir/Binary/{id}", clinic_, attachments[0].sha256, "",
                         {{"accept", "application/fhir+json"}});
  ASSERT_EQ(binary.status, 200);
  EXPECT_EQ(json::GetString(Body(binary), "contentType"), "application/pdf");
  EXPECT_EQ(Call(Method::kGet, "/fhir/Binary/{id}", clinic_, std::string(64, 'a')).status, 404);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Binary/{id}", clinic_, "../../etc/passwd").status, 404);

  // The test instance as written carries a stand-in summary: refused, with the path.
  Response bad = Submit(hospital_, ReadText(TestDir() / "documents" / "referral.json"));
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("content[0].attachment.data"), std::string::npos) << bad.body;
  // A discharge summary alone is not submitted.
  EXPECT_EQ(Submit(hospital_, summary).status, 422);
}

TEST_P(DocumentServiceTest, CheckupReportIsVisibleToPatientInsurerAndConsentedFacilities) {
  Response sent = Submit(checkup_doctor_,
                         ReadText(ExamplesDir() / "Bundle-Bundle-eCheckupReport-Sample-01.json"));
  ASSERT_EQ(sent.status, 201) << sent.body;
  const std::string id(json::GetString(Body(sent), "id").value_or(""));
  auto row = Row(kDocumentBundleType, id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->patient_id, "pat-2");

  const Query by_patient{{"patient", "Patient/pat-2"}};
  // The patient.
  const Principal patient = PatientPrincipal("pat-2");
  EXPECT_EQ(Listed(List(patient, by_patient)).size(), 1u);
  EXPECT_EQ(Read(patient, id).status, 200);
  EXPECT_EQ(Read(PatientPrincipal("pat-1"), id).status, 403);
  // The insurer the report names, and not another.
  EXPECT_EQ(Listed(List(Insurer(kCheckupInsurer), by_patient)).size(), 1u);
  EXPECT_EQ(Read(Insurer(kCheckupInsurer), id).status, 200);
  EXPECT_EQ(Read(Insurer("01130012"), id).status, 403);
  // Another insurer's list holds only the reports naming it: none.
  Response other_insurer = List(Insurer("01130012"), by_patient);
  ASSERT_EQ(other_insurer.status, 200);
  EXPECT_EQ(json::GetInt(Body(other_insurer), "total"), 0);
  // A facility: nothing without consent (totals included), a clinical consent is not enough,
  // the checkup group opens it.
  Response none = List(clinic_, by_patient);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(json::GetInt(Body(none), "total"), 0);
  EXPECT_EQ(Read(clinic_, id).status, 403);
  Consent("pat-2", kClinic, access::kConsentClinical);
  EXPECT_TRUE(Listed(List(clinic_, by_patient)).empty());
  EXPECT_EQ(Read(clinic_, id).status, 403);
  Consent("pat-2", kClinic, access::kConsentCheckup);
  EXPECT_EQ(Listed(List(clinic_, by_patient)).size(), 1u);
  EXPECT_EQ(Read(clinic_, id).status, 200);
  // The consent lapses after 24 hours.
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(Read(clinic_, id).status, 403);
  // The author facility sees its own report.
  EXPECT_EQ(Read(checkup_doctor_, id).status, 200);
}

TEST_P(DocumentServiceTest, SubmissionsAreRefusedWhenTheyBreakARule) {
  // Only physicians and dentists of the author facility send.
  EXPECT_EQ(Submit(clinic_, ReferralWithSummary()).status, 403);
  EXPECT_EQ(Submit(Staff(kHospital, FacilityType::kHospital, Qualification::kClerk),
                   ReferralWithSummary())
                .status,
            403);
  // Unknown patient: 422, not a new patient.
  std::string other = ReferralWithSummary();
  other.replace(other.find("１２３４"), std::string("１２３４").size(), "９９９９");
  EXPECT_EQ(Submit(hospital_, other).status, 422);
  // Not JSON, not FHIR JSON, not a document.
  EXPECT_EQ(Submit(hospital_, "{").status, 400);
  EXPECT_EQ(Call(Method::kPost, "/fhir/Bundle/$submit-document", hospital_, "", "{}",
                 {{"content-type", "text/plain"}})
                .status,
            415);
  EXPECT_EQ(Submit(hospital_, R"({"resourceType":"Bundle","type":"document"})").status, 422);
}

TEST_P(DocumentServiceTest, RetriedSubmissionSendsTheLetterOnce) {
  const std::string body = ReferralWithSummary();
  Response first = Submit(hospital_, body, {{"x-request-id", "req-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  Response again = Submit(hospital_, body, {{"x-request-id", "req-1"}});
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(json::GetString(Body(again), "id"), json::GetString(Body(first), "id"));
  EXPECT_EQ(
      Count(kDocumentBundleType, {"patient", store::MatchOp::kEq, false, "", {"Patient/pat-1"}}),
      1u);
  // The same key for another body is a conflict; another key is another letter.
  EXPECT_EQ(Submit(hospital_, body + " ", {{"x-request-id", "req-1"}}).status, 409);
  EXPECT_EQ(Submit(hospital_, body, {{"x-request-id", "req-2"}}).status, 201);
  EXPECT_EQ(
      Count(kDocumentBundleType, {"patient", store::MatchOp::kEq, false, "", {"Patient/pat-1"}}),
      2u);
}

TEST_P(DocumentServiceTest, SignedReferralIsVerifiedAndKept) {
  auth::KeyPair key = auth::testkeys::MakeKey("ES384");
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                return tx.PutKey(auth::testkeys::RecordFor(key, "practitioner",
                                                           hospital_.practitioner_id, "k1"));
              }).ok());
  const std::string body = ReferralWithSummary();
  auto jws = auth::SignCompact(
      key, "ES384", "k1",
      json::object{{"bundle_sha256", crypto::Sha256Hex(body)}, {"sub", hospital_.practitioner_id}});
  ASSERT_TRUE(jws.ok());
  Response r = Submit(hospital_, body, {{"x-signature", *jws}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto row = Row(kDocumentBundleType, std::string(json::GetString(Body(r), "id").value_or("")));
  ASSERT_TRUE(row);
  EXPECT_NE(row->json.find("\"sigFormat\":\"application/jose\""), std::string::npos);
  // A signature over another body, or a tampered one, is refused.
  EXPECT_EQ(Submit(hospital_, body + " ", {{"x-signature", *jws}}).status, 401);
  EXPECT_EQ(Submit(hospital_, body, {{"x-signature", *jws + "x"}}).status, 401);
}

TEST_P(DocumentServiceTest, BodyAndAttachmentLimitsAreEnforced) {
  const std::string body = ReferralWithSummary();
  // The body limit (configurable; 10 MB by default) is exceeded.
  DocumentService small(*store_, *audit_, *blobs_, clock_, Limits{}, nullptr, body.size() - 1);
  RouteTable routes = small.Routes();
  Request req;
  req.method = Method::kPost;
  req.path = "/fhir/Bundle/$submit-document";
  req.headers["content-type"] = "application/fhir+json";
  req.body = body;
  req.principal = hospital_;
  EXPECT_EQ(small.HandleSubmit(req).status, 413);
  EXPECT_EQ(routes[0].max_body_bytes, body.size() - 1);
  // The per-attachment limit is exceeded: nothing is stored.
  auto tiny = BlobStore::Open(dir_ / "tiny", 8);
  ASSERT_TRUE(tiny.ok());
  DocumentService strict(*store_, *audit_, **tiny, clock_);
  Response r = strict.HandleSubmit(req);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(
      Count(kDocumentBundleType, {"patient", store::MatchOp::kEq, false, "", {"Patient/pat-1"}}),
      0u);
}

INSTANTIATE_TEST_SUITE_P(Engines, DocumentServiceTest, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace renkei::clinical
