#include "fhir/search_params.h"

#include <gtest/gtest.h>

namespace renkei::fhir {
namespace {

const std::vector<SearchParamDef>& PatientParams() {
  static const std::vector<SearchParamDef> kParams = {
      {"identifier", SearchParamKind::kToken, "", true, ""},
      {"name", SearchParamKind::kString, "", false, ""},
      {"birthdate", SearchParamKind::kDate, "", false, ""},
      {"gender", SearchParamKind::kToken, "", false, ""},
      {"beneficiary", SearchParamKind::kReference, "Patient", false, ""},
  };
  return kParams;
}

Result<SearchRequest> Parse(QueryParams q, Limits limits = Limits{}) {
  return ParseSearch(q, PatientParams(), limits);
}

TEST(ParseSearchTest, TokenWithSystemIsFolded) {
  auto r = Parse(
      {{"identifier",
        "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID|00012345:あいう:１８７:05"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->criteria.size(), 1u);
  const auto& c = r->criteria[0];
  EXPECT_EQ(c.param, "identifier");
  EXPECT_TRUE(c.has_system);
  EXPECT_EQ(c.system, "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID");
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_EQ(c.values[0], "00012345:あいう:187:05");
  EXPECT_EQ(c.op, SearchOp::kEq);
}

TEST(ParseSearchTest, TokenForms) {
  auto code_only = Parse({{"gender", "female"}});
  ASSERT_TRUE(code_only.ok());
  EXPECT_FALSE(code_only->criteria[0].has_system);
  auto no_system = Parse({{"gender", "|female"}});
  ASSERT_TRUE(no_system.ok());
  EXPECT_TRUE(no_system->criteria[0].has_system);
  EXPECT_EQ(no_system->criteria[0].system, "");
  auto any_code = Parse({{"identifier", "urn:x|"}});
  ASSERT_TRUE(any_code.ok());
  EXPECT_EQ(any_code->criteria[0].system, "urn:x");
  EXPECT_TRUE(any_code->criteria[0].values.empty());
  EXPECT_FALSE(Parse({{"identifier", "urn:x|,urn:y|a"}}).ok());
  EXPECT_FALSE(Parse({{"identifier", "|"}}).ok());
}

TEST(ParseSearchTest, CommaIsOrRepeatIsAnd) {
  auto r = Parse({{"gender", "female,male"}, {"name", "やまだ"}, {"name", "たろう"}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->criteria.size(), 3u);
  EXPECT_EQ(r->criteria[0].values.size(), 2u);
  EXPECT_EQ(r->criteria[1].values[0], "やまだ");
  EXPECT_EQ(r->criteria[2].values[0], "たろう");
}

TEST(ParseSearchTest, EscapedCommaStaysInTheValue) {
  auto r = Parse({{"name", "a\\,b"}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->criteria[0].values.size(), 1u);
  EXPECT_EQ(r->criteria[0].values[0], "a,b");
}

TEST(ParseSearchTest, StringIsFoldedPrefixAndExactIsEquality) {
  auto r = Parse({{"name", "ﾔﾏﾀﾞ ﾀﾛｳ"}, {"name:exact", "ヤマダ"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->criteria[0].op, SearchOp::kPrefix);
  EXPECT_EQ(r->criteria[0].values[0], "やまだたろう");
  EXPECT_EQ(r->criteria[1].op, SearchOp::kEq);
  EXPECT_EQ(r->criteria[1].values[0], "やまだ");
  EXPECT_FALSE(Parse({{"name:contains", "x"}}).ok());
  EXPECT_FALSE(Parse({{"name", "　"}}).ok());
}

TEST(ParseSearchTest, DatePrefixes) {
  auto eq = Parse({{"birthdate", "1930-06-28"}});
  ASSERT_TRUE(eq.ok());
  EXPECT_EQ(eq->criteria[0].op, SearchOp::kPrefix);
  EXPECT_EQ(eq->criteria[0].values[0], "1930-06-28");
  auto month = Parse({{"birthdate", "eq1930-06"}});
  ASSERT_TRUE(month.ok());
  EXPECT_EQ(month->criteria[0].values[0], "1930-06");
  auto lt = Parse({{"birthdate", "lt1930-06-28"}});
  ASSERT_TRUE(lt.ok());
  EXPECT_EQ(lt->criteria[0].op, SearchOp::kLt);
  EXPECT_EQ(lt->criteria[0].values[0], "1930-06-28T00:00:00.000Z");
  auto le = Parse({{"birthdate", "le1930-06-28"}});
  ASSERT_TRUE(le.ok());
  EXPECT_EQ(le->criteria[0].op, SearchOp::kLt);
  EXPECT_EQ(le->criteria[0].values[0], "1930-06-29T00:00:00.000Z");
  auto gt = Parse({{"birthdate", "gt1930-12"}});
  ASSERT_TRUE(gt.ok());
  EXPECT_EQ(gt->criteria[0].op, SearchOp::kGe);
  EXPECT_EQ(gt->criteria[0].values[0], "1931-01-01T00:00:00.000Z");
  auto ge = Parse({{"birthdate", "ge1930"}});
  ASSERT_TRUE(ge.ok());
  EXPECT_EQ(ge->criteria[0].values[0], "1930-01-01T00:00:00.000Z");
  auto sa = Parse({{"_lastUpdated", "sa2026-11-21T14:26:54+09:00"}});
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->criteria[0].op, SearchOp::kGe);
  EXPECT_EQ(sa->criteria[0].values[0], "2026-11-21T05:26:55.000Z");
  auto eb = Parse({{"_lastUpdated", "eb2026-11-21T05:26Z"}});
  ASSERT_TRUE(eb.ok());
  EXPECT_EQ(eb->criteria[0].op, SearchOp::kLt);
}

TEST(ParseSearchTest, DateErrors) {
  EXPECT_FALSE(Parse({{"birthdate", "ne1930-06-28"}}).ok());
  EXPECT_FALSE(Parse({{"birthdate", "1930-02-30"}}).ok());
  EXPECT_FALSE(Parse({{"birthdate", "yesterday"}}).ok());
  EXPECT_FALSE(Parse({{"birthdate", "lt1930,gt1990"}}).ok());
  EXPECT_FALSE(Parse({{"birthdate:missing", "true"}}).ok());
}

TEST(ParseSearchTest, ReferenceForms) {
  auto r = Parse({{"beneficiary", "abc"},
                  {"beneficiary", "Patient/def"},
                  {"beneficiary", "http://h/fhir/Patient/ghi"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->criteria[0].values[0], "Patient/abc");
  EXPECT_EQ(r->criteria[1].values[0], "Patient/def");
  EXPECT_EQ(r->criteria[2].values[0], "Patient/ghi");
  EXPECT_FALSE(Parse({{"beneficiary", "Organization/1"}}).ok());
}

TEST(ParseSearchTest, UnknownParameterIsNamed) {
  auto r = Parse({{"nickname", "x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().message().find("nickname"), std::string::npos);
  ASSERT_EQ(r.error().issues().size(), 1u);
  EXPECT_EQ(r.error().issues()[0].expression, "nickname");
  EXPECT_FALSE(Parse({{"_elements", "name"}}).ok());
  EXPECT_FALSE(Parse({{"gender:not", "male"}}).ok());
}

TEST(ParseSearchTest, LenientHandlingSkipsUnknownParameters) {
  auto r = ParseSearch({{"nickname", "x"}, {"gender", "male"}}, PatientParams(), Limits{}, true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->criteria.size(), 1u);
  ASSERT_EQ(r->echo.size(), 1u);
  EXPECT_EQ(r->echo[0].first, "gender");
  // Known parameters with bad values are still errors.
  EXPECT_FALSE(ParseSearch({{"birthdate", "soon"}}, PatientParams(), Limits{}, true).ok());
  EXPECT_TRUE(PrefersLenient("return=minimal, handling=lenient"));
  EXPECT_FALSE(PrefersLenient("handling=strict"));
}

TEST(ParseSearchTest, EmptyValueIsIgnored) {
  auto r = Parse({{"name", ""}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->criteria.empty());
}

TEST(ParseSearchTest, CountDefaultClampAndErrors) {
  Limits limits;
  limits.default_page_size = 7;
  limits.max_page_size = 20;
  auto d = Parse({}, limits);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count, 7u);
  auto over = Parse({{"_count", "21"}}, limits);  // exceeds the limit: clamped
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->count, 20u);
  auto zero = Parse({{"_count", "0"}}, limits);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->total_only);
  EXPECT_FALSE(Parse({{"_count", "-1"}}, limits).ok());
  EXPECT_FALSE(Parse({{"_count", "ten"}}, limits).ok());
}

TEST(ParseSearchTest, ResultParameters) {
  auto r = Parse({{"_sort", "-_lastUpdated"},
                  {"_total", "none"},
                  {"_cursor", "opaque"},
                  {"_id", "a,b"},
                  {"_format", "json"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->newest_first);
  EXPECT_FALSE(r->include_total);
  EXPECT_EQ(r->cursor, "opaque");
  ASSERT_EQ(r->criteria.size(), 1u);
  EXPECT_EQ(r->criteria[0].param, "_id");
  EXPECT_FALSE(Parse({{"_sort", "name"}}).ok());
  EXPECT_FALSE(Parse({{"_total", "maybe"}}).ok());
  EXPECT_FALSE(Parse({{"_format", "xml"}}).ok());
}

const std::vector<SearchParamDef>& ObservationParams() {
  static const std::vector<SearchParamDef> kParams = {
      {"code", SearchParamKind::kToken, "", false, ""},
      {"date", SearchParamKind::kDate, "", false, ""},
  };
  return kParams;
}

TEST(ParseSortTest, DateOrdersWhereTheTypeHasADate) {
  auto desc = ParseSearch({{"_sort", "-date"}, {"code", "x"}}, ObservationParams(), Limits{});
  ASSERT_TRUE(desc.ok()) << desc.error().ToString();
  EXPECT_EQ(desc->sort_param, "date");
  EXPECT_TRUE(desc->sort_descending);
  EXPECT_FALSE(desc->newest_first);
  // The self and next links carry the order.
  EXPECT_EQ(PageQuery(*desc, "c"), "_sort=-date&code=x&_count=50&_cursor=c");
  auto asc = ParseSearch({{"_sort", "date"}}, ObservationParams(), Limits{});
  ASSERT_TRUE(asc.ok());
  EXPECT_EQ(asc->sort_param, "date");
  EXPECT_FALSE(asc->sort_descending);
}

TEST(ParseSortTest, LastUpdatedBothWaysAndId) {
  auto oldest = Parse({{"_sort", "_lastUpdated"}});
  ASSERT_TRUE(oldest.ok());
  EXPECT_EQ(oldest->sort_param, "_lastUpdated");
  EXPECT_FALSE(oldest->sort_descending);
  EXPECT_FALSE(oldest->newest_first);
  auto newest = Parse({{"_sort", "-_lastUpdated"}});
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(newest->newest_first);
  EXPECT_EQ(newest->sort_param, "");
  // The last _sort given wins, and resets what an earlier one set.
  auto id = ParseSearch({{"_sort", "-date"}, {"_sort", "_id"}}, ObservationParams(), Limits{});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->sort_param, "");
  EXPECT_FALSE(id->sort_descending);
  EXPECT_FALSE(id->newest_first);
}

TEST(ParseSortTest, UnknownOrderNamesTheAllowedOnes) {
  // Patient has no "date" parameter (birthdate is not the clinical date).
  for (const char* order : {"date", "-date", "birthdate", "-_id", "date,_id", "DATE"}) {
    auto r = Parse({{"_sort", order}});
    ASSERT_FALSE(r.ok()) << order;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(r.error().message().find("supported: _lastUpdated, -_lastUpdated, _id"),
              std::string::npos)
        << r.error().message();
    EXPECT_EQ(r.error().message().find("-date,"), std::string::npos);
  }
  auto obs = ParseSearch({{"_sort", "-code"}}, ObservationParams(), Limits{});
  ASSERT_FALSE(obs.ok());
  EXPECT_NE(obs.error().message().find("supported: date, -date, _lastUpdated, -_lastUpdated, _id"),
            std::string::npos)
      << obs.error().message();
  // Lenient handling skips unknown parameters, never a bad order.
  EXPECT_FALSE(ParseSearch({{"_sort", "-code"}}, ObservationParams(), Limits{}, true).ok());
}

TEST(PageQueryTest, EchoesParametersAndCursor) {
  auto r = Parse({{"name", "やまだ"}, {"_count", "10"}, {"_cursor", "old"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(PageQuery(*r, ""), "name=%E3%82%84%E3%81%BE%E3%81%A0&_count=10");
  EXPECT_EQ(PageQuery(*r, "c/2"), "name=%E3%82%84%E3%81%BE%E3%81%A0&_count=10&_cursor=c%2F2");
  auto back = ParseQueryString(PageQuery(*r, "c/2"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ((*back)[0].second, "やまだ");
  EXPECT_EQ((*back)[2].second, "c/2");
}

TEST(UrlTest, DecodeErrors) {
  EXPECT_FALSE(PercentDecode("%G1").has_value());
  EXPECT_FALSE(PercentDecode("%4").has_value());
  EXPECT_EQ(PercentDecode("a+b%2C").value(), "a b,");
}

}  // namespace
}  // namespace renkei::fhir
