// Runs every row of decision_table.tsv (the rules as data) through access::Decide, and checks
// that every rule section of the table has at least one permit and one deny case.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "access/decision.h"

#ifndef RENKEI_ACCESS_TABLE
#error "RENKEI_ACCESS_TABLE must name decision_table.tsv"
#endif

namespace renkei::access {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// A row turned into owned inputs (the request holds views into it).
struct Case {
  int line = 0;
  std::string section;
  std::string name;
  std::vector<std::string> cols;
  // owned storage for the views
  std::string facility, prefecture, actor_patient, patient, item_id, registered_by, uninformed_date,
      reason, addressee;
  AccessRequest request;
  AccessFacts facts;
  bool expect_permit = false;
  std::string basis, reason_contains;
  uint8_t masks = 0;
};

TimePoint Time(const std::string& text, const Case& c) {
  auto t = ParseDateTime(text);
  if (!t) ADD_FAILURE() << "line " << c.line << ": bad time " << text;
  return t.value_or(TimePoint{});
}

bool Empty(const std::string& s) {
  return s.empty() || s == "-";
}

void ParseActor(Case& c, const std::string& text) {
  Actor& a = c.request.actor;
  if (text == "researcher") {
    a.kind = ActorKind::kResearcher;
    return;
  }
  if (text.rfind("patient:", 0) == 0) {
    a.kind = ActorKind::kPatient;
    c.actor_patient = text.substr(8);
    return;
  }
  auto at = text.find('@');
  ASSERT_NE(at, std::string::npos) << "line " << c.line;
  ASSERT_TRUE(ParseQualification(text.substr(0, at), a.qualification)) << "line " << c.line;
  auto parts = Split(text.substr(at + 1), ':');
  ASSERT_GE(parts.size(), 3u) << "line " << c.line;
  std::string type = parts[0];
  for (char& ch : type) ch = ch == '_' ? '-' : ch;
  ASSERT_TRUE(ParseFacilityType(type, a.facility_type)) << "line " << c.line << " " << type;
  c.facility = parts[1];
  c.prefecture = parts[2];
  for (size_t i = 3; i < parts.size(); ++i) {
    if (parts[i] == "er") {
      a.emergency_hospital = true;
    } else if (parts[i] == "nurses") {
      c.facts.nurses_may_view = true;
    } else {
      ADD_FAILURE() << "line " << c.line << ": unknown actor option " << parts[i];
    }
  }
}

uint8_t ParseMasks(const std::string& text, const Case& c) {
  uint8_t m = 0;
  if (Empty(text)) return m;
  for (const auto& w : Split(text, ',')) {
    if (w == "uninformed") {
      m |= kMaskUninformedFlag;
    } else if (w == "hidden") {
      m |= kMaskHiddenNotice;
    } else if (w == "current") {
      m |= kMaskCurrentMedication;
    } else {
      ADD_FAILURE() << "line " << c.line << ": unknown mask " << w;
    }
  }
  return m;
}

void ParseCase(Case& c) {
  const auto& col = c.cols;
  ASSERT_EQ(col.size(), 18u) << "line " << c.line << " has " << col.size() << " columns";
  c.name = col[0];
  ParseActor(c, col[1]);
  c.patient = col[2];
  ASSERT_TRUE(ParseCategory(col[3], c.request.item.category)) << "line " << c.line;
  if (!Empty(col[4])) c.item_id = col[4];
  if (!Empty(col[5])) c.registered_by = col[5];
  if (!Empty(col[6])) {
    for (const auto& f : Split(col[6], ',')) {
      if (f == "undelivered") {
        c.request.item.undelivered = true;
      } else if (f.rfind("uninformed=", 0) == 0) {
        c.request.item.uninformed = true;
        c.uninformed_date = f.substr(11);
      } else if (f.rfind("addressee=", 0) == 0) {
        c.addressee = f.substr(10);
      } else if (f == "consented") {
        c.request.item.document_consent = true;
      } else {
        ADD_FAILURE() << "line " << c.line << ": unknown flag " << f;
      }
    }
  }
  static const std::map<std::string, Purpose> kPurposes = {
      {"TREAT", Purpose::kTreat},           {"ETREAT", Purpose::kEmergency},
      {"AMBULANCE", Purpose::kAmbulance},   {"DISASTER", Purpose::kDisaster},
      {"PATRQT", Purpose::kPatientRequest}, {"HRESCH", Purpose::kResearch},
      {"HOPERAT", Purpose::kOperations},    {"COVERAGE", Purpose::kCoverage}};
  auto p = kPurposes.find(col[7]);
  ASSERT_NE(p, kPurposes.end()) << "line " << c.line << ": purpose " << col[7];
  c.request.purpose.purpose = p->second;
  if (!Empty(col[8])) {
    for (const auto& w : Split(col[8], ',')) {
      if (w == "cannot") {
        c.request.purpose.consent_cannot_be_obtained = true;
      } else if (w == "verbal") {
        c.request.purpose.verbal_consent = true;
      } else if (w.rfind("reason=", 0) == 0) {
        c.reason = w.substr(7);
      } else {
        ADD_FAILURE() << "line " << c.line << ": unknown claim " << w;
      }
    }
  }
  if (!Empty(col[9])) {
    for (const auto& text : Split(col[9], ';')) {
      auto parts = Split(text, '/');
      ASSERT_GE(parts.size(), 3u) << "line " << c.line;
      CardConsent consent;
      consent.facility_code = parts[0];
      for (const auto& g : Split(parts[1], '+')) {
        uint8_t bits = ParseConsentGroup(g);
        EXPECT_NE(bits, 0) << "line " << c.line << ": group " << g;
        consent.groups |= bits;
      }
      consent.signed_at = Time(parts[2], c);
      if (parts.size() > 3) {
        ASSERT_EQ(parts[3].rfind("revoked=", 0), 0u) << "line " << c.line;
        consent.revoked = true;
        consent.revoked_at = Time(parts[3].substr(8), c);
      }
      c.facts.consents.push_back(std::move(consent));
    }
  }
  if (!Empty(col[10])) {
    for (const auto& text : Split(col[10], ';')) {
      auto parts = Split(text, '/');
      ASSERT_EQ(parts.size(), 3u) << "line " << c.line;
      DisasterDeclaration d;
      d.prefectures = Split(parts[0], ',');
      d.start = Time(parts[1], c);
      d.end = Time(parts[2], c);
      c.facts.declarations.push_back(std::move(d));
    }
  }
  if (!Empty(col[11])) {
    PatientRestrictions& r = c.facts.restrictions;
    for (const auto& w : Split(col[11], ',')) {
      if (w == "optout") {
        r.opted_out = true;
      } else if (w.rfind("allow=", 0) == 0) {
        r.allowed_facilities = Split(w.substr(6), '+');
      } else if (w.rfind("block=", 0) == 0) {
        r.blocked_facilities = Split(w.substr(6), '+');
      } else if (w.rfind("hide=", 0) == 0) {
        r.hidden_item_ids = Split(w.substr(5), '+');
      } else {
        ADD_FAILURE() << "line " << c.line << ": unknown restriction " << w;
      }
    }
  }
  c.facts.now = Time(col[12], c);
  ASSERT_TRUE(col[13] == "permit" || col[13] == "deny") << "line " << c.line;
  c.expect_permit = col[13] == "permit";
  if (!Empty(col[14])) c.basis = col[14];
  c.masks = ParseMasks(col[15], c);
  if (!Empty(col[16])) c.reason_contains = col[16];
  if (!Empty(col[17])) c.facts.insurers = Split(col[17], '+');

  // Point the request's views at the owned strings (after all assignments).
  c.request.actor.facility_code = c.facility;
  c.request.actor.prefecture = c.prefecture;
  c.request.actor.patient_id = c.actor_patient;
  c.request.patient_id = c.patient;
  c.request.item.item_id = c.item_id;
  c.request.item.registering_facility = c.registered_by;
  c.request.item.uninformed_date = c.uninformed_date;
  c.request.item.addressee = c.addressee;
  c.request.purpose.reason = c.reason;
}

std::vector<Case> LoadTable() {
  std::ifstream in(RENKEI_ACCESS_TABLE);
  EXPECT_TRUE(in.good()) << "cannot open " << RENKEI_ACCESS_TABLE;
  std::vector<Case> cases;
  std::string line, section;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      // Section headers are "# Legal basis ...", "# Rule ...", "# Beyond ...", "# Research ...".
      if (line.find('\t') == std::string::npos && line.size() > 2 && line[1] == ' ' &&
          std::isupper(static_cast<unsigned char>(line[2])) &&
          line.find(':') != std::string::npos && line.rfind("# The ", 0) != 0) {
        section = line.substr(2, line.find(':') - 2);  // "Legal basis 1", ...
      }
      continue;
    }
    Case c;
    c.line = number;
    c.section = section;
    c.cols = Split(line, '\t');
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(AccessDecisionTable, EveryRowDecidesAsWritten) {
  auto cases = LoadTable();
  ASSERT_GE(cases.size(), 80u);
  std::map<std::string, int> names;
  for (auto& c : cases) {
    ParseCase(c);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_EQ(++names[c.name], 1) << "duplicate case name " << c.name;
    Decision d = Decide(c.request, c.facts);
    SCOPED_TRACE("line " + std::to_string(c.line) + " " + c.name +
                 " (reason: " + std::string(d.reason) + ")");
    EXPECT_EQ(d.permit, c.expect_permit);
    EXPECT_EQ(std::string(d.basis), c.basis);
    EXPECT_EQ(static_cast<int>(d.masks), static_cast<int>(c.masks));
    if (d.permit) {
      EXPECT_TRUE(d.reason.empty());
    } else {
      EXPECT_FALSE(d.reason.empty()) << "a denial must say why (403 OperationOutcome)";
      EXPECT_NE(std::string(d.reason).find(c.reason_contains), std::string::npos)
          << "expected the reason to contain \"" << c.reason_contains << "\"";
    }
  }
}

// The search scope (what a query may return) agrees with the decision on every row, so a
// search built from it returns exactly the items a read would permit.
TEST(AccessSearchScope, AgreesWithDecideOnEveryRow) {
  auto cases = LoadTable();
  for (auto& c : cases) {
    ParseCase(c);
    if (::testing::Test::HasFatalFailure()) return;
    SearchScope scope = ScopeFor(c.request.actor, c.request.patient_id, c.request.purpose, c.facts);
    Decision d = Decide(c.request, c.facts);
    EXPECT_EQ(InScope(scope, c.request.actor.facility_code, c.request.item), d.permit)
        << "line " << c.line << " " << c.name;
    if (d.permit && (d.masks & kMaskHiddenNotice)) {
      EXPECT_TRUE(scope.masks & kMaskHiddenNotice) << "line " << c.line << " " << c.name;
    }
  }
}

// Each rule of the issue has at least one permit and one deny case in the table.
TEST(AccessDecisionTable, EverySectionHasPermitAndDeny) {
  auto cases = LoadTable();
  std::map<std::string, std::pair<int, int>> sections;
  for (const auto& c : cases) {
    ASSERT_FALSE(c.section.empty()) << "line " << c.line << " is outside any rule section";
    ASSERT_GE(c.cols.size(), 14u);
    auto& [permits, denies] = sections[c.section];
    (c.cols[13] == "permit" ? permits : denies)++;
  }
  EXPECT_GE(sections.size(), 9u);
  for (const auto& [name, counts] : sections) {
    // A section titled "deny only" states a prohibition without exception.
    if (name.find("deny only") == std::string::npos) {
      EXPECT_GE(counts.first, 1) << name << " has no permit case";
    }
    EXPECT_GE(counts.second, 1) << name << " has no deny case";
  }
}

TEST(AccessCategories, NamesRoundTrip) {
  for (int i = 0; i < kCategoryCount; ++i) {
    auto c = static_cast<Category>(i);
    Category back{};
    ASSERT_TRUE(ParseCategory(ToString(c), back)) << i;
    EXPECT_EQ(back, c);
  }
  Category out{};
  EXPECT_FALSE(ParseCategory("psychiatry", out));
}

TEST(AccessConsentGroups, WordsMapToTheThreeGroups) {
  EXPECT_EQ(ParseConsentGroup("all"), kConsentAll);
  EXPECT_EQ(ParseConsentGroup("diagnoses"), kConsentSurgery);
  EXPECT_EQ(ParseConsentGroup("medication"), kConsentClinical);
  EXPECT_EQ(ParseConsentGroup("checkup"), kConsentCheckup);
  EXPECT_EQ(ParseConsentGroup("everything"), 0);
  EXPECT_EQ(ConsentGroupWords(kConsentAll), std::vector<std::string_view>{"all"});
  EXPECT_EQ(ConsentGroupWords(kConsentSurgery | kConsentCheckup),
            (std::vector<std::string_view>{"surgery", "checkup"}));
}

}  // namespace
}  // namespace renkei::access
