// Attachments of deleted documents (issue 5: after deletion, 410 Gone): whoever could have
// read a deleted document gets 410 for its attachments; anyone else gets 404 as for a hash
// never seen, so the hash of some content never confirms that it was sent.
#include <set>

#include "clinical/document_read.h"
#include "document_fixture.h"

namespace renkei::clinical {
namespace {

class AttachmentGoneTest : public DocumentServiceTest {
 protected:
  // What the retention sweeper does to an expired document: a deleted version carrying the
  // tombstone terms, and no earlier version left.
  void Delete(std::string_view id, bool keep_terms = true) {
    auto row = Row(kDocumentBundleType, id);
    ASSERT_TRUE(row);
    store::ResourceRow tomb;
    tomb.type = row->type;
    tomb.id = row->id;
    tomb.patient_id = row->patient_id;
    tomb.deleted = true;
    tomb.last_updated = clock_.Now();
    std::vector<store::IndexTerm> terms;
    if (keep_terms) terms = DocumentTombstoneTerms(*row);
    ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite,
                                        [&](store::Transaction& tx) -> Status {
                                          RK_TRY(tx.WriteResource(tomb, terms, row->version));
                                          return tx.EraseHistory(tomb.type, tomb.id);
                                        })
                    .ok());
  }
  std::vector<StoredAttachment> Attachments(std::string_view id) {
    auto stored = json::ParseObject(Row(kDocumentBundleType, id)->json, Limits{});
    EXPECT_TRUE(stored.ok());
    return stored.ok() ? AttachmentsOf(*stored) : std::vector<StoredAttachment>{};
  }
  int Binary(const Principal& who, const std::string& sha) {
    return Call(Method::kGet, "/fhir/Binary/{id}", who, sha).status;
  }
};

TEST_P(AttachmentGoneTest, TombstoneTermsKeepTheDecisionFactsOnly) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  auto row = Row(kDocumentBundleType, id);
  ASSERT_TRUE(row);
  auto attachments = Attachments(id);
  ASSERT_EQ(attachments.size(), 2u);
  std::vector<store::IndexTerm> terms = DocumentTombstoneTerms(*row);
  std::set<std::string> params;
  for (const auto& t : terms) params.insert(t.param);
  EXPECT_EQ(params,
            (std::set<std::string>{"attachment", "author", "addressee", "consent", "doc-type"}));
  int attachment_terms = 0;
  for (const auto& t : terms) {
    if (t.param != "attachment") continue;
    ++attachment_terms;
    EXPECT_EQ(t.system, t.value == attachments[1].sha256 ? "discharge-summary" : "");
  }
  EXPECT_EQ(attachment_terms, 2);
  // Not a document, or already a tombstone: nothing to keep.
  store::ResourceRow other = *row;
  other.type = "Observation";
  EXPECT_TRUE(DocumentTombstoneTerms(other).empty());
  other = *row;
  other.deleted = true;
  EXPECT_TRUE(DocumentTombstoneTerms(other).empty());
}

TEST_P(AttachmentGoneTest, ReadersOfTheDeletedDocumentGetGoneOthersNotFound) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  auto attachments = Attachments(id);
  ASSERT_EQ(attachments.size(), 2u);
  ASSERT_EQ(Binary(clinic_, attachments[0].sha256), 200);
  EXPECT_EQ(Binary(osaka_, attachments[0].sha256), 403);
  clock_.Advance(std::chrono::hours(24 * 8));
  Delete(id);
  // The blob file is still there (released later): the answer must not depend on it.
  for (const StoredAttachment& a : attachments) {
    EXPECT_EQ(Binary(clinic_, a.sha256), 410) << a.sha256;    // the addressee
    EXPECT_EQ(Binary(hospital_, a.sha256), 410) << a.sha256;  // the author
    EXPECT_EQ(Binary(osaka_, a.sha256), 404) << a.sha256;     // never allowed
    EXPECT_EQ(Binary(clinic_clerk_, a.sha256), 404) << a.sha256;
    EXPECT_EQ(Binary(PatientPrincipal("pat-2"), a.sha256), 404) << a.sha256;
  }
  Response gone = Call(Method::kGet, "/fhir/Binary/{id}", clinic_, attachments[0].sha256);
  EXPECT_NE(gone.body.find("OperationOutcome"), std::string::npos) << gone.body;
  EXPECT_EQ(gone.body.find(id), std::string::npos) << "names the deleted document";
  // A hash nobody ever sent stays 404 for everyone.
  EXPECT_EQ(Binary(clinic_, std::string(64, 'b')), 404);
}

TEST_P(AttachmentGoneTest, PendingConsentMeansTheAddresseeNeverCouldRead) {
  // No consent yet: the addressee could not read it before deletion, so learns nothing after.
  const std::string id = SendReferral();
  auto attachments = Attachments(id);
  ASSERT_FALSE(attachments.empty());
  ASSERT_EQ(Binary(clinic_, attachments[0].sha256), 403);
  Delete(id);
  EXPECT_EQ(Binary(clinic_, attachments[0].sha256), 404);
  EXPECT_EQ(Binary(hospital_, attachments[0].sha256), 410);
}

TEST_P(AttachmentGoneTest, AttachmentStillHeldByALiveDocumentIsServed) {
  const std::string first = SendReferral({{"x-patient-consent", "referring-facility"}});
  const std::string second = SendReferral({{"x-patient-consent", "referring-facility"}});
  ASSERT_NE(first, second);
  auto attachments = Attachments(first);
  ASSERT_FALSE(attachments.empty());
  Delete(first);
  EXPECT_EQ(Binary(clinic_, attachments[0].sha256), 200);
  EXPECT_EQ(Binary(osaka_, attachments[0].sha256), 403);
  Delete(second);
  EXPECT_EQ(Binary(clinic_, attachments[0].sha256), 410);
  EXPECT_EQ(Binary(osaka_, attachments[0].sha256), 404);
}

TEST_P(AttachmentGoneTest, TombstoneWithoutKeptTermsAnswersNotFound) {
  // Documents deleted before tombstones kept their terms: nothing links the hash any more.
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  auto attachments = Attachments(id);
  ASSERT_FALSE(attachments.empty());
  Delete(id, false);
  EXPECT_EQ(Binary(clinic_, attachments[0].sha256), 404);
}

TEST_P(AttachmentGoneTest, GoneIsAudited) {
  const std::string id = SendReferral({{"x-patient-consent", "referring-facility"}});
  auto attachments = Attachments(id);
  ASSERT_FALSE(attachments.empty());
  Delete(id);
  auto count_gone = [&] {
    store::AuditFilter f;
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
    EXPECT_TRUE(rows.ok());
    int n = 0;
    for (const auto& r : rows.ok() ? *rows : std::vector<store::AuditRow>{}) {
      if (r.outcome == "error" && r.detail.find("\"attachment\":true") != std::string::npos &&
          r.detail.find("410") != std::string::npos)
        ++n;
    }
    return n;
  };
  EXPECT_EQ(count_gone(), 0);
  ASSERT_EQ(Binary(clinic_, attachments[0].sha256), 410);
  EXPECT_EQ(count_gone(), 1);
  ASSERT_EQ(Binary(osaka_, attachments[0].sha256), 404);
  EXPECT_EQ(count_gone(), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, AttachmentGoneTest, ::testing::ValuesIn(AllEngines()),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace renkei::clinical
