// REST interactions: create/read/vread/update/history, search paging, kana search, byte-exact
// names, conditional create, idempotent retries and the input limits.
#include <set>
#include <thread>

#include "fhir/resource.h"
#include "registry_fixture.h"

namespace renkei::registry::testing {
namespace {

class RestTest : public RegistryTest {};

TEST_P(RestTest, CreateReadVReadUpdateHistory) {
  const Principal writer = Insurer("06123456");
  Response created = Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(),
                          {{"content-type", "application/fhir+json"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.content_type.rfind("application/fhir+json", 0), 0u);
  auto body = Parse(created.body);
  std::string id(body.at("id").as_string());
  EXPECT_EQ(HeaderOf(created, "ETag"), "W/\"1\"");
  EXPECT_EQ(HeaderOf(created, "Location"), "http://test/fhir/Patient/" + id + "/_history/1");
  EXPECT_FALSE(HeaderOf(created, "Last-Modified").empty());
  EXPECT_EQ(body.at("meta").at("versionId").as_string(), "1");
  EXPECT_EQ(body.at("meta").at("lastUpdated").as_string(), FormatInstant(clock_.Now()));

  const Principal doctor = Staff(Qualification::kPhysician);
  // Without the patient's consent at this hospital: 403, and nothing of the record.
  Response refused = Call(Method::kGet, "/fhir/Patient/" + id, doctor);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.body.find("牧野"), std::string::npos);
  Consent(id, doctor);
  Response read = Call(Method::kGet, "/fhir/Patient/" + id, doctor);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.body, created.body);
  EXPECT_EQ(HeaderOf(read, "ETag"), "W/\"1\"");

  clock_.Advance(std::chrono::seconds(5));
  auto changed = Parse(read.body);
  changed["gender"] = "other";
  Response updated = Call(Method::kPut, "/fhir/Patient/" + id, writer, json::Serialize(changed),
                          {{"if-match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(HeaderOf(updated, "ETag"), "W/\"2\"");
  EXPECT_EQ(Parse(updated.body).at("meta").at("versionId").as_string(), "2");

  // A stale If-Match: 412, nothing written.
  Response stale = Call(Method::kPut, "/fhir/Patient/" + id, writer, json::Serialize(changed),
                        {{"if-match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  // The id in the body must be the one in the URL.
  changed["id"] = "other-id";
  EXPECT_EQ(Call(Method::kPut, "/fhir/Patient/" + id, writer, json::Serialize(changed)).status,
            400);
  // No update-as-create.
  EXPECT_EQ(Call(Method::kPut, "/fhir/Patient/other-id", writer, json::Serialize(changed)).status,
            405);

  Response v1 = Call(Method::kGet, "/fhir/Patient/" + id + "/_history/1", doctor);
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.body, created.body);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/" + id + "/_history/3", doctor).status, 404);
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient/unknown", doctor).status, 404);

  Response history = Call(Method::kGet, "/fhir/Patient/" + id + "/_history?_count=1", doctor);
  ASSERT_EQ(history.status, 200) << history.body;
  auto h = Parse(history.body);
  EXPECT_EQ(h.at("type").as_string(), "history");
  EXPECT_EQ(h.at("total").as_int64(), 2);
  ASSERT_EQ(h.at("entry").as_array().size(), 1u);
  EXPECT_EQ(h.at("entry").at(0).at("resource").at("meta").at("versionId").as_string(), "2");
  EXPECT_EQ(h.at("entry").at(0).at("request").at("method").as_string(), "PUT");
  std::string next;
  for (const auto& l : h.at("link").as_array()) {
    if (l.at("relation").as_string() == "next") next = std::string(l.at("url").as_string());
  }
  ASSERT_FALSE(next.empty());
  auto h2 = Parse(Call(Method::kGet, next, doctor).body);
  ASSERT_EQ(h2.at("entry").as_array().size(), 1u);
  EXPECT_EQ(h2.at("entry").at(0).at("request").at("method").as_string(), "POST");
  EXPECT_EQ(h2.at("entry").at(0).at("response").at("status").as_string(), "201 Created");
}

TEST_P(RestTest, SearchPagesUntilTheEndAndCountsMatchTheTotal) {
  const Principal writer = Ministry();
  std::set<std::string> created;
  for (int i = 0; i < 23; ++i) {
    created.insert(MustCreate("Patient",
                              PatientJson("山田", "太郎" + std::to_string(i), "ヤマダ", "タロウ",
                                          fmt::format("06123456::{}:", i)),
                              writer));
  }
  MustCreate("Patient", MakinoJson(), writer);
  // Searches across patients are the ministry's registry work (HOPERAT); care providers
  // name their patient (read_access.h).
  const Principal registrar = Ministry();
  std::string url = "/fhir/Patient?name=ﾔﾏﾀﾞ&_count=5";
  std::set<std::string> seen;
  int pages = 0;
  while (!url.empty()) {
    Response r = Call(Method::kGet, url, registrar);
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = Parse(r.body);
    EXPECT_EQ(b.at("total").as_int64(), 23);
    if (const auto* entries = b.if_contains("entry")) {
      EXPECT_LE(entries->as_array().size(), 5u);
      for (const auto& e : entries->as_array()) {
        seen.insert(std::string(e.at("resource").at("id").as_string()));
        EXPECT_EQ(e.at("search").at("mode").as_string(), "match");
      }
    }
    url.clear();
    for (const auto& l : b.at("link").as_array()) {
      if (l.at("relation").as_string() == "next") url = std::string(l.at("url").as_string());
    }
    ASSERT_LT(++pages, 10);
  }
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(seen, created);

  // _count=0: the total only. _total=none: no total.
  auto count_only = Parse(Call(Method::kGet, "/fhir/Patient?name=やまだ&_count=0", registrar).body);
  EXPECT_EQ(count_only.at("total").as_int64(), 23);
  EXPECT_EQ(count_only.if_contains("entry"), nullptr);
  auto no_total =
      Parse(Call(Method::kGet, "/fhir/Patient?name=やまだ&_total=none", registrar).body);
  EXPECT_EQ(no_total.if_contains("total"), nullptr);
  // Newest first, with _sort.
  EXPECT_EQ(Call(Method::kGet, "/fhir/Patient?_sort=-_lastUpdated", registrar).status, 200);
  // Unknown parameters are named in a 400.
  Response unknown = Call(Method::kGet, "/fhir/Patient?nickname=taro", registrar);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("nickname"), std::string::npos);
  Response lenient = Call(Method::kGet, "/fhir/Patient?nickname=taro&name=やまだ", registrar, "",
                          {{"prefer", "handling=lenient"}});
  ASSERT_EQ(lenient.status, 200);
  EXPECT_EQ(Parse(lenient.body).at("total").as_int64(), 23);
}

TEST_P(RestTest, PageSizeAboveTheLimitIsClamped) {
  Limits limits;
  limits.max_page_size = 3;
  Start(limits);
  for (int i = 0; i < 5; ++i) {
    MustCreate("Patient",
               PatientJson("佐藤", "花子", "サトウ", "ハナコ", fmt::format("06123456::{}:", i)),
               Ministry());
  }
  auto b = Parse(Call(Method::kGet, "/fhir/Patient?_count=100", Ministry()).body);
  EXPECT_EQ(b.at("entry").as_array().size(), 3u);
  EXPECT_EQ(b.at("total").as_int64(), 5);
  std::string self(b.at("link").at(0).at("url").as_string());
  EXPECT_NE(self.find("_count=3"), std::string::npos) << self;
}

TEST_P(RestTest, KanaVariantsAndMemberIdVariantsFindTheSamePatient) {
  std::string id = MustCreate(
      "Patient",
      PatientJson("山田", "太郎", "ヤマダ", "タロウ", "06123456:かきく:２０１:01", "1980-01-15"),
      Ministry());
  MustCreate("Patient", MakinoJson(), Ministry());
  // Searches across patients are the ministry's registry work (HOPERAT); care providers
  // name their patient (read_access.h).
  const Principal registrar = Ministry();
  for (std::string q : {"name=ﾔﾏﾀﾞ%20ﾀﾛｳ", "name=ヤマダ%E3%80%80タロウ", "name=やまだたろう",
                        "name=ﾀﾛｳ", "name=山田", "name=山田太郎",
                        "identifier=http://jpfhir.jp/fhir/clins/Idsystem/"
                        "JP_Insurance_memberID%7C06123456:かきく:201:01",
                        "identifier=06123456:カキク:２０１:01", "birthdate=1980-01-15",
                        "birthdate=1980-01&gender=female", "birthdate=ge1980&birthdate=lt1981"}) {
    Response r = Call(Method::kGet, "/fhir/Patient?" + q, registrar);
    ASSERT_EQ(r.status, 200) << q << r.body;
    auto b = Parse(r.body);
    ASSERT_EQ(b.at("total").as_int64(), 1) << q;
    EXPECT_EQ(b.at("entry").at(0).at("resource").at("id").as_string(), id) << q;
  }
  auto none = Parse(Call(Method::kGet, "/fhir/Patient?name=やまだはなこ", registrar).body);
  EXPECT_EQ(none.at("total").as_int64(), 0);
}

TEST_P(RestTest, RareKanjiAndVariationSequencesRoundTripByteForByte) {
  const std::string katsuragi = "葛\xf3\xa0\x84\x80城";  // 葛 + VS17 (U+E0100)
  const std::string yoshida = "𠮷田";                    // U+20BB7
  const std::string takahashi = "髙橋";
  std::string body =
      PatientJson(katsuragi, yoshida + takahashi, "カツラギ", "ヨシダ", "06123456:記号:番号:");
  Response created = Call(Method::kPost, "/fhir/Patient", Ministry(), body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(Parse(created.body).at("id").as_string());
  Consent(id, Staff(Qualification::kPhysician));
  Response read = Call(Method::kGet, "/fhir/Patient/" + id, Staff(Qualification::kPhysician));
  ASSERT_EQ(read.status, 200);
  EXPECT_NE(read.body.find("\"family\":\"" + katsuragi + "\""), std::string::npos) << read.body;
  EXPECT_NE(read.body.find("\"given\":[\"" + yoshida + takahashi + "\"]"), std::string::npos);
  auto name = Parse(read.body).at("name").at(0);
  EXPECT_EQ(std::string(name.at("family").as_string()), katsuragi);
  // The variation sequence is part of the search key: 葛󠄀城 is found, plain 葛城 is another
  // name.
  auto found = Parse(
      Call(Method::kGet, "/fhir/Patient?name=" + fhir::PercentEncode(katsuragi), Ministry()).body);
  EXPECT_EQ(found.at("total").as_int64(), 1);

  // Invalid UTF-8 is refused before anything else.
  std::string broken = body;
  broken.replace(broken.find("カツラギ"), 3, "\xff\xfe\xfd");
  Response bad = Call(Method::kPost, "/fhir/Patient", Ministry(), broken);
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST_P(RestTest, ConditionalCreateZeroOneMany) {
  const Principal writer = Insurer("06123456");
  const std::string cond =
      "identifier=http://jpfhir.jp/fhir/clins/Idsystem/"
      "JP_Insurance_memberID%7C06123456:あいう:187:05";
  Response first =
      Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(), {{"if-none-exist", cond}});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id(Parse(first.body).at("id").as_string());
  // The insurer does not cover this patient yet: the match is reported without its data.
  Response again =
      Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(), {{"if-none-exist", cond}});
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_NE(HeaderOf(again, "Location").find(id), std::string::npos);
  EXPECT_EQ(Parse(again.body).at("resourceType").as_string(), "OperationOutcome");
  // A retry of that request under an idempotency key withholds the data again.
  Response keyed = Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(),
                        {{"if-none-exist", cond}, {"x-request-id", "cond-1"}});
  Response keyed_again = Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(),
                              {{"if-none-exist", cond}, {"x-request-id", "cond-1"}});
  EXPECT_EQ(keyed.status, 200);
  EXPECT_EQ(keyed_again.body, keyed.body);
  EXPECT_EQ(keyed_again.body.find("牧野"), std::string::npos);
  // The ministry may read it: 200 with the existing resource, audited as a read.
  Response ministry =
      Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(), {{"if-none-exist", cond}});
  ASSERT_EQ(ministry.status, 200);
  EXPECT_EQ(Parse(ministry.body).at("id").as_string(), id);
  // A second patient with the same member id makes the condition ambiguous: 412.
  MustCreate("Patient", MakinoJson(), writer);
  EXPECT_EQ(
      Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(), {{"if-none-exist", cond}}).status,
      412);
  auto total = Parse(Call(Method::kGet, "/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(total.at("total").as_int64(), 2);
}

TEST_P(RestTest, ConcurrentConditionalCreatesMakeOneResource) {
  const std::string cond =
      "identifier=http://jpfhir.jp/fhir/clins/Idsystem/"
      "JP_Insurance_memberID%7C06123456:あいう:187:05";
  std::vector<int> statuses(6, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] =
          Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(), {{"if-none-exist", cond}})
              .status;
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (int st : statuses) {
    EXPECT_TRUE(st == 201 || st == 200) << st;
    if (st == 201) ++created;
  }
  EXPECT_EQ(created, 1);
  auto total = Parse(Call(Method::kGet, "/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(total.at("total").as_int64(), 1);
}

TEST_P(RestTest, ConditionalCreateAfterTheMatchChangedCreatesAgain) {
  const std::string cond = "identifier=06123456:あいう:187:05";
  Response first =
      Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(), {{"if-none-exist", cond}});
  ASSERT_EQ(first.status, 201);
  auto moved = Parse(first.body);
  moved["identifier"].as_array()[0].as_object()["value"] = "06123456:あいう:999:05";
  ASSERT_EQ(Call(Method::kPut, fmt::format("/fhir/Patient/{}", moved.at("id").as_string()),
                 Ministry(), json::Serialize(moved))
                .status,
            200);
  Response second =
      Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(), {{"if-none-exist", cond}});
  EXPECT_EQ(second.status, 201) << second.body;
  EXPECT_NE(Parse(second.body).at("id"), moved.at("id"));
}

TEST_P(RestTest, RetriedCreateWithRequestIdWritesOnce) {
  const Principal writer = Insurer("06123456");
  Response a =
      Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(), {{"x-request-id", "req-42"}});
  ASSERT_EQ(a.status, 201) << a.body;
  Response b =
      Call(Method::kPost, "/fhir/Patient", writer, MakinoJson(), {{"x-request-id", "req-42"}});
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(HeaderOf(a, "Location"), HeaderOf(b, "Location"));
  auto total = Parse(Call(Method::kGet, "/fhir/Patient?_count=0", Ministry()).body);
  EXPECT_EQ(total.at("total").as_int64(), 1);
  // The same key for a different request is a conflict.
  std::string other = PatientJson("別人", "次郎", "ベツジン", "ジロウ", "06123456::9:");
  EXPECT_EQ(
      Call(Method::kPost, "/fhir/Patient", writer, other, {{"x-request-id", "req-42"}}).status,
      409);
  // Another client's identical key is its own.
  EXPECT_EQ(
      Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(), {{"x-request-id", "req-42"}})
          .status,
      201);
}

TEST_P(RestTest, InputLimits) {
  Limits limits;
  limits.max_json_depth = 8;
  limits.max_string_bytes = 128;
  limits.max_body_bytes = 4096;
  Start(limits);
  std::string deep =
      R"({"resourceType":"Patient","extension":[{"url":"x","extension":[{"url":"y","extension":[{"url":"z","extension":[{"url":"w"}]}]}]}]})";
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), deep).status, 413);
  std::string long_name = PatientJson(std::string(200, 'a'), "b", "c", "d", "06123456::1:");
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), long_name).status, 413);
  std::string huge(5000, ' ');
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson() + huge).status, 413);
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), "{not json").status, 400);
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), MakinoJson(),
                 {{"content-type", "application/xml"}})
                .status,
            415);
  EXPECT_EQ(Call(Method::kPost, "/fhir/Patient", Ministry(), HospitalJson()).status, 400);
}

INSTANTIATE_TEST_SUITE_P(Engines, RestTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         EngineParamName);

}  // namespace
}  // namespace renkei::registry::testing
