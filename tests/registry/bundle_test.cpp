// POST /fhir: transactions all or nothing with urn:uuid references, batches entry by entry,
// the entry limit, and idempotent transaction retries.
#include "registry_fixture.h"

namespace renkei::registry::testing {
namespace {

class BundleTest : public RegistryTest {
 protected:
  int64_t Count(std::string_view type) {
    Response r = Call(Method::kGet, fmt::format("/fhir/{}?_count=0", type), Ministry());
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse(r.body).at("total").as_int64();
  }

  static std::string Entry(std::string_view full_url, std::string_view resource,
                           std::string_view method, std::string_view url) {
    std::string out = "{";
    if (!full_url.empty()) out += fmt::format(R"("fullUrl":"{}",)", full_url);
    if (!resource.empty()) out += fmt::format(R"("resource":{},)", resource);
    out += fmt::format(R"("request":{{"method":"{}","url":"{}"}}}})", method, url);
    return out;
  }

  static std::string Bundle(std::string_view type, const std::vector<std::string>& entries) {
    std::string joined;
    for (const auto& e : entries) joined += (joined.empty() ? "" : ",") + e;
    return fmt::format(R"({{"resourceType":"Bundle","type":"{}","entry":[{}]}})", type, joined);
  }
};

TEST_P(BundleTest, TransactionResolvesUrnUuidReferences) {
  MustCreateInsurer("06123456");
  const std::string patient_urn = "urn:uuid:7c6d0f7e-1111-4a4a-9c9c-000000000001";
  // The Coverage comes first and refers to the Patient created in the same transaction.
  std::string body =
      Bundle("transaction",
             {Entry("urn:uuid:7c6d0f7e-1111-4a4a-9c9c-000000000002",
                    CoverageJson(patient_urn, PayorById("06123456"), "06123456:あいう:１８７:05"),
                    "POST", "Coverage"),
              Entry(patient_urn, MakinoJson(), "POST", "Patient")});
  Response r = Call(Method::kPost, "/fhir", Insurer("06123456"), body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = Parse(r.body);
  EXPECT_EQ(b.at("type").as_string(), "transaction-response");
  const auto& entries = b.at("entry").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("response").at("status").as_string(), "201 Created");
  std::string coverage_loc(entries[0].at("response").at("location").as_string());
  std::string patient_loc(entries[1].at("response").at("location").as_string());
  ASSERT_EQ(patient_loc.rfind("Patient/", 0), 0u);
  std::string patient_id = patient_loc.substr(8, patient_loc.find('/', 8) - 8);
  std::string coverage_id = coverage_loc.substr(9, coverage_loc.find('/', 9) - 9);

  Consent(patient_id, Staff(Qualification::kPhysician));
  Response coverage =
      Call(Method::kGet, "/fhir/Coverage/" + coverage_id, Staff(Qualification::kPhysician));
  ASSERT_EQ(coverage.status, 200) << coverage.body;
  EXPECT_EQ(Parse(coverage.body).at("beneficiary").at("reference").as_string(),
            "Patient/" + patient_id);
  // The eligibility module's lookups: Coverage by member id (folded) and by beneficiary.
  auto by_member = Parse(
      Call(Method::kGet,
           "/fhir/Coverage?identifier=06123456:アイウ:187:05&beneficiary=" + patient_id, Ministry())
          .body);
  EXPECT_EQ(by_member.at("total").as_int64(), 1);
}

TEST_P(BundleTest, TransactionWithOneBadEntryStoresNothing) {
  MustCreateInsurer("06123456");
  std::string bad_patient = MakinoJson();
  bad_patient.replace(bad_patient.find("\"female\""), 8, "\"woman\"");
  std::string body = Bundle(
      "transaction",
      {Entry("urn:uuid:a", MakinoJson(), "POST", "Patient"),
       Entry("urn:uuid:b", bad_patient, "POST", "Patient"),
       Entry("", CoverageJson("urn:uuid:a", PayorById("06123456"), "06123456:あいう:１８７:05"),
             "POST", "Coverage")});
  Response r = Call(Method::kPost, "/fhir", Ministry(), body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Bundle.entry[1].resource.gender"), std::string::npos) << r.body;
  EXPECT_EQ(Count("Patient"), 0);
  EXPECT_EQ(Count("Coverage"), 0);

  // A failure found only while writing (an unknown payor) also rolls back the earlier writes.
  std::string late = Bundle(
      "transaction",
      {Entry("urn:uuid:a", MakinoJson(), "POST", "Patient"),
       Entry("", CoverageJson("urn:uuid:a", PayorById("99999999"), "99999999:あいう:１８７:05"),
             "POST", "Coverage")});
  Response r2 = Call(Method::kPost, "/fhir", Ministry(), late);
  EXPECT_EQ(r2.status, 422) << r2.body;
  EXPECT_EQ(Count("Patient"), 0);
}

TEST_P(BundleTest, BatchEntriesSucceedOrFailOnTheirOwn) {
  std::string bad_patient = MakinoJson();
  bad_patient.replace(bad_patient.find("\"1930-06-28\""), 12, "\"1930-13-01\"");
  std::string body = Bundle("batch", {Entry("", MakinoJson(), "POST", "Patient"),
                                      Entry("", bad_patient, "POST", "Patient"),
                                      Entry("", "", "GET", "Patient/does-not-exist"),
                                      Entry("", "", "GET", "Patient?name=まきの")});
  Response r = Call(Method::kPost, "/fhir", Ministry(), body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = Parse(r.body);
  EXPECT_EQ(b.at("type").as_string(), "batch-response");
  const auto& e = b.at("entry").as_array();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].at("response").at("status").as_string(), "201 Created");
  EXPECT_EQ(e[1].at("response").at("status").as_string(), "400 Bad Request");
  EXPECT_EQ(e[1].at("response").at("outcome").at("resourceType").as_string(), "OperationOutcome");
  EXPECT_EQ(e[2].at("response").at("status").as_string(), "404 Not Found");
  EXPECT_EQ(e[3].at("resource").at("total").as_int64(), 1);
  EXPECT_EQ(Count("Patient"), 1);
}

TEST_P(BundleTest, EntryLimitExceededIs413) {
  Limits limits;
  limits.max_bundle_entries = 3;
  Start(limits);
  std::vector<std::string> entries;
  for (int i = 0; i < 4; ++i) entries.push_back(Entry("", MakinoJson(), "POST", "Patient"));
  EXPECT_EQ(Call(Method::kPost, "/fhir", Ministry(), Bundle("transaction", entries)).status, 413);
  EXPECT_EQ(Call(Method::kPost, "/fhir", Ministry(), Bundle("batch", entries)).status, 413);
  entries.pop_back();
  EXPECT_EQ(Call(Method::kPost, "/fhir", Ministry(), Bundle("transaction", entries)).status, 200);
  EXPECT_EQ(Count("Patient"), 3);
}

TEST_P(BundleTest, RetriedTransactionWithRequestIdWritesOnce) {
  std::string body = Bundle("transaction", {Entry("urn:uuid:a", MakinoJson(), "POST", "Patient")});
  Response a = Call(Method::kPost, "/fhir", Ministry(), body, {{"x-request-id", "tx-1"}});
  ASSERT_EQ(a.status, 200) << a.body;
  Response b = Call(Method::kPost, "/fhir", Ministry(), body, {{"x-request-id", "tx-1"}});
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(Count("Patient"), 1);
  Response other = Call(Method::kPost, "/fhir", Ministry(),
                        Bundle("batch", {Entry("", MakinoJson(), "POST", "Patient")}),
                        {{"x-request-id", "tx-1"}});
  // A batch does not use the key; it is simply run.
  EXPECT_EQ(other.status, 200);
  Response changed =
      Call(Method::kPost, "/fhir", Ministry(),
           Bundle("transaction", {Entry("urn:uuid:b", MakinoJson(), "POST", "Patient")}),
           {{"x-request-id", "tx-1"}});
  EXPECT_EQ(changed.status, 409) << changed.body;
}

TEST_P(BundleTest, NotABatchOrTransaction) {
  Response r = Call(Method::kPost, "/fhir", Ministry(),
                    R"({"resourceType":"Bundle","type":"collection","entry":[]})");
  EXPECT_EQ(r.status, 400) << r.body;
}

INSTANTIATE_TEST_SUITE_P(Engines, BundleTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         EngineParamName);

}  // namespace
}  // namespace renkei::registry::testing
