// The server over real sockets on 127.0.0.1: routing, auth, limits, keep-alive, pipelining,
// graceful stop, metrics, probes and the error edge.
#include "http/server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "http_test_client.h"
#include "server_test_util.h"

namespace renkei::http {
namespace {

using testing::Bearer;
using testing::Client;
using testing::Fetch;
using testing::HttpResponse;

boost::json::object ParseBody(const HttpResponse& r) {
  return boost::json::parse(r.body).as_object();
}

std::string S(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

std::string Field(const HttpResponse& r, const char* key) {
  auto body = ParseBody(r);
  auto* v = body.if_contains(key);
  return v == nullptr ? std::string("<absent>") : S(*v);
}

void ExpectOperationOutcome(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/fhir+json; charset=utf-8");
  auto body = ParseBody(r);
  EXPECT_EQ(S(body["resourceType"]), "OperationOutcome");
  EXPECT_FALSE(r.Header("x-request-id").empty());
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = testing::TestOptions()) {
    server_ =
        std::make_unique<Server>(options, testing::TestRoutes(&state_),
                                 testing::TestAuthenticator(), testing::TestReadiness(&state_));
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  testing::TestState state_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, RoutesWithCapturesAndDecodedQuery) {
  StartServer();
  auto r = Fetch(port_, "GET", "/fhir/Patient/a%20b?name=%E5%B1%B1%E7%94%B0&name=x&given=a+b",
                 {{"Authorization", Bearer()}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = ParseBody(r);
  EXPECT_EQ(S(body["id"]), "a b");
  EXPECT_EQ(S(body["subject"]), testing::kTestSubject);
  EXPECT_EQ(boost::json::serialize(body["query"]),
            R"([["name","山田"],["name","x"],["given","a b"]])");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");

  r = Fetch(port_, "GET", "/fhir/Patient/p1/_history/7", {{"Authorization", Bearer()}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "p1/7");
  r = Fetch(port_, "POST", "/fhir/Patient/$match", {{"Authorization", Bearer()}}, "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "match");
}

TEST_F(ServerTest, UnknownPathIs404AndUnknownTypeSaysSo) {
  StartServer();
  auto r = Fetch(port_, "GET", "/nothing");
  ExpectOperationOutcome(r, 404);
  r = Fetch(port_, "GET", "/fhir/Foo/1", {{"Authorization", Bearer()}});
  ExpectOperationOutcome(r, 404);
  EXPECT_NE(r.body.find("unknown resource type"), std::string::npos) << r.body;
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  auto r = Fetch(port_, "DELETE", "/fhir/Patient/p1", {{"Authorization", Bearer()}});
  ExpectOperationOutcome(r, 405);
  EXPECT_EQ(r.Header("allow"), "GET, PUT");
  // HEAD is not routed: 405, and no body follows the head on the wire.
  Client client(port_);
  r = client.Send("HEAD", "/fhir/metadata");
  EXPECT_EQ(r.status, 405);
  r = client.Send("GET", "/fhir/metadata");
  EXPECT_EQ(r.status, 200);
  // A method Beast knows but the contract does not.
  r = Fetch(port_, "TRACE", "/fhir/metadata");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET");
}

TEST_F(ServerTest, MissingOrBadTokenIs401) {
  StartServer();
  auto r = Fetch(port_, "GET", "/fhir/Patient/p1");
  ExpectOperationOutcome(r, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
  r = Fetch(port_, "GET", "/fhir/Patient/p1", {{"Authorization", "Bearer wrong"}});
  ExpectOperationOutcome(r, 401);
  EXPECT_EQ(r.Header("www-authenticate").rfind("Bearer", 0), 0u);
  r = Fetch(port_, "GET", "/fhir/Patient/p1", {{"Authorization", "Basic dXNlcjpwdw=="}});
  ExpectOperationOutcome(r, 401);
  r = Fetch(port_, "GET", "/fhir/Patient/p1", {{"Authorization", Bearer()}});
  EXPECT_EQ(r.status, 200);
  // Public routes need no token.
  r = Fetch(port_, "GET", "/fhir/metadata");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.Header("cache-control").empty());
}

TEST_F(ServerTest, BodyOverLimitIs413AndRouteOverrideApplies) {
  StartServer();
  auto r = Fetch(port_, "POST", "/echo", {}, std::string(1024, 'a'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "1024");
  r = Fetch(port_, "POST", "/echo", {}, std::string(1025, 'a'));
  ExpectOperationOutcome(r, 413);
  // The route allows 4096: above the default, still limited.
  r = Fetch(port_, "POST", "/bulk", {}, std::string(3000, 'b'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "3000");
  r = Fetch(port_, "POST", "/bulk", {}, std::string(5000, 'b'));
  ExpectOperationOutcome(r, 413);
  // Beyond Beast's own 1 MB default, within the route's 2 MB.
  r = Fetch(port_, "POST", "/large", {}, std::string(1536 * 1024, 'l'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(1536 * 1024));
  // A large upload is refused from its Content-Length; the server drains what the client
  // still sends so that the 413 is read rather than lost to a connection reset.
  r = Fetch(port_, "POST", "/echo", {}, std::string(3 * 1024 * 1024, 'z'));
  ExpectOperationOutcome(r, 413);
  EXPECT_FALSE(r.keep_alive);
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413) {
  StartServer();
  Client client(port_);
  std::string chunk(800, 'c');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  std::string raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  raw += std::string(size) + "\r\n" + chunk + "\r\n" + std::string(size) + "\r\n" + chunk +
         "\r\n0\r\n\r\n";
  client.WriteRaw(raw);
  auto r = client.Read();
  ExpectOperationOutcome(r, 413);
  EXPECT_FALSE(r.keep_alive);
}

TEST_F(ServerTest, HeaderOverLimitIs431) {
  StartServer();
  auto r = Fetch(port_, "GET", "/fhir/metadata", {{"X-Big", std::string(4000, 'h')}});
  EXPECT_EQ(r.status, 431);
  auto body = ParseBody(r);
  EXPECT_EQ(S(body["resourceType"]), "OperationOutcome");
  EXPECT_FALSE(r.Header("x-request-id").empty());
}

TEST_F(ServerTest, MalformedRequestsAre400) {
  StartServer();
  auto r = Fetch(port_, "GET", "/fhir/Patient/a%2Fb", {{"Authorization", Bearer()}});
  ExpectOperationOutcome(r, 400);
  r = Fetch(port_, "GET", "/fhir/%2e%2e/metrics");
  ExpectOperationOutcome(r, 400);
  Client client(port_);
  client.WriteRaw("GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  r = client.Read();
  ExpectOperationOutcome(r, 400);
}

TEST_F(ServerTest, GarbageInputNeverTakesTheServerDown) {
  StartServer();
  std::mt19937 random(42);
  for (int i = 0; i < 50; ++i) {
    std::string garbage(1 + random() % 600, '\0');
    for (char& c : garbage) c = static_cast<char>(random() % 256);
    if (i % 2 == 0) garbage = "GET /" + garbage;  // past the method, into target and fields
    Client client(port_);
    client.WriteRaw(garbage + "\r\n\r\n");
    try {
      auto r = client.Read();
      EXPECT_GE(r.status, 400) << r.status;
    } catch (const boost::system::system_error&) {
      // Closing without an answer is fine for input that is not HTTP at all.
    }
  }
  EXPECT_EQ(Fetch(port_, "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, RateLimitRefusesThenRecovers) {
  auto options = testing::TestOptions();
  options.limits.requests_per_second = 2;
  options.limits.burst = 3;
  StartServer(options);
  Client client(port_);
  HttpResponse limited;
  for (int i = 0; i < 50 && limited.status != 429; ++i) {
    limited = client.Send("GET", "/fhir/Patient/p1", {{"Authorization", Bearer()}});
    ASSERT_TRUE(limited.status == 200 || limited.status == 429) << limited.status;
  }
  ExpectOperationOutcome(limited, 429);
  EXPECT_GE(std::stoi(limited.Header("retry-after")), 1);
  // The bucket is the token subject's: the same address on a public route has its own.
  EXPECT_EQ(client.Send("GET", "/fhir/metadata").status, 200);
  // Probes are never limited.
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);
  auto metrics = client.Send("GET", "/metrics");
  EXPECT_EQ(metrics.body.find("renkei_http_rate_limited_total 0\n"), std::string::npos);
  // Tokens refill: the subject is admitted again.
  HttpResponse recovered;
  for (int i = 0; i < 100 && recovered.status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    recovered = client.Send("GET", "/fhir/Patient/p1", {{"Authorization", Bearer()}});
  }
  EXPECT_EQ(recovered.status, 200);
}

// Behind a trusted load balancer each forwarded client has its own bucket; from anywhere
// else X-Forwarded-For changes nothing.
TEST_F(ServerTest, RateLimitKeysOnForwardedClientOnlyBehindTrustedProxies) {
  auto exhaust = [](Client& client, const std::string& forwarded) {
    HttpResponse r;
    for (int i = 0; i < 50 && r.status != 429; ++i) {
      r = client.Send("GET", "/fhir/metadata", {{"X-Forwarded-For", forwarded}});
    }
    return r.status;
  };
  auto options = testing::TestOptions();
  options.limits.requests_per_second = 0.01;
  options.limits.burst = 2;
  options.trusted_proxies = {"127.0.0.0/8"};
  StartServer(options);
  Client client(port_);
  EXPECT_EQ(exhaust(client, "198.51.100.1"), 429);
  // Another client behind the same balancer is not held back by the first.
  EXPECT_EQ(client.Send("GET", "/fhir/metadata", {{"X-Forwarded-For", "198.51.100.2"}}).status,
            200);
  // A forged hop left of the real client does not buy a fresh bucket.
  EXPECT_EQ(
      client.Send("GET", "/fhir/metadata", {{"X-Forwarded-For", "203.0.113.50, 198.51.100.1"}})
          .status,
      429);
  server_->Stop();

  options.trusted_proxies.clear();
  StartServer(options);
  Client direct(port_);
  EXPECT_EQ(exhaust(direct, "198.51.100.1"), 429);
  EXPECT_EQ(direct.Send("GET", "/fhir/metadata", {{"X-Forwarded-For", "198.51.100.2"}}).status,
            429);
}

TEST_F(ServerTest, StartRefusesATrustedProxyThatIsNoCidr) {
  auto options = testing::TestOptions();
  options.trusted_proxies = {"10.0.0.0/8", "lb.example"};
  Server server(options, testing::TestRoutes(&state_), testing::TestAuthenticator(),
                testing::TestReadiness(&state_));
  Status started = server.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(started.error().message().find("lb.example"), std::string::npos);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client client(port_);
  for (int i = 0; i < 5; ++i) {
    auto r =
        client.Send("GET", "/fhir/Patient/k" + std::to_string(i), {{"Authorization", Bearer()}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Field(r, "id"), "k" + std::to_string(i));
    EXPECT_TRUE(r.keep_alive);
  }
  auto r = client.Send("GET", "/fhir/metadata", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto options = testing::TestOptions();
  options.max_pipelined = 2;  // fewer than sent: reading pauses and resumes
  StartServer(options);
  Client client(port_);
  std::string raw;
  for (int i = 0; i < 6; ++i) {
    raw += "GET /fhir/Patient/pipe" + std::to_string(i) +
           " HTTP/1.1\r\nHost: x\r\nAuthorization: " + Bearer() + "\r\n\r\n";
  }
  raw += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  client.WriteRaw(raw);
  for (int i = 0; i < 6; ++i) {
    auto r = client.Read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Field(r, "id"), "pipe" + std::to_string(i));
  }
  auto r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "3");
}

TEST_F(ServerTest, Http10KeepAliveIsAnnouncedAndPlainHttp10Closes) {
  StartServer();
  Client client(port_);
  client.WriteRaw("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "keep-alive");
  client.WriteRaw("GET /healthz HTTP/1.0\r\n\r\n");
  r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, AmbiguousFramingIsRefused) {
  StartServer();
  // Content-Length together with chunked is the classic request-smuggling vector.
  Client client(port_);
  client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  auto r = client.Read();
  ExpectOperationOutcome(r, 400);
  EXPECT_TRUE(client.ServerClosed());
  Client twice(port_);
  twice.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
  ExpectOperationOutcome(twice.Read(), 400);
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  StartServer();
  Client client(port_);
  client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read();
  EXPECT_EQ(interim.status, 100);
  client.WriteRaw("hello");
  auto r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "5");
  // Over the limit: refused at once, no 100 Continue.
  Client big(port_);
  big.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n");
  ExpectOperationOutcome(big.Read(), 413);
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutDetails) {
  StartServer();
  auto r = Fetch(port_, "GET", "/throw");
  ExpectOperationOutcome(r, 500);
  EXPECT_EQ(r.body.find("secret-patient"), std::string::npos);
  // The server keeps serving.
  EXPECT_EQ(Fetch(port_, "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, RequestIdIsEchoedWhenValidElseGenerated) {
  StartServer();
  auto r = Fetch(port_, "GET", "/info", {{"X-Request-Id", "abc.DEF_123-x"}});
  EXPECT_EQ(r.Header("x-request-id"), "abc.DEF_123-x");
  EXPECT_EQ(Field(r, "request_id"), "abc.DEF_123-x");
  r = Fetch(port_, "GET", "/info", {{"X-Request-Id", "has space"}});
  EXPECT_NE(r.Header("x-request-id"), "has space");
  EXPECT_FALSE(r.Header("x-request-id").empty());
  r = Fetch(port_, "GET", "/info", {{"X-Request-Id", std::string(65, 'a')}});
  EXPECT_EQ(r.Header("x-request-id").size() < 65, true);
  auto a = Fetch(port_, "GET", "/info").Header("x-request-id");
  auto b = Fetch(port_, "GET", "/info").Header("x-request-id");
  EXPECT_NE(a, b);
}

TEST_F(ServerTest, ClientCannotForgeCertificateHeaderAndBaseUrlFollowsHost) {
  StartServer();
  auto r = Fetch(port_, "GET", "/info",
                 {{"X-Client-Cert-Subject", "CN=forged"}, {"Host", "api.example.jp:8443"}});
  ASSERT_EQ(r.status, 200);
  auto body = ParseBody(r);
  EXPECT_EQ(S(body["cert"]), "");
  EXPECT_EQ(S(body["base_url"]), "http://api.example.jp:8443");
  EXPECT_EQ(S(body["client_address"]), "127.0.0.1");
  r = Fetch(port_, "GET", "/info", {{"Host", "evil/x"}});
  EXPECT_EQ(Field(r, "base_url"), "http://127.0.0.1:" + std::to_string(port_));
}

TEST_F(ServerTest, PublicBaseUrlOverridesHost) {
  auto options = testing::TestOptions();
  options.public_base_url = "https://renkei.example.jp";
  StartServer(options);
  auto r = Fetch(port_, "GET", "/info", {{"Host", "other:1"}});
  EXPECT_EQ(Field(r, "base_url"), "https://renkei.example.jp");
}

TEST_F(ServerTest, HealthAndReadiness) {
  StartServer();
  auto r = Fetch(port_, "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(Fetch(port_, "GET", "/readyz").status, 200);
  state_.ready = false;
  r = Fetch(port_, "GET", "/readyz");
  ExpectOperationOutcome(r, 503);
  EXPECT_EQ(r.body.find("database down"), std::string::npos);
  state_.ready = true;
  EXPECT_EQ(Fetch(port_, "GET", "/readyz").status, 200);
}

TEST_F(ServerTest, MetricsCountByPatternWithoutConcreteIds) {
  StartServer();
  Fetch(port_, "GET", "/fhir/Patient/id-secret-one", {{"Authorization", Bearer()}});
  Fetch(port_, "GET", "/fhir/Patient/id-secret-two", {{"Authorization", Bearer()}});
  Fetch(port_, "GET", "/fhir/Patient/id-secret-three");  // 401
  Fetch(port_, "GET", "/no/such/id-secret-four");
  auto r = Fetch(port_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  const std::string& text = r.body;
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"/fhir/Patient/{id}\",method=\"GET\","
                      "status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"/fhir/Patient/{id}\",method=\"GET\","
                      "status=\"401\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("renkei_http_requests_total{route=\"unmatched\",method=\"GET\","
                      "status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("renkei_http_request_duration_seconds_count{route=\"/fhir/Patient/{id}\","
                      "method=\"GET\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("renkei_http_in_flight "), std::string::npos);
  EXPECT_NE(text.find("renkei_http_rate_limited_total 0\n"), std::string::npos);
  EXPECT_EQ(text.find("id-secret"), std::string::npos);
}

TEST_F(ServerTest, GracefulStopCompletesInFlightRequest) {
  StartServer();
  Client idle(port_);  // an idle keep-alive connection: closed by Stop
  EXPECT_EQ(idle.Send("GET", "/healthz").status, 200);

  HttpResponse slow;
  std::thread requester([&] {
    Client client(port_);
    slow = client.Send("GET", "/slow");
  });
  state_.slow_entered.get_future().wait();
  std::thread stopper([&] { server_->Stop(); });
  // Stop has begun once new connections are refused; only then let the handler finish.
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    try {
      Client probe(port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } catch (const boost::system::system_error&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(idle.ServerClosed());
  state_.slow_release.set_value();
  requester.join();
  stopper.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "done");
  EXPECT_FALSE(slow.keep_alive);
}

TEST_F(ServerTest, SlowHeaderIsCutOffByIdleTimeout) {
  auto options = testing::TestOptions();
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  Client client(port_);
  client.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, ConnectionLimitClosesExtraConnections) {
  auto options = testing::TestOptions();
  options.max_connections = 1;
  StartServer(options);
  Client first(port_);
  EXPECT_EQ(first.Send("GET", "/healthz").status, 200);
  Client second(port_);
  EXPECT_TRUE(second.ServerClosed());
  EXPECT_EQ(first.Send("GET", "/healthz").status, 200);
}

TEST_F(ServerTest, StartFailsWhenPortIsTaken) {
  StartServer();
  auto options = testing::TestOptions();
  options.port = port_;
  testing::TestState other_state;
  Server other(options, testing::TestRoutes(&other_state), testing::TestAuthenticator(),
               testing::TestReadiness(&other_state));
  EXPECT_FALSE(other.Start().ok());
}

TEST_F(ServerTest, StartFailsOnDuplicateRoute) {
  auto routes = testing::TestRoutes(&state_);
  routes.push_back(routes.front());
  Server server(testing::TestOptions(), routes, testing::TestAuthenticator(),
                testing::TestReadiness(&state_));
  Status started = server.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message().find("duplicate"), std::string::npos);
}

TEST_F(ServerTest, AccessLogNamesThePatternNeverPathQueryOrToken) {
  auto options = testing::TestOptions();
  options.access_log = true;
  StartServer(options);
  ::testing::internal::CaptureStderr();
  auto r = Fetch(port_, "GET", "/fhir/Patient/secret-id-99?name=secret-name",
                 {{"Authorization", Bearer()}, {"X-Request-Id", "log-test-1"}});
  auto thrown = Fetch(port_, "GET", "/throw");
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(thrown.status, 500);
  EXPECT_NE(log.find("\"event\":\"http.request\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"route\":\"/fhir/Patient/{id}\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"request_id\":\"log-test-1\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"status\":200"), std::string::npos) << log;
  EXPECT_NE(log.find("http.handler_exception"), std::string::npos) << log;
  EXPECT_EQ(log.find("secret"), std::string::npos) << log;
  EXPECT_EQ(log.find(testing::kTestToken), std::string::npos) << log;
}

TEST_F(ServerTest, WaitForSignalReturnsOnStop) {
  StartServer();
  std::thread waiter([&] { server_->WaitForSignal(); });
  server_->Stop();
  waiter.join();
  EXPECT_THROW(Client probe(port_), boost::system::system_error);
}

TEST_F(ServerTest, SigtermStopsTheServer) {
  StartServer();
  std::thread waiter([&] { server_->WaitForSignal(); });
  // Send the signal only once WaitForSignal has installed its handler.
  bool installed = false;
  for (int i = 0; i < 1000 && !installed; ++i) {
    struct sigaction current {};
    sigaction(SIGTERM, nullptr, &current);
    installed = current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
    if (!installed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(installed);
  kill(getpid(), SIGTERM);
  waiter.join();
  EXPECT_THROW(Client probe(port_), boost::system::system_error);
}

TEST(ServerHandleTest, DispatchWithoutSockets) {
  testing::TestState state;
  Server server(testing::TestOptions(), testing::TestRoutes(&state), testing::TestAuthenticator(),
                testing::TestReadiness(&state));
  Request request;
  request.method = Method::kGet;
  request.path = "/fhir/Patient/x1";
  request.headers["authorization"] = Bearer();
  request.client_address = "10.0.0.1";
  Response response = server.Handle(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(request.PathParam("id"), "x1");
  ASSERT_TRUE(request.principal.has_value());
  EXPECT_EQ(request.principal->subject, testing::kTestSubject);
  EXPECT_FALSE(request.request_id.empty());
  bool has_request_id = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "X-Request-Id") has_request_id = value == request.request_id;
  }
  EXPECT_TRUE(has_request_id);

  Request missing;
  missing.method = Method::kGet;
  missing.path = "/fhir/Patient/x1";
  EXPECT_EQ(server.Handle(missing).status, 401);
}

}  // namespace
}  // namespace renkei::http
