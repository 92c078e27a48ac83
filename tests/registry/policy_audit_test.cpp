// Who may read and write what, and the audit entries every patient read leaves behind;
// the programmatic create paths.
#include <set>

#include "fhir/capability.h"
#include "raw_exec.h"
#include "registry_fixture.h"

namespace renkei::registry::testing {
namespace {

class PolicyAuditTest : public RegistryTest {};

TEST_P(PolicyAuditTest, ClerksMayNotReadPatientRecords) {
  std::string id = MustCreate("Patient", MakinoJson(), Ministry());
  const Principal clerk = Staff(Qualification::kClerk, "clerk-1");
  Response r = Call(Method::kGet, "/fhir/Patient/" + id, clerk);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("clerks may verify eligibility but never view clinical information"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient?name=まきの", clerk).status, 403);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id + "/_history", clerk).status, 403);
  // The refusal is in the log too.
  bool denied = false;
  for (const auto& row : AuditFor(id)) {
    if (row.practitioner_id == "clerk-1" && row.outcome == "denied" && row.action == "read") {
      denied = true;
    }
  }
  EXPECT_TRUE(denied);
  // Even with the patient's consent at that facility: the clerk is refused, the physician reads.
  Consent(id, clerk);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id, clerk).status, 403);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id, Staff(Qualification::kPhysician)).status,
            200);
}

TEST_P(PolicyAuditTest, InsurersWriteAndReadOnlyTheirOwn) {
  std::string a_org = MustCreateInsurer("06123456");
  MustCreateInsurer("01130012");
  const Principal a = Insurer("06123456");
  const Principal b = Insurer("01130012");
  std::string patient = MustCreate("Patient", MakinoJson(), a);
  // Writing a Coverage paid by another insurer: 403.
  Response other =
      Call(Method::kPost, "/fhir/Coverage", b,
           CoverageJson("Patient/" + patient, PayorById("06123456"), "06123456:あいう:１８７:05"));
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_NE(other.body.find("own insurer number"), std::string::npos);
  Response by_ref =
      Call(Method::kPost, "/fhir/Coverage", b,
           CoverageJson("Patient/" + patient, PayorByRef(a_org), "06123456:あいう:１８７:05"));
  EXPECT_EQ(by_ref.status, 403) << by_ref.body;
  // Its own: 201.
  std::string coverage = MustCreate(
      "Coverage",
      CoverageJson("Patient/" + patient, PayorById("06123456"), "06123456:あいう:１８７:05"), a);
  // Reads: the paying insurer reads the Coverage and the Patient it covers; the other does not.
  EXPECT_EQ(Call(Method::kGet, "/fhir/Coverage/" + coverage, a).status, 200);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + patient, a).status, 200);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Coverage/" + coverage, b).status, 403);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + patient, b).status, 403);
  // Coverage searches cover the insurer's own Coverage only, with true totals.
  auto seen_by_b = Parse(Call(Method::kGet, "/fhir/Coverage", b).body);
  EXPECT_EQ(seen_by_b.if_contains("entry"), nullptr);
  EXPECT_EQ(seen_by_b.at("total").as_int64(), 0);
  auto seen_by_a = Parse(Call(Method::kGet, "/fhir/Coverage", a).body);
  EXPECT_EQ(seen_by_a.at("total").as_int64(), 1);
  // Patient searches name the patient (nothing is filtered after the query, so totals are
  // true); a patient the insurer does not cover is refused whole.
  std::string stranger =
      MustCreate("Patient", PatientJson("他人", "三郎", "タニン", "サブロウ", "01130012::3:"), b);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient", a).status, 400);
  auto patients_a = Parse(Call(Method::kGet, "/fhir/Patient?_id=" + patient, a).body);
  EXPECT_EQ(patients_a.at("total").as_int64(), 1);
  ASSERT_EQ(patients_a.at("entry").as_array().size(), 1u);
  EXPECT_EQ(patients_a.at("entry").at(0).at("resource").at("id").as_string(), patient);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient?_id=" + patient + "," + stranger, a).status, 403);
  // Insurer b cannot take a's Coverage over by changing the payor in an update.
  auto changed = Parse(Call(Method::kGet, "/fhir/Coverage/" + coverage, a).body);
  changed["payor"] = json::array{Parse(PayorById("01130012"))};
  EXPECT_EQ(Call(Method::kPut, "/fhir/Coverage/" + coverage, b, json::Serialize(changed)).status,
            403);
  // An insurer writes only the people it insures: not a Patient under another insurer's number,
  // and not another insurer's Patient by rewriting the number in an update.
  Response foreign = Call(Method::kPost, "/fhir/Patient", b,
                          PatientJson("他人", "四郎", "タニン", "シロウ", "06123456::4:"));
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  EXPECT_NE(foreign.body.find("its own insurer number"), std::string::npos) << foreign.body;
  auto taken = Parse(Call(Method::kGet, "/fhir/Patient/" + patient, a).body);
  taken["identifier"].as_array()[0].as_object()["value"] = "01130012:あいう:１８７:05";
  EXPECT_EQ(Call(Method::kPut, "/fhir/Patient/" + patient, b, json::Serialize(taken)).status, 403);
  // Practitioners write no registry data.
  EXPECT_EQ(
      Call(Method::kPost, "/fhir/Patient", Staff(Qualification::kPhysician), MakinoJson()).status,
      403);
}

TEST_P(PolicyAuditTest, EveryPatientReadLeavesAnAuditEntry) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(MustCreate(
        "Patient",
        PatientJson("鈴木", "一郎", "スズキ", "イチロウ", fmt::format("06123456::{}:", i)),
        Ministry()));
  }
  const Principal doctor = Staff(Qualification::kPhysician, "dr-audit");
  for (const auto& id : ids) Consent(id, doctor);
  ASSERT_EQ(Call(Method::kGet, "/fhir/Patient/" + ids[0], doctor).status, 200);
  ASSERT_EQ(Call(Method::kGet, "/fhir/Patient/" + ids[0] + "/_history/1", doctor).status, 200);
  ASSERT_EQ(Call(Method::kGet, "/fhir/Patient/" + ids[0] + "/_history", doctor).status, 200);
  ASSERT_EQ(Call(Method::kGet, "/fhir/Patient?_id=" + ids[0] + "," + ids[1] + "," + ids[2], doctor)
                .status,
            200);

  std::map<std::string, int> actions;
  for (const auto& row : AuditFor(ids[0])) {
    // The consent the doctor's reception recorded is audited too; this counts the reads.
    if (row.practitioner_id != "dr-audit" || row.category == "Consent") continue;
    ++actions[row.action];
    EXPECT_EQ(row.purpose, "TREAT");
    EXPECT_EQ(row.facility_code, "1312345678");
    EXPECT_EQ(row.category, "Patient");
    EXPECT_EQ(row.outcome, "success");
  }
  EXPECT_EQ(actions["read"], 1);
  EXPECT_EQ(actions["vread"], 1);
  EXPECT_EQ(actions["history"], 1);
  EXPECT_EQ(actions["search"], 1);
  // The search audited each patient it returned, once.
  for (size_t i = 1; i < ids.size(); ++i) {
    int searches = 0;
    for (const auto& row : AuditFor(ids[i])) {
      if (row.practitioner_id == "dr-audit" && row.action == "search") ++searches;
    }
    EXPECT_EQ(searches, 1) << i;
  }
  // Writes were audited inside their transactions.
  bool created = false;
  for (const auto& row : AuditFor(ids[0])) {
    if (row.action == "create" && row.purpose == "HOPERAT") created = true;
  }
  EXPECT_TRUE(created);
}

TEST_P(PolicyAuditTest, BulkCreateInOneTransaction) {
  MustCreateInsurer("06123456");
  std::vector<json::object> resources;
  for (int i = 0; i < 200; ++i) {
    json::object p =
        Parse(PatientJson("田中", "花子", "タナカ", "ハナコ", fmt::format("06123456::{}:", i)));
    std::string id = fmt::format("bulk-patient-{}", i);
    p["id"] = id;
    resources.push_back(std::move(p));
    resources.push_back(Parse(
        CoverageJson("Patient/" + id, PayorById("06123456"), fmt::format("06123456::{}:", i))));
  }
  std::vector<std::string> ids;
  Status s = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_ASSIGN_OR_RETURN(ids, service_->CreateManyInTransaction(tx, Ministry(), resources));
        return Ok();
      });
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(ids.size(), 400u);
  EXPECT_EQ(ids[0], "bulk-patient-0");
  auto total = Parse(Call(Method::kGet, "/fhir/Coverage?_count=0", Ministry()).body);
  EXPECT_EQ(total.at("total").as_int64(), 200);
  auto found =
      Parse(Call(Method::kGet, "/fhir/Coverage?identifier=06123456::７:", Ministry()).body);
  EXPECT_EQ(found.at("total").as_int64(), 1);

  // One audit entry for the whole batch.
  store::AuditFilter f;
  f.purpose = "HOPERAT";
  f.count = 1000;
  auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
      *store_, store::TxMode::kRead, [&](store::Transaction& tx) { return tx.FindAudit(f); });
  ASSERT_TRUE(rows.ok());
  int batches = 0;
  for (const auto& row : *rows) {
    if (row.detail.find("\"count\":400") != std::string::npos) ++batches;
  }
  EXPECT_EQ(batches, 1);

  // One invalid resource: every issue reported, nothing written.
  std::vector<json::object> bad;
  bad.push_back(Parse(MakinoJson()));
  json::object broken = Parse(MakinoJson());
  broken["birthDate"] = "someday";
  bad.push_back(broken);
  Status b = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        auto created = service_->CreateManyInTransaction(tx, Ministry(), bad);
        if (!created.ok()) return std::move(created).error();
        return Ok();
      });
  ASSERT_FALSE(b.ok());
  ASSERT_EQ(b.error().issues().size(), 1u);
  EXPECT_EQ(b.error().issues()[0].expression, "resources[1].birthDate");
  auto patients = Parse(Call(Method::kGet, "/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(patients.at("total").as_int64(), 200);

  // The single-resource path returns the new id.
  std::string single;
  Status one = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_ASSIGN_OR_RETURN(single,
                            service_->CreateInTransaction(tx, Ministry(), Parse(MakinoJson())));
        return Ok();
      });
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + single, Ministry()).status, 200);
}

TEST_P(PolicyAuditTest, RoutesMarkPatientData) {
  int patient_routes = 0;
  for (const auto& r : routes_) {
    EXPECT_NE(r.pattern, "/fhir/metadata");
    if (r.resource_type == "Patient" || r.resource_type == "Coverage") {
      // Reads return stored patient data; writes answer with what the writer sent.
      const bool write =
          r.interaction == Interaction::kCreate || r.interaction == Interaction::kUpdate;
      EXPECT_EQ(r.returns_patient_data, !write) << r.pattern;
      ++patient_routes;
    }
    if (r.resource_type == "Organization") {
      EXPECT_FALSE(r.returns_patient_data) << r.pattern;
    }
  }
  EXPECT_EQ(patient_routes, 12);
  // Without a principal nothing is served.
  Request req;
  req.method = Method::kGet;
  req.path = "/fhir/Patient/x";
  req.path_params["id"] = "x";
  EXPECT_EQ(service_->Read(req, "Patient").status, 401);
}

TEST_P(PolicyAuditTest, CapabilityStatementOfTheServiceRoutes) {
  json::object cs = fhir::CapabilityStatementFrom(routes_, "http://test", "0.1.0");
  const auto& rest = cs.at("rest").at(0).as_object();
  std::set<std::string> system;
  for (const auto& i : rest.at("interaction").as_array()) {
    system.insert(std::string(i.at("code").as_string()));
  }
  EXPECT_EQ(system, (std::set<std::string>{"batch", "transaction"}));
  std::set<std::string> types;
  for (const auto& res : rest.at("resource").as_array()) {
    types.insert(std::string(res.at("type").as_string()));
    std::set<std::string> interactions;
    for (const auto& i : res.at("interaction").as_array()) {
      interactions.insert(std::string(i.at("code").as_string()));
    }
    EXPECT_EQ(interactions, (std::set<std::string>{"read", "vread", "history-instance", "update",
                                                   "create", "search-type"}));
    EXPECT_TRUE(res.at("conditionalCreate").as_bool());
    EXPECT_FALSE(res.at("updateCreate").as_bool());
  }
  EXPECT_EQ(types, (std::set<std::string>{"Coverage", "Organization", "Patient", "Practitioner",
                                          "PractitionerRole"}));
}

TEST_P(PolicyAuditTest, DeletedResourceIsGone) {
  std::string id = MustCreate("Patient", MakinoJson(), Ministry());
  const Principal doctor = Staff(Qualification::kPhysician);
  Consent(id, doctor);
  // A deleted version as retention or a later DELETE writes it.
  Status s = store::RunInTransaction(
      *store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        store::ResourceRow row;
        row.type = "Patient";
        row.id = id;
        row.last_updated = clock_.Now();
        row.deleted = true;
        row.patient_id = id;
        return tx.WriteResource(row, {}, 1).ok() ? Ok() : Error(ErrorCode::kInternal, "write");
      });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id, doctor).status, 410);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id + "/_history/1", doctor).status, 200);
  auto search = Parse(Call(Method::kGet, "/fhir/Patient?_id=" + id, doctor).body);
  EXPECT_EQ(search.at("total").as_int64(), 0);
}

TEST_P(PolicyAuditTest, NoDataLeavesWhenTheAuditCannotBeWritten) {
  std::string id = MustCreate("Patient", MakinoJson(), Ministry());
  Consent(id, Staff(Qualification::kPhysician));
  const bool sqlite = GetParam() == Engine::kSqlite;
  std::string err = RawExec(
      GetParam(), db_->url(),
      sqlite ? "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit refused'); END;"
             : "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
               "'audit refused'; END $$ LANGUAGE plpgsql; CREATE TRIGGER refuse_audit BEFORE "
               "INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();");
  ASSERT_EQ(err, "");
  const Principal doctor = Staff(Qualification::kPhysician);
  Response read = Call(Method::kGet, "/fhir/Patient/" + id, doctor);
  EXPECT_GE(read.status, 500) << read.body;
  EXPECT_EQ(read.body.find("牧野"), std::string::npos);
  Response search = Call(Method::kGet, "/fhir/Patient?_id=" + id, doctor);
  EXPECT_GE(search.status, 500);
  EXPECT_EQ(search.body.find("牧野"), std::string::npos);
  // A write whose audit entry cannot be written is not stored either.
  EXPECT_GE(Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson()).status, 500);
  // Organization reads are not audited and still work.
  EXPECT_EQ(Call(Method::kGet, "/fhir/Organization", doctor).status, 200);

  ASSERT_EQ(
      RawExec(GetParam(), db_->url(),
              sqlite ? "DROP TRIGGER refuse_audit;" : "DROP TRIGGER refuse_audit ON audit_log;"),
      "");
  auto total = Parse(Call(Method::kGet, "/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(total.at("total").as_int64(), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, PolicyAuditTest,
                         ::testing::ValuesIn(renkei::testing::AllEngines()), EngineParamName);

}  // namespace
}  // namespace renkei::registry::testing
