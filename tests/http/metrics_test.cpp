#include "http/metrics.h"

#include <gtest/gtest.h>

namespace renkei::http {
namespace {

RouteTable Table() {
  Route read;
  read.method = Method::kGet;
  read.pattern = "/fhir/Patient/{id}";
  Route create;
  create.method = Method::kPost;
  create.pattern = "/fhir/Patient";
  return {read, create};
}

TEST(MetricsTest, CountsByRoutePatternMethodAndStatus) {
  Metrics metrics(Table());
  metrics.Record(0, 200, std::chrono::microseconds(300));
  metrics.Record(0, 200, std::chrono::milliseconds(3));
  metrics.Record(0, 404, std::chrono::milliseconds(20));
  metrics.Record(1, 201, std::chrono::seconds(20));
  metrics.Record(metrics.UnmatchedSlot(Method::kDelete), 404, std::chrono::microseconds(10));
  metrics.AddRateLimited();
  std::string text = metrics.Render();
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"/fhir/Patient/{id}\",method=\"GET\","
                      "status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"/fhir/Patient/{id}\",method=\"GET\","
                      "status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"unmatched\",method=\"DELETE\","
                      "status=\"404\"} 1\n"),
            std::string::npos);
  // Cumulative buckets: 0.3 ms is <= 0.0005; 3 ms <= 0.005; 20 ms <= 0.025.
  std::string labels = "route=\"/fhir/Patient/{id}\",method=\"GET\"";
  EXPECT_NE(
      text.find("renkei_http_request_duration_seconds_bucket{" + labels + ",le=\"0.0005\"} 1\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("renkei_http_request_duration_seconds_bucket{" + labels + ",le=\"0.005\"} 2\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("renkei_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("renkei_http_request_duration_seconds_count{" + labels + "} 3\n"),
            std::string::npos);
  // 20 s is beyond the last bound: only +Inf holds it.
  std::string create = "route=\"/fhir/Patient\",method=\"POST\"";
  EXPECT_NE(text.find("renkei_http_request_duration_seconds_bucket{" + create + ",le=\"10\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("renkei_http_rate_limited_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE renkei_http_request_duration_seconds histogram"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValues) {
  Route odd;
  odd.method = Method::kGet;
  odd.pattern = "/a\"b\\c";
  Metrics metrics({odd});
  metrics.Record(0, 200, std::chrono::microseconds(1));
  EXPECT_NE(metrics.Render().find("route=\"/a\\\"b\\\\c\""), std::string::npos);
}

TEST(MetricsTest, InFlightGauge) {
  Metrics metrics(Table());
  metrics.AddInFlight(1);
  metrics.AddInFlight(1);
  metrics.AddInFlight(-1);
  EXPECT_NE(metrics.Render().find("renkei_http_in_flight 1\n"), std::string::npos);
}

}  // namespace
}  // namespace renkei::http
