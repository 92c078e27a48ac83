// Card assertions (the My Number card stand-in) verified against keys in real databases.
#include "auth/card.h"

#include <gtest/gtest.h>

#include "auth/jws.h"
#include "auth/test_keys.h"
#include "core/json.h"
#include "support/test_db.h"

namespace renkei::auth {
namespace {

using renkei::testing::Engine;
using std::chrono::seconds;
using testkeys::MakeKey;
using testkeys::RecordFor;

const TimePoint kStart = FromUnixSeconds(1'800'000'000);
constexpr std::string_view kClinic = "1310000002";
constexpr std::string_view kPharmacy = "1340000001";

class CardTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    store_ = renkei::testing::MakeTestStore(GetParam());
    card_ = MakeKey("ES256");
    Register(RecordFor(card_, "patient", "pat-1", "card-1"));
  }

  void Register(const store::KeyRecord& record) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.PutKey(record); });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  std::string Sign(const KeyPair& key, std::string_view kid, std::string_view patient,
                   std::string_view facility, TimePoint at) {
    auto jws =
        SignCardAssertion(key, kid, patient, facility, "TREAT", {"clinical", "medication"}, at);
    EXPECT_TRUE(jws.ok()) << jws.error().ToString();
    return jws.ok() ? *jws : "";
  }
  std::string Sign(TimePoint at) { return Sign(card_, "card-1", "pat-1", kClinic, at); }

  static void ExpectRefused(const Result<CardAssertion>& r, ErrorCode code,
                            std::string_view reason = "") {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), code) << r.error().ToString();
    EXPECT_NE(r.error().message().find(reason), std::string::npos) << r.error().ToString();
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Store> store_;
  KeyPair card_;
};

TEST_P(CardTest, ValidAssertionIsAccepted) {
  CardVerifier verifier(*store_, clock_);
  std::string jws = Sign(kStart);
  EXPECT_EQ(json::GetString(PeekHeader(jws).value(), "typ"), "card+jwt");
  clock_.Advance(seconds(10));
  auto a = verifier.Verify(jws, kClinic);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->patient_id, "pat-1");
  EXPECT_EQ(a->facility_code, kClinic);
  EXPECT_EQ(a->purpose, "TREAT");
  EXPECT_EQ(a->categories, (std::vector<std::string>{"clinical", "medication"}));
  EXPECT_EQ(a->issued_at, kStart);
  EXPECT_GE(a->nonce.size(), 16u);
}

TEST_P(CardTest, EveryCardKeyTypeWorks) {
  KeyPair p384 = MakeKey("ES384");
  KeyPair rsa = std::move(KeyFromJwk(PrivateJwk(testkeys::SharedRsaKey(), "k")).value());
  Register(RecordFor(p384, "patient", "pat-2", "card-2"));
  Register(RecordFor(rsa, "patient", "pat-3", "card-3"));
  CardVerifier verifier(*store_, clock_);
  EXPECT_TRUE(verifier.Verify(Sign(p384, "card-2", "pat-2", kClinic, kStart), kClinic).ok());
  EXPECT_TRUE(verifier.Verify(Sign(rsa, "card-3", "pat-3", kClinic, kStart), kClinic).ok());
}

TEST_P(CardTest, AssertionForAnotherFacilityIsRefused) {
  CardVerifier verifier(*store_, clock_);
  ExpectRefused(verifier.Verify(Sign(kStart), kPharmacy), ErrorCode::kForbidden,
                "another facility");
}

TEST_P(CardTest, StaleAssertionIsRefused) {
  CardVerifier verifier(*store_, clock_);
  std::string jws = Sign(kStart);
  clock_.Advance(seconds(301));
  ExpectRefused(verifier.Verify(jws, kClinic), ErrorCode::kUnauthenticated, "stale card assertion");
  // A shorter configured age refuses earlier.
  CardVerifier strict(*store_, clock_, seconds(60));
  ExpectRefused(strict.Verify(Sign(kStart + seconds(301 - 61)), kClinic),
                ErrorCode::kUnauthenticated, "stale card assertion");
  EXPECT_TRUE(strict.Verify(Sign(kStart + seconds(301 - 59)), kClinic).ok());
}

TEST_P(CardTest, AssertionFromTheFutureIsRefused) {
  CardVerifier verifier(*store_, clock_);
  ExpectRefused(verifier.Verify(Sign(kStart + seconds(61)), kClinic), ErrorCode::kUnauthenticated,
                "stale card assertion");
  EXPECT_TRUE(verifier.Verify(Sign(kStart + seconds(59)), kClinic).ok());
}

TEST_P(CardTest, ReplayIsRefused) {
  CardVerifier verifier(*store_, clock_);
  std::string jws = Sign(kStart);
  ASSERT_TRUE(verifier.Verify(jws, kClinic).ok());
  ExpectRefused(verifier.Verify(jws, kClinic), ErrorCode::kUnauthenticated,
                "replayed card assertion");
  // Another verifier (another API node) on the same database refuses it too.
  CardVerifier other(*store_, clock_);
  ExpectRefused(other.Verify(jws, kClinic), ErrorCode::kUnauthenticated, "replayed card assertion");
  // A new assertion (new nonce) of the same card works.
  EXPECT_TRUE(verifier.Verify(Sign(kStart), kClinic).ok());
}

TEST_P(CardTest, UnregisteredPatientIsRefused) {
  CardVerifier verifier(*store_, clock_);
  ExpectRefused(verifier.Verify(Sign(card_, "card-1", "pat-9", kClinic, kStart), kClinic),
                ErrorCode::kUnauthenticated, "no card");
  // Practitioner keys are not card keys.
  Register(RecordFor(card_, "practitioner", "pat-8", "card-1"));
  ExpectRefused(verifier.Verify(Sign(card_, "card-1", "pat-8", kClinic, kStart), kClinic),
                ErrorCode::kUnauthenticated, "no card");
}

TEST_P(CardTest, RevokedCardIsRefused) {
  store::KeyRecord record = RecordFor(card_, "patient", "pat-1", "card-1");
  record.revoked = true;
  Register(record);
  CardVerifier verifier(*store_, clock_);
  ExpectRefused(verifier.Verify(Sign(kStart), kClinic), ErrorCode::kUnauthenticated, "revoked");
  // A reissued card (new key) works.
  KeyPair reissued = MakeKey("ES256");
  Register(RecordFor(reissued, "patient", "pat-1", "card-1b"));
  EXPECT_TRUE(verifier.Verify(Sign(reissued, "card-1b", "pat-1", kClinic, kStart), kClinic).ok());
}

TEST_P(CardTest, AnotherPatientsCardCannotSignForThisPatient) {
  KeyPair other = MakeKey("ES256");
  Register(RecordFor(other, "patient", "pat-2", "card-2"));
  CardVerifier verifier(*store_, clock_);
  // pat-2's card naming pat-1: its kid is not among pat-1's keys.
  ExpectRefused(verifier.Verify(Sign(other, "card-2", "pat-1", kClinic, kStart), kClinic),
                ErrorCode::kUnauthenticated);
  // ... nor under pat-1's kid.
  ExpectRefused(verifier.Verify(Sign(other, "card-1", "pat-1", kClinic, kStart), kClinic),
                ErrorCode::kUnauthenticated, "signature");
}

TEST_P(CardTest, MalformedAssertionsAreRefused) {
  CardVerifier verifier(*store_, clock_);
  json::object good{{"sub", "pat-1"},
                    {"facility", kClinic},
                    {"purpose", "TREAT"},
                    {"categories", json::array{"clinical"}},
                    {"iat", ToUnixSeconds(kStart)},
                    {"nonce", "n"}};
  for (const char* drop : {"facility", "purpose", "categories", "iat", "nonce"}) {
    json::object claims = good;
    claims.erase(drop);
    ExpectRefused(verifier.Verify(SignCompact(card_, "ES256", "card-1", claims).value(), kClinic),
                  ErrorCode::kUnauthenticated);
  }
  json::object bad_category = good;
  bad_category["categories"] = json::array{"clinical", 7};
  ExpectRefused(
      verifier.Verify(SignCompact(card_, "ES256", "card-1", bad_category).value(), kClinic),
      ErrorCode::kUnauthenticated);
  json::object too_many = good;
  json::array cats;
  for (int i = 0; i < 65; ++i) cats.emplace_back("c");
  too_many["categories"] = cats;
  ExpectRefused(verifier.Verify(SignCompact(card_, "ES256", "card-1", too_many).value(), kClinic),
                ErrorCode::kUnauthenticated);
  json::object long_nonce = good;
  long_nonce["nonce"] = std::string(257, 'n');
  ExpectRefused(verifier.Verify(SignCompact(card_, "ES256", "card-1", long_nonce).value(), kClinic),
                ErrorCode::kUnauthenticated);
  long_nonce["nonce"] = std::string(256, 'n');
  EXPECT_TRUE(
      verifier.Verify(SignCompact(card_, "ES256", "card-1", long_nonce).value(), kClinic).ok());
  ExpectRefused(verifier.Verify("garbage", kClinic), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(verifier.Verify(SignCompact(card_, "ES256", "card-1", good).value(), kClinic).ok());
}

INSTANTIATE_TEST_SUITE_P(Engines, CardTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::auth
