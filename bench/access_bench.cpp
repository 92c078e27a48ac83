// The access decision function (issue "Access policy", Performance: under 2 µs per call).
// Facts are sized like a busy patient's: several consents at several facilities, a disaster
// declaration elsewhere, a few hidden items and a block list.
#include <benchmark/benchmark.h>

#include "access/decision.h"

namespace renkei::access {
namespace {

TimePoint At(const char* text) {
  return *ParseDateTime(text);
}

AccessFacts BusyFacts() {
  AccessFacts f;
  const char* facilities[] = {"1310000029", "1340000013", "2710000017", "1710000013", "1310000011"};
  int hour = 0;
  for (const char* code : facilities) {
    CardConsent c;
    c.facility_code = code;
    c.groups = kConsentAll;
    c.signed_at = At("2026-03-01T00:00:00Z") + std::chrono::hours(hour++);
    f.consents.push_back(c);
  }
  f.consents[1].revoked = true;
  f.consents[1].revoked_at = At("2026-03-01T05:00:00Z");
  f.declarations.push_back({{"17", "16"}, At("2026-01-01T00:00:00Z"), At("2026-01-31T00:00:00Z")});
  f.restrictions.blocked_facilities = {"4010000012", "2310000010"};
  f.restrictions.hidden_item_ids = {"Condition/psy-1", "Condition/psy-2", "Observation/hiv-1"};
  f.now = At("2026-03-01T10:00:00Z");
  return f;
}

AccessRequest HospitalRead(Purpose purpose) {
  AccessRequest r;
  r.actor.kind = ActorKind::kPractitioner;
  r.actor.facility_code = "1310000011";
  r.actor.facility_type = FacilityType::kHospital;
  r.actor.prefecture = "13";
  r.actor.emergency_hospital = true;
  r.actor.qualification = Qualification::kPhysician;
  r.patient_id = "pat-000001";
  r.item.category = Category::kDiagnoses;
  r.item.item_id = "Condition/c-42";
  r.item.registering_facility = "2710000017";
  r.purpose.purpose = purpose;
  r.purpose.reason = "unconscious on arrival";
  r.purpose.consent_cannot_be_obtained = true;
  return r;
}

void BM_DecideTreatPermit(benchmark::State& state) {
  const AccessFacts facts = BusyFacts();
  const AccessRequest r = HospitalRead(Purpose::kTreat);
  for (auto _ : state) {
    Decision d = Decide(r, facts);
    benchmark::DoNotOptimize(d);
    if (!d.permit) state.SkipWithError("expected permit");
  }
}
BENCHMARK(BM_DecideTreatPermit);

void BM_DecideEmergencyWithHiddenItems(benchmark::State& state) {
  const AccessFacts facts = BusyFacts();
  const AccessRequest r = HospitalRead(Purpose::kEmergency);
  for (auto _ : state) {
    Decision d = Decide(r, facts);
    benchmark::DoNotOptimize(d);
    if (!d.permit || !(d.masks & kMaskHiddenNotice)) state.SkipWithError("expected notice");
  }
}
BENCHMARK(BM_DecideEmergencyWithHiddenItems);

void BM_DecideTreatDenyNoConsent(benchmark::State& state) {
  AccessFacts facts = BusyFacts();
  facts.now = At("2026-03-03T10:00:00Z");  // every consent has closed
  const AccessRequest r = HospitalRead(Purpose::kTreat);
  for (auto _ : state) {
    Decision d = Decide(r, facts);
    benchmark::DoNotOptimize(d);
    if (d.permit) state.SkipWithError("expected deny");
  }
}
BENCHMARK(BM_DecideTreatDenyNoConsent);

void BM_DecidePatientOwnView(benchmark::State& state) {
  const AccessFacts facts = BusyFacts();
  AccessRequest r = HospitalRead(Purpose::kPatientRequest);
  r.actor = Actor{};
  r.actor.kind = ActorKind::kPatient;
  r.actor.patient_id = "pat-000001";
  for (auto _ : state) {
    Decision d = Decide(r, facts);
    benchmark::DoNotOptimize(d);
    if (!d.permit) state.SkipWithError("expected permit");
  }
}
BENCHMARK(BM_DecidePatientOwnView);

// The search scope: one decision per category (and flag), once per search.
void BM_ScopeForEmergencySearch(benchmark::State& state) {
  const AccessFacts facts = BusyFacts();
  const AccessRequest r = HospitalRead(Purpose::kEmergency);
  for (auto _ : state) {
    SearchScope scope = ScopeFor(r.actor, r.patient_id, r.purpose, facts);
    benchmark::DoNotOptimize(scope);
    if (scope.hidden_item_ids == nullptr) state.SkipWithError("expected hidden items");
  }
}
BENCHMARK(BM_ScopeForEmergencySearch);

}  // namespace
}  // namespace renkei::access

BENCHMARK_MAIN();
