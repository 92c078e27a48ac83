// ChainHash: deterministic, covering every field, and unambiguous across field boundaries.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "audit/audit_log.h"
#include "audit/chain_head.h"

namespace renkei::audit {
namespace {

store::AuditRow Row() {
  store::AuditRow row;
  row.seq = 7;
  row.recorded = TimePoint(std::chrono::microseconds(1'795'000'000'123'456));
  row.facility_code = "1310000001";
  row.practitioner_id = "prac";
  row.qualification = "physician";
  row.patient_id = "pat";
  row.action = "read";
  row.category = "Patient";
  row.purpose = "TREAT";
  row.outcome = "success";
  row.detail = "{}";
  row.prev_hash = std::string(64, '0');
  return row;
}

TEST(ChainHashTest, IsHexSha256AndDeterministic) {
  std::string h = ChainHash(Row());
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(h, ChainHash(Row()));
}

TEST(ChainHashTest, EveryFieldButTheHashItselfChangesIt) {
  using Mutator = std::function<void(store::AuditRow&)>;
  const std::vector<Mutator> mutators = {
      [](store::AuditRow& r) { r.seq++; },
      [](store::AuditRow& r) { r.recorded += std::chrono::microseconds(1); },
      [](store::AuditRow& r) { r.facility_code += "x"; },
      [](store::AuditRow& r) { r.practitioner_id += "x"; },
      [](store::AuditRow& r) { r.qualification += "x"; },
      [](store::AuditRow& r) { r.patient_id += "x"; },
      [](store::AuditRow& r) { r.action += "x"; },
      [](store::AuditRow& r) { r.category += "x"; },
      [](store::AuditRow& r) { r.purpose += "x"; },
      [](store::AuditRow& r) { r.outcome += "x"; },
      [](store::AuditRow& r) { r.detail += "x"; },
      [](store::AuditRow& r) { r.prev_hash[0] = '1'; },
  };
  std::set<std::string> seen = {ChainHash(Row())};
  for (size_t i = 0; i < mutators.size(); ++i) {
    store::AuditRow r = Row();
    mutators[i](r);
    EXPECT_TRUE(seen.insert(ChainHash(r)).second) << "mutator " << i;
  }
  store::AuditRow r = Row();
  r.hash = "anything";
  EXPECT_EQ(ChainHash(r), ChainHash(Row()));
}

TEST(ChainHashTest, FieldBoundariesAreUnambiguous) {
  store::AuditRow a = Row();
  store::AuditRow b = Row();
  a.practitioner_id = "ab";
  a.qualification = "c";
  b.practitioner_id = "a";
  b.qualification = "bc";
  EXPECT_NE(ChainHash(a), ChainHash(b));
  // A field holding what looks like a length prefix cannot fake a boundary either.
  a = Row();
  b = Row();
  a.category = "1:x";
  a.purpose = "";
  b.category = "";
  b.purpose = "1:x";
  EXPECT_NE(ChainHash(a), ChainHash(b));
}

TEST(ChainHeadTest, RoundTripsAndRejectsMalformed) {
  std::string hash(64, 'e');
  auto head = ParseChainHead(FormatChainHead(12, hash));
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 12);
  EXPECT_EQ(head->hash, hash);
  EXPECT_FALSE(ParseChainHead("").has_value());
  EXPECT_FALSE(ParseChainHead("12").has_value());
  EXPECT_FALSE(ParseChainHead("0:" + hash).has_value());
  EXPECT_FALSE(ParseChainHead("x:" + hash).has_value());
  EXPECT_FALSE(ParseChainHead("12:short").has_value());
}

TEST(EntryForTest, FillsWhoFromThePrincipal) {
  Principal doc;
  doc.kind = PrincipalKind::kPractitioner;
  doc.facility_code = "1310000001";
  doc.practitioner_id = "prac-9";
  doc.qualification = Qualification::kNurse;
  AuditEntry e = EntryFor(doc, "pat-1", "read", "Patient", "TREAT");
  EXPECT_EQ(e.facility_code, "1310000001");
  EXPECT_EQ(e.practitioner_id, "prac-9");
  EXPECT_EQ(e.qualification, "nurse");
  EXPECT_EQ(e.patient_id, "pat-1");
  EXPECT_EQ(e.outcome, "success");

  Principal patient;
  patient.kind = PrincipalKind::kPatient;
  patient.subject = "pat-1";
  e = EntryFor(patient, "pat-1", "read", "Patient", "PATRQT", "denied");
  EXPECT_EQ(e.qualification, "patient");
  EXPECT_EQ(e.practitioner_id, "");
  EXPECT_EQ(e.outcome, "denied");

  Principal insurer;
  insurer.kind = PrincipalKind::kSystem;
  insurer.facility_code = "06130001";
  e = EntryFor(insurer, "", "create", "Coverage", "HOPERAT");
  EXPECT_EQ(e.qualification, "system");
}

}  // namespace
}  // namespace renkei::audit
