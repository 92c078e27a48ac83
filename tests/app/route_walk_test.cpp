// Every route that returns patient data asks the one door (issue "Access policy": "a test
// proves that every route returning patient data calls it, for example by walking the route
// table"). The walk takes the server's whole route table as the composition root builds it,
// calls each such route as a physician whose facility holds no consent, and checks that the
// handler asked access::Decide, refused, and let nothing of the patient out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "access/decision.h"
#include "app/commands.h"
#include "app/server_app.h"
#include "core/crypto.h"
#include "core/json.h"
#include "fhir/url.h"
#include "support/test_db.h"

namespace renkei::app {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPatient = "pat-000001";

// A request body for the POST routes that return patient data, keyed by route pattern. A new
// route returning patient data must add its example here (the walk fails otherwise), so that
// no route escapes the walk.
const std::map<std::string, std::string, std::less<>>& PostExamples() {
  static const std::map<std::string, std::string, std::less<>> kExamples = {
      {"/fhir",
       R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET",
          "url":"Patient/pat-000001"}}]})"},
      {"/fhir/MedicationRequest/$check",
       R"({"resourceType":"Parameters","parameter":[
          {"name":"patient","valueReference":{"reference":"Patient/pat-000001"}},
          {"name":"medication","part":[{"name":"code","valueCode":"2171022F2041"},
                                       {"name":"daysSupply","valueInteger":14}]}]})"},
      {"/fhir/MedicationRequest/$prescribe",
       R"({"resourceType":"Bundle","type":"document","entry":[
          {"resource":{"resourceType":"Patient","identifier":[{"system":
            "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
            "value":"01130012:あいう:10000007:01"}]}},
          {"resource":{"resourceType":"MedicationRequest","status":"active","intent":"order",
            "medicationCodeableConcept":{"coding":[{"system":
              "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code","code":"2171022F2025"}]},
            "dispenseRequest":{"expectedSupplyDuration":{"value":28,"unit":"日",
              "system":"http://unitsofmeasure.org","code":"d"}}}}]})"},
  };
  return kExamples;
}

// Query and headers of GET operations, keyed by route pattern: what a caller would send.
struct GetExample {
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
};
const std::map<std::string, GetExample, std::less<>>& GetExamples() {
  static const std::map<std::string, GetExample, std::less<>> kExamples = {
      {"/fhir/Patient/$find-urgent",
       {{{"name", "やまだたろう"},
         {"birthdate", "1980-01-15"},
         {"gender", "male"},
         {"address", "東京都"}},
        {{"x-purpose-of-use", "ETREAT"},
         {"x-access-reason", "%E6%95%91%E6%80%A5"},
         {"x-consent", "cannot-obtain"}}}},
  };
  return kExamples;
}

// Routes flagged as returning patient data whose basis is not the access decision, each with
// the reason; the walk fails for any other route it cannot exercise.
const std::map<std::string, std::string, std::less<>>& Exempt() {
  static const std::map<std::string, std::string, std::less<>> kExempt = {
      {"/fhir/MedicationRequest/$receive",
       "the patient hands the pharmacy the access code with their identification: the code is "
       "the basis of the receipt, as in the national prescription service"},
      {"/fhir/MedicationRequest/$release", "a pharmacy's own received prescription; state only"},
      {"/fhir/MedicationRequest/$cancel", "the prescriber's own prescription; state only"},
      {"/fhir/MedicationDispense/$dispense",
       "the pharmacist registers what they dispensed; the details of the check it runs are "
       "decided as for $check (tests/prescription)"},
  };
  return kExempt;
}

// Query parameters naming the patient for searches, by resource type. Operations take their
// own parameters (GET operations that need some add them to the examples below).
std::vector<std::pair<std::string, std::string>> PatientQuery(const Route& r) {
  if (r.interaction != Interaction::kSearchType) return {};
  if (r.resource_type == "Patient") return {{"_id", std::string(kPatient)}};
  if (r.resource_type == "Coverage") {
    return {{"beneficiary", "Patient/" + std::string(kPatient)}};
  }
  if (r.resource_type == "Subscription") return {};  // a patient's own, no parameters
  return {{"patient", "Patient/" + std::string(kPatient)}};
}

// The registered clinical items of the walk's patient, one id per type (RegisterItems).
std::map<std::string, std::string, std::less<>>& ItemIds() {
  static std::map<std::string, std::string, std::less<>> ids;
  return ids;
}

std::string IdFor(const Route& r) {
  if (r.resource_type == "Coverage") return "cov-000001";
  if (auto it = ItemIds().find(r.resource_type); it != ItemIds().end()) return it->second;
  return std::string(kPatient);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class RouteWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("renkei-walk-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    SeedOptions seed;
    seed.db_url = "sqlite:" + (dir_ / "walk.db").string();
    seed.out_dir = (dir_ / "keys").string();
    seed.patients = 3;
    ASSERT_EQ(Seed(seed), 0);
    ServeOptions serve;
    serve.db_url = seed.db_url;
    serve.db_pool = 2;
    auto app = ServerApp::Open(serve);
    ASSERT_TRUE(app.ok()) << app.error().ToString();
    app_ = std::move(app).value();
    RegisterItems();
    SubmitDocument();
  }

  // The Tokyo hospital sends the referral letter test instance to the walk's clinic for the
  // walk's patient, without the patient's consent, so that the document routes (Bundle,
  // Binary, receipt) have a pending letter and its attachment to refuse.
  void SubmitDocument() {
    const Route* submit = nullptr;
    for (const Route& r : app_->routes()) {
      if (r.pattern == "/fhir/Bundle/$submit-document") submit = &r;
    }
    ASSERT_NE(submit, nullptr);
    const fs::path documents = fs::path(RENKEI_CLINICAL_VALID_DIR).parent_path() / "documents";
    auto letter = json::ParseObject(ReadFile(documents / "referral.json"), Limits{});
    ASSERT_TRUE(letter.ok());
    json::array& entries = letter->at("entry").as_array();
    // The instance's discharge summary attachment is a stand-in: put the real test one there.
    entries[9].at("resource").at("content").at(0).at("attachment").as_object()["data"] =
        crypto::Base64Encode(ReadFile(documents / "discharge-summary.json"));
    entries[1].at("resource").at("identifier").at(0).as_object()["value"] =
        "01130012:あいう:10000007:01";
    const std::string pdf(
        entries[8].at("resource").at("content").at(0).at("attachment").at("data").as_string());
    Principal hospital = Physician();
    hospital.subject = hospital.practitioner_id = "prac-13-hosp-physician-1";
    hospital.facility_code = "1310000011";
    hospital.facility_type = FacilityType::kHospital;
    Request req;
    req.method = Method::kPost;
    req.path = submit->pattern;
    req.body = json::Serialize(*letter);
    req.headers["content-type"] = "application/fhir+json";
    req.principal = hospital;
    Response res = submit->handler(req);
    ASSERT_EQ(res.status, 201) << res.body;
    auto out = json::ParseObject(res.body, Limits{});
    ASSERT_TRUE(out.ok());
    ItemIds()["Bundle"] = std::string(out->at("id").as_string());
    ItemIds()["Binary"] = crypto::Sha256Hex(crypto::Base64Decode(pdf).value_or(""));
  }

  // The Tokyo hospital registers the JP-CLINS test bundles for the walk's patient, so that the
  // clinical item routes have items of another facility to refuse.
  void RegisterItems() {
    const Route* reg = nullptr;
    for (const Route& r : app_->routes()) {
      if (r.pattern == "/fhir/Bundle/$register-items") reg = &r;
    }
    ASSERT_NE(reg, nullptr);
    Principal hospital = Physician();
    hospital.subject = hospital.practitioner_id = "prac-13-hosp-physician-1";
    hospital.facility_code = "1310000011";
    hospital.facility_type = FacilityType::kHospital;
    for (const char* name : {"condition", "allergy", "observation"}) {
      std::string body =
          ReadFile(fs::path(RENKEI_CLINICAL_VALID_DIR) / (std::string(name) + ".json"));
      ASSERT_FALSE(body.empty()) << name;
      // The test bundles name an insured person of their own; the walk's patient is pat-000001.
      const std::string theirs = "01130012:ほけん:１２３４:01";
      body.replace(body.find(theirs), theirs.size(), "01130012:あいう:10000007:01");
      Request req;
      req.method = Method::kPost;
      req.path = reg->pattern;
      req.body = body;
      req.headers["content-type"] = "application/fhir+json";
      req.principal = hospital;
      Response res = reg->handler(req);
      ASSERT_EQ(res.status, 200) << res.body;
      auto out = json::ParseObject(res.body, Limits{});
      ASSERT_TRUE(out.ok());
      for (const auto& p : out->at("parameter").as_array()) {
        if (p.at("name").as_string() != "item") continue;
        std::string ref(p.at("valueReference").at("reference").as_string());
        ItemIds()[ref.substr(0, ref.find('/'))] = ref.substr(ref.find('/') + 1);
        break;
      }
    }
  }
  void TearDown() override {
    app_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A physician at the seeded Tokyo clinic: qualified, but holding no consent of anyone.
  static Principal Physician() {
    Principal p;
    p.kind = PrincipalKind::kPractitioner;
    p.subject = "prac-13-clinic-physician-1";
    p.practitioner_id = p.subject;
    p.facility_code = "1310000029";
    p.facility_type = FacilityType::kClinic;
    p.prefecture = "13";
    p.qualification = Qualification::kPhysician;
    return p;
  }

  fs::path dir_;
  std::unique_ptr<ServerApp> app_;
};

TEST_F(RouteWalkTest, EveryRouteReturningPatientDataAsksTheDecisionAndRefuses) {
  // The patient's name as stored, to prove none of it leaves in a refusal.
  const Route* read = nullptr;
  for (const Route& r : app_->routes()) {
    if (r.pattern == "/fhir/Patient/{id}" && r.method == Method::kGet) read = &r;
  }
  ASSERT_NE(read, nullptr);
  Request as_ministry;
  as_ministry.method = Method::kGet;
  as_ministry.path = "/fhir/Patient/" + std::string(kPatient);
  as_ministry.path_params["id"] = std::string(kPatient);
  Principal ministry;
  ministry.kind = PrincipalKind::kSystem;
  ministry.subject = "walk";
  ministry.facility_code = "0000000001";
  ministry.facility_type = FacilityType::kMinistry;
  as_ministry.principal = ministry;
  Response stored = read->handler(as_ministry);
  ASSERT_EQ(stored.status, 200) << stored.body;
  auto patient = json::ParseObject(stored.body, Limits{});
  ASSERT_TRUE(patient.ok());
  const std::string family(patient->at("name").at(0).at("family").as_string());
  ASSERT_FALSE(family.empty());

  int walked = 0;
  for (const Route& r : app_->routes()) {
    if (!r.returns_patient_data || Exempt().count(r.pattern)) continue;
    SCOPED_TRACE(std::string(MethodName(r.method)) + " " + r.pattern);
    Request req;
    req.method = r.method;
    req.base_url = "http://127.0.0.1";
    req.principal = Physician();
    req.path = r.pattern;
    for (const std::string name : {"id", "vid"}) {
      const std::string placeholder = "{" + name + "}";
      if (auto at = req.path.find(placeholder); at != std::string::npos) {
        const std::string value = name == "id" ? IdFor(r) : "1";
        req.path.replace(at, placeholder.size(), value);
        req.path_params[name] = value;
      }
    }
    req.query = PatientQuery(r);
    if (auto example = GetExamples().find(r.pattern); example != GetExamples().end()) {
      req.query = example->second.query;
      for (const auto& [name, value] : example->second.headers) req.headers[name] = value;
    }
    if (r.method == Method::kPost || r.method == Method::kPut) {
      auto example = PostExamples().find(r.pattern);
      ASSERT_NE(example, PostExamples().end())
          << "a route returning patient data has no example request in the walk";
      req.body = example->second;
      req.headers["content-type"] = "application/fhir+json";
    }
    const uint64_t before = access::DecisionsMadeOnThisThread();
    Response res = r.handler(req);
    EXPECT_GT(access::DecisionsMadeOnThisThread(), before)
        << "the handler never asked the decision";
    // Refused, or (a medication check) answered without any detail of the patient's history.
    EXPECT_TRUE(res.status == 403 || res.status == 200 || res.status == 201)
        << res.status << " " << res.body;
    if (res.status != 403 && r.pattern != "/fhir") {
      EXPECT_EQ(res.body.find("\"detailsShown\":true"), std::string::npos) << res.body;
    }
    EXPECT_EQ(res.body.find(family), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("birthDate"), std::string::npos) << res.body;
    ++walked;
  }
  // Patient and Coverage (read, vread, history, search), the bundle route, the access history,
  // the clinical items (read, search) and the summary.
  EXPECT_GE(walked, 17);
}

}  // namespace
}  // namespace renkei::app
