// `renkei seed`: demo facilities in four prefectures, practitioners of every qualification with
// their keys, and patients with coverage and card keys (issue "platform foundation", item 7).
// Everything goes through the registry's validation and the audit log like any other write.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "app/commands.h"
#include "app/demo_names.h"
#include "app/key_files.h"
#include "audit/audit_log.h"
#include "audit/patient_index.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/json.h"
#include "registry/identifiers.h"
#include "registry/registry_kinds.h"
#include "registry/resource_service.h"
#include "store/store.h"

namespace renkei::app {
namespace {

namespace reg = registry;

struct Facility {
  std::string code;  // institution code, insurer number, or renkei facility code
  FacilityType type;
  std::string prefecture;
  std::string name;
  bool emergency = false;
  bool nurses_may_view = false;
};

// Codes follow DESIGN.md §4: prefecture(2), point table (1 medical, 3 dental, 4 pharmacy), 7
// digits.
const std::vector<Facility>& Facilities() {
  static const std::vector<Facility> kFacilities = {
      {"1310000011", FacilityType::kHospital, "13", "東京中央病院", true},
      {"1310000029", FacilityType::kClinic, "13", "千代田内科クリニック"},
      {"1330000015", FacilityType::kDentalClinic, "13", "丸の内歯科医院"},
      {"1340000013", FacilityType::kPharmacy, "13", "神田調剤薬局"},
      {"2710000017", FacilityType::kHospital, "27", "大阪北総合病院", false, true},
      {"2710000025", FacilityType::kClinic, "27", "梅田こどもクリニック"},
      {"2740000019", FacilityType::kPharmacy, "27", "北区さくら薬局"},
      {"1710000013", FacilityType::kHospital, "17", "輪島救急医療センター", true},
      {"1700000001", FacilityType::kFireDepartment, "17", "輪島市消防本部"},
      {"3210000018", FacilityType::kClinic, "32", "松江内科医院"},
      {"01130012", FacilityType::kInsurer, "13", "全国健康保険協会 東京支部"},
      {"06270015", FacilityType::kInsurer, "27", "大阪製造業健康保険組合"},
      {"0000000001", FacilityType::kMinistry, "13", "厚生労働省"},
      {"0000000002", FacilityType::kResearch, "13", "医療情報研究機構"},
  };
  return kFacilities;
}

// Which qualifications work where (DESIGN.md §4).
std::vector<Qualification> StaffOf(FacilityType type) {
  using Q = Qualification;
  switch (type) {
    case FacilityType::kHospital:
      return {Q::kPhysician, Q::kPhysician, Q::kNurse, Q::kPharmacist, Q::kClerk};
    case FacilityType::kClinic:
      return {Q::kPhysician, Q::kNurse, Q::kClerk};
    case FacilityType::kDentalClinic:
      return {Q::kDentist, Q::kClerk};
    case FacilityType::kPharmacy:
      return {Q::kPharmacist, Q::kClerk};
    case FacilityType::kFireDepartment:
      return {Q::kParamedic, Q::kParamedic};
    default:
      return {Q::kClerk};  // insurer, ministry and research staff act as clerks
  }
}

std::string_view ShortName(FacilityType type) {
  switch (type) {
    case FacilityType::kHospital:
      return "hosp";
    case FacilityType::kClinic:
      return "clinic";
    case FacilityType::kDentalClinic:
      return "dental";
    case FacilityType::kPharmacy:
      return "pharmacy";
    case FacilityType::kFireDepartment:
      return "fire";
    case FacilityType::kInsurer:
      return "insurer";
    case FacilityType::kMinistry:
      return "ministry";
    case FacilityType::kResearch:
      return "research";
  }
  return "facility";
}

json::object Coding(std::string_view system, std::string_view code) {
  json::object c;
  c["system"] = system;
  c["code"] = code;
  return c;
}

json::object Concept(std::string_view system, std::string_view code) {
  json::object cc;
  cc["coding"] = json::array{Coding(system, code)};
  return cc;
}

json::object Identifier(std::string_view system, std::string_view value) {
  json::object i;
  i["system"] = system;
  i["value"] = value;
  return i;
}

json::object Name(std::string_view representation, std::string_view family,
                  std::string_view given) {
  json::object ext;
  ext["url"] = reg::kNameRepresentationExtension;
  ext["valueCode"] = representation;
  json::object n;
  n["extension"] = json::array{ext};
  n["text"] = fmt::format("{} {}", family, given);
  n["family"] = family;
  n["given"] = json::array{json::value(given)};
  return n;
}

json::object OrganizationOf(const Facility& f) {
  json::object org;
  org["resourceType"] = "Organization";
  org["id"] = "org-" + f.code;
  std::string_view system = reg::kFacilityCodeSystem;
  if (f.type == FacilityType::kInsurer) system = reg::kInsurerNumberSystem;
  if (f.type == FacilityType::kHospital || f.type == FacilityType::kClinic ||
      f.type == FacilityType::kDentalClinic || f.type == FacilityType::kPharmacy) {
    system = reg::kInstitutionNoSystem;
  }
  org["identifier"] = json::array{Identifier(system, f.code)};
  org["active"] = true;
  org["type"] = json::array{Concept(reg::kFacilityTypeSystem, ToString(f.type))};
  org["name"] = f.name;
  json::array ext;
  json::object pref;
  pref["url"] = reg::kPrefectureExtension;
  pref["valueCoding"] = Coding(reg::kPrefectureSystem, f.prefecture);
  ext.push_back(pref);
  if (f.type == FacilityType::kHospital) {
    json::object em;
    em["url"] = reg::kEmergencyHospitalExtension;
    em["valueBoolean"] = f.emergency;
    ext.push_back(em);
  }
  if (f.nurses_may_view) {
    json::object nurses;
    nurses["url"] = reg::kNursesMayViewExtension;
    nurses["valueBoolean"] = true;
    ext.push_back(nurses);
  }
  org["extension"] = std::move(ext);
  return org;
}

struct Member {
  std::string insurer, symbol, number, branch;
  std::string Id() const { return fmt::format("{}:{}:{}:{}", insurer, symbol, number, branch); }
};

// Coverage states the demo exercises: most active, some lapsed, some not yet valid.
std::string_view CoverageState(int i) {
  if (i % 20 == 7) return "lapsed";
  if (i % 20 == 13) return "future";
  return "active";
}

struct PatientSeed {
  std::string id;
  Member member;
  std::string state;
};

std::pair<json::object, json::object> PatientAndCoverage(int i, TimePoint now, std::mt19937& rng,
                                                         PatientSeed& out) {
  const auto& family = kFamilyNames[rng() % kFamilyNames.size()];
  const auto& given = kGivenNames[rng() % kGivenNames.size()];
  const auto& place = kPlaces[rng() % kPlaces.size()];
  const bool first_insurer = i % 3 != 0;
  static constexpr std::array<std::string_view, 4> kSymbols = {"", "あいう", "12", "東京"};
  out.id = fmt::format("pat-{:06d}", i);
  out.member = Member{first_insurer ? "01130012" : "06270015", std::string(kSymbols[i % 4]),
                      fmt::format("{:08d}", 10000000 + i * 7), fmt::format("{:02d}", i % 3)};
  out.state = std::string(CoverageState(i));

  json::object p;
  p["resourceType"] = "Patient";
  p["id"] = out.id;
  p["identifier"] = json::array{Identifier(reg::kMemberIdSystem, out.member.Id())};
  p["active"] = true;
  p["name"] =
      json::array{Name("IDE", family.kanji, given.kanji), Name("SYL", family.kana, given.kana)};
  p["gender"] = (rng() % 2) != 0 ? "female" : "male";
  int year = 1930 + static_cast<int>(rng() % 90);
  p["birthDate"] = fmt::format("{:04d}-{:02d}-{:02d}", year, 1 + rng() % 12, 1 + rng() % 28);
  json::object address;
  address["text"] = fmt::format("{}{}{}丁目{}-{}", place.prefecture, place.city, 1 + rng() % 5,
                                1 + rng() % 20, 1 + rng() % 30);
  address["state"] = place.prefecture;
  address["city"] = place.city;
  p["address"] = json::array{address};

  json::object c;
  c["resourceType"] = "Coverage";
  c["id"] = fmt::format("cov-{:06d}", i);
  c["identifier"] = json::array{Identifier(reg::kMemberIdSystem, out.member.Id())};
  c["status"] = "active";
  json::object beneficiary;
  beneficiary["reference"] = "Patient/" + out.id;
  c["beneficiary"] = beneficiary;
  json::object payor;
  payor["reference"] = "Organization/org-" + out.member.insurer;
  c["payor"] = json::array{payor};
  json::object period;
  if (out.state == "lapsed") {
    period["start"] = "2020-04-01";
    period["end"] = FormatDate(now - std::chrono::days(30));
  } else if (out.state == "future") {
    period["start"] = FormatDate(now + std::chrono::days(30));
  } else {
    period["start"] = "2024-04-01";
  }
  c["period"] = period;
  json::object cost;
  cost["type"] = Concept(reg::kCopayTypeSystem, "copaypct");
  json::object pct;
  pct["value"] = year < 1956 ? 10 : 30;  // 75+ pay 10% (simplified), others 30%
  pct["unit"] = "%";
  cost["valueQuantity"] = pct;
  c["costToBeneficiary"] = json::array{cost};
  json::object hc;
  hc["url"] = reg::kHighCostCategoryExtension;
  static constexpr std::array<std::string_view, 5> kCategories = {"ア", "イ", "ウ", "エ", "オ"};
  hc["valueCoding"] = Coding(reg::kHighCostCategorySystem, kCategories[i % 5]);
  c["extension"] = json::array{hc};
  return {std::move(p), std::move(c)};
}

Principal SeedPrincipal() {
  Principal who;
  who.kind = PrincipalKind::kSystem;
  who.subject = "renkei-seed";
  who.facility_code = "0000000001";
  who.facility_type = FacilityType::kMinistry;
  who.prefecture = "13";
  who.qualification = Qualification::kClerk;
  return who;
}

int Fail(const Error& e) {
  std::cerr << "seed failed: " << e.ToString() << "\n";
  return 1;
}

}  // namespace

int Seed(const SeedOptions& o) {
  auto opened = store::Open(o.db_url, 2);
  if (!opened.ok()) return Fail(opened.error());
  store::Store& db = **opened;
  if (auto m = db.Migrate(); !m.ok()) return Fail(m.error());
  SystemClock clock;
  const TimePoint now = clock.Now();
  audit::AuditLog audit_log(db, clock);
  registry::ResourceService resources(db, audit_log, clock, Limits{}, registry::RegistryKinds());
  const Principal who = SeedPrincipal();
  std::filesystem::create_directories(o.out_dir);
  std::mt19937 rng(20261121);

  // Facilities, practitioners, roles and their keys, in one transaction.
  std::vector<json::object> directory;
  std::vector<store::KeyRecord> keys;
  std::ofstream practitioners_tsv(o.out_dir + "/practitioners.tsv");
  practitioners_tsv << "id\tqualification\tfacility_type\tfacility\n";
  json::array manifest_facilities, manifest_practitioners;
  for (const Facility& f : Facilities()) {
    directory.push_back(OrganizationOf(f));
    json::object mf;
    mf["code"] = f.code;
    mf["type"] = ToString(f.type);
    mf["prefecture"] = f.prefecture;
    mf["name"] = f.name;
    if (f.type == FacilityType::kHospital) mf["emergency"] = f.emergency;
    manifest_facilities.push_back(mf);
  }
  int staff_no = 0;
  for (const Facility& f : Facilities()) {
    std::map<Qualification, int> seen;
    for (Qualification q : StaffOf(f.type)) {
      const std::string id =
          fmt::format("prac-{}-{}-{}-{}", f.prefecture, ShortName(f.type), ToString(q), ++seen[q]);
      const auto& family = kFamilyNames[staff_no % kFamilyNames.size()];
      const auto& given = kGivenNames[(staff_no * 7 + 3) % kGivenNames.size()];
      ++staff_no;
      json::object pr;
      pr["resourceType"] = "Practitioner";
      pr["id"] = id;
      pr["name"] =
          json::array{Name("IDE", family.kanji, given.kanji), Name("SYL", family.kana, given.kana)};
      json::object qual;
      qual["code"] = Concept(reg::kQualificationSystem, ToString(q));
      pr["qualification"] = json::array{qual};
      directory.push_back(pr);
      json::object role;
      role["resourceType"] = "PractitionerRole";
      role["id"] = "role-" + id;
      role["active"] = true;
      json::object pref, oref;
      pref["reference"] = "Practitioner/" + id;
      oref["reference"] = "Organization/org-" + f.code;
      role["practitioner"] = pref;
      role["organization"] = oref;
      role["code"] = json::array{Concept(reg::kQualificationSystem, ToString(q))};
      directory.push_back(role);

      // One RS384 key among the ES384 ones, so both SMART algorithms are exercised.
      const std::string alg = staff_no % 9 == 0 ? "RS384" : "ES384";
      auto key = auth::GenerateKey(alg);
      if (!key.ok()) return Fail(key.error());
      const std::string kid = id + "-1";
      if (auto w = WriteKeyFile(PractitionerKeyPath(o.out_dir, id), auth::PrivateJwk(*key, kid));
          !w.ok())
        return Fail(w.error());
      keys.push_back({"practitioner", id, kid, alg, auth::PublicJwk(*key, kid), now, false});
      practitioners_tsv << id << '\t' << ToString(q) << '\t' << ToString(f.type) << '\t' << f.code
                        << '\n';
      json::object mp;
      mp["id"] = id;
      mp["qualification"] = ToString(q);
      mp["facility"] = f.code;
      manifest_practitioners.push_back(mp);
    }
  }
  Status s =
      store::RunInTransaction(db, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_TRY(resources.CreateManyInTransaction(tx, who, directory));
        for (const auto& k : keys) RK_TRY(tx.PutKey(k));
        return Ok();
      });
  if (!s.ok()) return Fail(s.error());

  // Patients and coverage in chunks (a million patients must not be one transaction).
  std::ofstream patients_tsv(o.out_dir + "/patients.tsv");
  patients_tsv << "id\tinsurer\tsymbol\tnumber\tbranch\tcoverage\n";
  json::array manifest_patients;
  constexpr int kChunk = 500;
  const int card_keys = o.card_keys < 0 ? o.patients : o.card_keys;
  for (int start = 1; start <= o.patients; start += kChunk) {
    const int end = std::min(o.patients, start + kChunk - 1);
    std::vector<json::object> batch;
    std::vector<store::KeyRecord> cards;
    for (int i = start; i <= end; ++i) {
      PatientSeed ps;
      auto [patient, coverage] = PatientAndCoverage(i, now, rng, ps);
      batch.push_back(std::move(patient));
      batch.push_back(std::move(coverage));
      patients_tsv << ps.id << '\t' << ps.member.insurer << '\t' << ps.member.symbol << '\t'
                   << ps.member.number << '\t' << ps.member.branch << '\t' << ps.state << '\n';
      if (i <= card_keys) {
        // The card's key pair stands for the My Number card's authentication certificate
        // (DESIGN.md §4); ES256 keeps seeding a large demo fast.
        auto key = auth::GenerateKey("ES256");
        if (!key.ok()) return Fail(key.error());
        const std::string kid = ps.id + "-card-1";
        if (auto w = WriteKeyFile(CardKeyPath(o.out_dir, ps.id), auth::PrivateJwk(*key, kid));
            !w.ok())
          return Fail(w.error());
        cards.push_back({"patient", ps.id, kid, "ES256", auth::PublicJwk(*key, kid), now, false});
      }
      if (i <= 1000) {
        json::object mp, ins;
        mp["id"] = ps.id;
        ins["insurer"] = ps.member.insurer;
        ins["symbol"] = ps.member.symbol;
        ins["number"] = ps.member.number;
        ins["branch"] = ps.member.branch;
        mp["insurance"] = ins;
        mp["coverage"] = ps.state;
        mp["card"] = i <= card_keys;
        manifest_patients.push_back(mp);
      }
    }
    s = store::RunInTransaction(db, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
      RK_TRY(resources.CreateManyInTransaction(tx, who, batch));
      for (const auto& k : cards) RK_TRY(tx.PutKey(k));
      return Ok();
    });
    if (!s.ok()) return Fail(s.error());
    if (o.patients >= 100000 && end % 100000 == 0) std::cerr << "seeded " << end << " patients\n";
  }
  // The seed's own audit entries go into the patient index now, not behind a starting server.
  if (Status s = audit::IndexAllPatientAccesses(db); !s.ok()) return Fail(s.error());

  json::object manifest;
  manifest["facilities"] = std::move(manifest_facilities);
  manifest["practitioners"] = std::move(manifest_practitioners);
  manifest["patients"] = std::move(manifest_patients);
  manifest["patients_total"] = o.patients;
  std::ofstream(o.out_dir + "/manifest.json") << json::Serialize(manifest) << "\n";
  std::cout << "seeded " << Facilities().size() << " facilities, " << staff_no
            << " practitioners and " << o.patients << " patients; keys and manifest in "
            << o.out_dir << "\n";
  return 0;
}

}  // namespace renkei::app
