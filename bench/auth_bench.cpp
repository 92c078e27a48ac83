// Access-token verification runs on every request (DESIGN.md §4): it must cost microseconds
// and touch no database.
#include <benchmark/benchmark.h>

#include "auth/access_token.h"
#include "core/crypto.h"

namespace {

renkei::Principal Doctor() {
  renkei::Principal p;
  p.subject = "prac-13-hosp-physician-1";
  p.facility_code = "1310000011";
  p.facility_type = renkei::FacilityType::kHospital;
  p.prefecture = "13";
  p.emergency_hospital = true;
  p.practitioner_id = p.subject;
  p.qualification = renkei::Qualification::kPhysician;
  return p;
}

void BM_VerifyAccessToken(benchmark::State& state) {
  auto codec = renkei::auth::AccessTokenCodec::Create(renkei::crypto::RandomBytes(32), "renkei");
  renkei::SystemClock clock;
  const std::string token = codec->Issue(Doctor(), clock.Now(), std::chrono::seconds(300));
  const auto now = clock.Now();
  for (auto _ : state) {
    auto principal = codec->Verify(token, now);
    benchmark::DoNotOptimize(principal);
  }
}
BENCHMARK(BM_VerifyAccessToken);

void BM_IssueAccessToken(benchmark::State& state) {
  auto codec = renkei::auth::AccessTokenCodec::Create(renkei::crypto::RandomBytes(32), "renkei");
  renkei::SystemClock clock;
  const auto principal = Doctor();
  for (auto _ : state) {
    benchmark::DoNotOptimize(codec->Issue(principal, clock.Now(), std::chrono::seconds(300)));
  }
}
BENCHMARK(BM_IssueAccessToken);

}  // namespace

BENCHMARK_MAIN();
