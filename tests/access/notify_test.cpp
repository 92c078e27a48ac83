// Notifications of emergency and disaster accesses: the patient's Subscriptions (validation,
// ownership, limit) and the deliverer posting to a real HTTP receiver on 127.0.0.1 (retries,
// giving up, restarts, lease), on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "access/access_fixture.h"
#include "access/notify_deliverer.h"
#include "access/notify_http.h"
#include "access/notify_service.h"
#include "access/notify_subscription.h"

namespace renkei::access {
namespace {

using namespace renkei::access::testing;  // NOLINT: the fixture's names
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// An HTTP server on 127.0.0.1 that records every request and answers with the next status of
// its script (200 once the script is used up).
class Receiver {
 public:
  struct Received {
    std::string target;
    std::string content_type;
    std::string body;
  };

  // With cert_file/key_file the receiver speaks HTTPS.
  explicit Receiver(std::deque<int> script = {}, std::string cert_file = "",
                    std::string key_file = "")
      : script_(std::move(script)) {
    if (!cert_file.empty()) {
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(cert_file);
      tls_->use_private_key_file(key_file, asio::ssl::context::pem);
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    // A blocking accept() is not interrupted by closing the socket: wake it with a connection.
    stopping_ = true;
    asio::io_context ioc;
    tcp::socket poke(ioc);
    beast::error_code ec;
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }

  std::string Url(std::string_view path = "/hook") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           std::string(path);
  }
  // Waits (at most 20 s) until n requests have arrived; true when they have.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return received_.size() >= n; });
  }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Serve() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      if (!tls_) {
        Exchange(socket);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        continue;
      }
      asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;  // e.g. the client did not trust the certificate
      Exchange(stream);
      stream.shutdown(ec);
    }
  }

  template <typename Stream>
  void Exchange(Stream& stream) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    int status = 200;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
      received_.push_back(
          {std::string(req.target()), std::string(req[http::field::content_type]), req.body()});
    }
    cv_.notify_all();
    http::response<http::string_body> res(static_cast<http::status>(status), 11);
    res.set(http::field::connection, "close");
    res.prepare_payload();
    http::write(stream, res, ec);
  }

  std::unique_ptr<asio::ssl::context> tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> script_;
  std::vector<Received> received_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A port on 127.0.0.1 where nobody listens (bound, then closed).
std::string DeadUrl() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = a.local_endpoint().port();
  a.close();
  return "http://127.0.0.1:" + std::to_string(port) + "/hook";
}

// A throwaway CA with a server certificate for 127.0.0.1, and an unrelated CA, made by the
// openssl CLI.
class Certificates {
 public:
  Certificates() {
    char tmpl[] = "/tmp/renkei-notify-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ / "server.ext")
        << "subjectAltName=IP:127.0.0.1\n"
           "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
    ok_ = Ca("ca") && Ca("rogue") &&
          Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
              Path("server.key") + " -out " + Path("server.csr") + " -subj /CN=127.0.0.1") &&
          Run("openssl x509 -req -days 2 -in " + Path("server.csr") + " -CA " + Path("ca.crt") +
              " -CAkey " + Path("ca.key") + " -CAcreateserial -out " + Path("server.crt") +
              " -extfile " + Path("server.ext"));
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static bool Run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool Ca(const std::string& name) {
    return Run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-keyout " +
        Path(name + ".key") + " -out " + Path(name + ".crt") + " -subj /CN=" + name);
  }
  std::filesystem::path dir_;
  bool ok_ = false;
};

class NotifyTest : public AccessStoreTest {
 protected:
  void SetUp() override {
    AccessStoreTest::SetUp();
    SubscriptionOptions so;
    so.allow_http_endpoints = true;
    so.max_per_patient = 3;
    subs_ = std::make_unique<SubscriptionService>(*store_, *audit_, clock_, Limits{}, so);
    sub_routes_ = subs_->Routes();
  }

  NotifierOptions Options(std::string node = "node-a") {
    NotifierOptions o;
    o.poll_interval = std::chrono::milliseconds(50);
    o.max_attempts = 3;
    o.first_backoff = std::chrono::milliseconds(10);
    o.allow_http_endpoints = true;
    o.post.allow_private_addresses = true;  // the receiver is on loopback
    o.post.connect_timeout = std::chrono::milliseconds(2000);
    o.post.io_timeout = std::chrono::milliseconds(5000);
    o.node_id = std::move(node);
    return o;
  }

  static json::object NewSubscription(std::string endpoint,
                                      std::string criteria = "AuditEvent?purpose=ETREAT,DISASTER",
                                      bool payload = true) {
    json::object channel{{"type", "rest-hook"}, {"endpoint", endpoint}};
    if (payload) channel["payload"] = "application/fhir+json";
    return json::object{{"resourceType", "Subscription"},
                        {"status", "requested"},
                        {"reason", "tell me when my records are opened without my consent"},
                        {"criteria", criteria},
                        {"channel", channel}};
  }

  Response CallSub(Method method, std::string_view pattern, const Principal& who,
                   std::string body = "", std::string id = "") {
    for (Route& r : sub_routes_) {
      if (r.pattern != pattern || r.method != method) continue;
      Request req;
      req.method = method;
      req.path = std::string(pattern);
      if (!id.empty()) req.path_params["id"] = id;
      req.headers["content-type"] = "application/fhir+json";
      req.body = std::move(body);
      req.principal = who;
      req.base_url = "http://127.0.0.1:8080";
      return r.handler(req);
    }
    ADD_FAILURE() << "no route " << pattern;
    return {};
  }

  // Creates a subscription for the patient and returns its id.
  std::string Subscribe(std::string_view patient, const json::object& sub) {
    Response res = CallSub(Method::kPost, "/fhir/Subscription", PatientPrincipal(patient),
                           json::Serialize(sub));
    EXPECT_EQ(res.status, 201) << res.body;
    auto o = json::ParseObject(res.body, Limits{});
    return o.ok() ? std::string(json::GetString(*o, "id").value_or("")) : "";
  }

  void Access(std::string_view patient, std::string_view purpose,
              const Principal& who = Staff(kHospital, FacilityType::kHospital,
                                           Qualification::kPhysician)) {
    clock_.Advance(minutes(1));
    Status s = audit_->Record(audit::EntryFor(who, patient, "read", "diagnoses", purpose));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  static std::string PurposeIn(const Receiver::Received& r) {
    auto b = json::ParseObject(r.body, Limits{});
    if (!b.ok()) return "";
    const json::array* entries = json::GetArray(*b, "entry");
    if (!entries || entries->size() != 1) return "";
    const json::object* ev = json::GetObject(entries->at(0).get_object(), "resource");
    std::string purpose = json::Serialize(*json::Find(*ev, "purposeOfUse"));
    return purpose.find("DISASTER") != std::string::npos ? "DISASTER"
           : purpose.find("ETREAT") != std::string::npos ? "ETREAT"
                                                         : purpose;
  }

  std::unique_ptr<SubscriptionService> subs_;
  RouteTable sub_routes_;
};

TEST_P(NotifyTest, DeliversEmergencyAndDisasterOncePerAccessOnlyWhileActive) {
  Receiver first;
  const std::string id = Subscribe("pat-1", NewSubscription(first.Url()));
  Notifier notifier(*store_, clock_, Options());
  ASSERT_TRUE(notifier.Start().ok());

  Access("pat-1", "TREAT");     // not urgent: nothing
  Access("pat-1", "ETREAT");    // one
  Access("pat-2", "ETREAT");    // another patient: nothing
  Access("pat-1", "DISASTER");  // one
  notifier.Wake();
  ASSERT_TRUE(first.WaitFor(2));

  // Off: later accesses are not sent there. A new subscription elsewhere proves the deliverer
  // has passed them (entries are handled in order).
  ASSERT_EQ(CallSub(Method::kPost, "/fhir/Subscription/{id}/$deactivate", PatientPrincipal("pat-1"),
                    "", id)
                .status,
            200);
  Access("pat-1", "ETREAT");
  clock_.Advance(minutes(1));
  Receiver second;
  Subscribe("pat-1", NewSubscription(second.Url(), "AuditEvent?purpose=ETREAT"));
  Access("pat-1", "DISASTER");  // not followed by the second subscription
  Access("pat-1", "ETREAT");
  notifier.Wake();
  ASSERT_TRUE(second.WaitFor(1));
  notifier.Stop();

  auto got = first.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(PurposeIn(got[0]), "ETREAT");
  EXPECT_EQ(PurposeIn(got[1]), "DISASTER");
  EXPECT_EQ(got[0].target, "/hook");
  EXPECT_EQ(got[0].content_type, "application/fhir+json");
  auto bundle = json::ParseObject(got[0].body, Limits{});
  ASSERT_TRUE(bundle.ok()) << got[0].body;
  EXPECT_EQ(json::GetString(*bundle, "type"), "history");
  // No patient identifier and no detail travel in the notification.
  EXPECT_EQ(got[0].body.find("pat-1"), std::string::npos) << got[0].body;
  EXPECT_NE(got[0].body.find(kHospital), std::string::npos);
  EXPECT_NE(got[0].body.find("physician"), std::string::npos);
  ASSERT_EQ(second.received().size(), 1u);
  EXPECT_EQ(PurposeIn(second.received()[0]), "ETREAT");
  EXPECT_EQ(notifier.stats().delivered, 3);
}

TEST_P(NotifyTest, RetriesAfterServerErrorThenDelivers) {
  Receiver flaky({500, 200});
  Subscribe("pat-1", NewSubscription(flaky.Url()));
  Notifier notifier(*store_, clock_, Options());
  ASSERT_TRUE(notifier.Start().ok());
  Access("pat-1", "ETREAT");
  notifier.Wake();
  ASSERT_TRUE(flaky.WaitFor(2));
  notifier.Stop();
  EXPECT_EQ(flaky.received().size(), 2u);
  EXPECT_EQ(flaky.received()[0].body, flaky.received()[1].body);
  EXPECT_EQ(notifier.stats().delivered, 1);
  EXPECT_EQ(notifier.stats().given_up, 0);
}

TEST_P(NotifyTest, UnreachableEndpointIsGivenUpAndLaterEventsFlow) {
  Subscribe("pat-1", NewSubscription(DeadUrl()));
  Receiver live;
  Subscribe("pat-2", NewSubscription(live.Url()));
  Notifier notifier(*store_, clock_, Options());
  ASSERT_TRUE(notifier.DeliverPending().ok());  // sets the cursor at the end of the log
  Access("pat-1", "ETREAT");
  Access("pat-2", "DISASTER");
  ASSERT_TRUE(notifier.DeliverPending().ok());
  EXPECT_EQ(notifier.stats().given_up, 1);
  EXPECT_EQ(notifier.stats().attempts, 3 + 1);  // max_attempts for the dead one
  EXPECT_EQ(notifier.stats().delivered, 1);
  EXPECT_EQ(live.received().size(), 1u);
  auto cursor = notifier.Cursor();
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, AuditOf("pat-2").front().seq);  // past both entries
}

TEST_P(NotifyTest, RestartDoesNotResendDelivered) {
  Receiver receiver;
  Subscribe("pat-1", NewSubscription(receiver.Url()));
  {
    Notifier first(*store_, clock_, Options());
    ASSERT_TRUE(first.Start().ok());
    Access("pat-1", "ETREAT");
    first.Wake();
    ASSERT_TRUE(receiver.WaitFor(1));
  }  // the destructor stops the thread
  Notifier second(*store_, clock_, Options());
  ASSERT_TRUE(second.DeliverPending().ok());
  EXPECT_EQ(receiver.received().size(), 1u);
  Access("pat-1", "DISASTER");
  ASSERT_TRUE(second.DeliverPending().ok());
  ASSERT_EQ(receiver.received().size(), 2u);
  EXPECT_EQ(PurposeIn(receiver.received()[1]), "DISASTER");
}

TEST_P(NotifyTest, EmptyPayloadSendsNoBody) {
  Receiver receiver;
  Subscribe("pat-1", NewSubscription(receiver.Url(), "AuditEvent?purpose=ETREAT", false));
  Notifier notifier(*store_, clock_, Options());
  ASSERT_TRUE(notifier.DeliverPending().ok());
  Access("pat-1", "ETREAT");
  ASSERT_TRUE(notifier.DeliverPending().ok());
  ASSERT_EQ(receiver.received().size(), 1u);
  EXPECT_TRUE(receiver.received()[0].body.empty());
}

TEST_P(NotifyTest, PrivateAddressesAreRefusedUnlessAllowed) {
  Receiver receiver;
  Subscribe("pat-1", NewSubscription(receiver.Url()));
  NotifierOptions o = Options();
  o.post.allow_private_addresses = false;
  Notifier notifier(*store_, clock_, o);
  ASSERT_TRUE(notifier.DeliverPending().ok());
  Access("pat-1", "ETREAT");
  ASSERT_TRUE(notifier.DeliverPending().ok());
  EXPECT_EQ(receiver.received().size(), 0u);
  EXPECT_EQ(notifier.stats().given_up, 1);
  EXPECT_EQ(notifier.stats().attempts, 1);  // refused at once, not retried
}

// A receiver that accepts the connection and never answers must not hold the notifier: the
// exchange gives up after its I/O timeout.
TEST(NotifyHttpTest, AStalledReceiverTimesOut) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::thread silent([&] {
    boost::asio::ip::tcp::socket peer(ioc);
    acceptor.accept(peer);
    // Reads the request and keeps the connection open without a word until the client leaves.
    char buf[4096];
    boost::system::error_code ec;
    while (!ec) peer.read_some(boost::asio::buffer(buf), ec);
  });
  Endpoint endpoint;
  endpoint.tls = false;
  endpoint.host = "127.0.0.1";
  endpoint.port = std::to_string(acceptor.local_endpoint().port());
  endpoint.target = "/hook";
  PostOptions options;
  options.allow_private_addresses = true;
  options.io_timeout = std::chrono::milliseconds(200);
  auto status = PostNotification(endpoint, "application/fhir+json", "{}", options);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  silent.join();
}

TEST_P(NotifyTest, OneNodeDeliversWhileItHoldsTheLease) {
  Receiver receiver;
  Subscribe("pat-1", NewSubscription(receiver.Url()));
  NotifierOptions oa = Options("node-a");
  NotifierOptions ob = Options("node-b");
  oa.lease_ttl = ob.lease_ttl = std::chrono::minutes(10);
  Notifier a(*store_, clock_, oa);
  Notifier b(*store_, clock_, ob);
  ASSERT_TRUE(a.DeliverPending().ok());
  Access("pat-1", "ETREAT");
  ASSERT_TRUE(b.DeliverPending().ok());  // a holds the lease: b does nothing
  ASSERT_TRUE(a.DeliverPending().ok());
  EXPECT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(a.stats().delivered, 1);
  EXPECT_EQ(b.stats().attempts, 0);
  // a falls silent: once its lease has expired, b takes over from the shared cursor.
  clock_.Advance(std::chrono::minutes(11));
  Access("pat-1", "DISASTER");
  ASSERT_TRUE(b.DeliverPending().ok());
  EXPECT_EQ(receiver.received().size(), 2u);
  EXPECT_EQ(b.stats().delivered, 1);
}

TEST_P(NotifyTest, HttpsVerifiesTheReceiversCertificate) {
  Certificates certs;
  ASSERT_TRUE(certs.ok()) << "openssl CLI failed";
  Receiver receiver({}, certs.Path("server.crt"), certs.Path("server.key"));
  Subscribe("pat-1", NewSubscription(receiver.Url()));
  // Trusting an unrelated CA: the handshake fails, the notification is given up.
  NotifierOptions o = Options();
  o.allow_http_endpoints = false;
  o.post.ca_file = certs.Path("rogue.crt");
  {
    Notifier wrong(*store_, clock_, o);
    ASSERT_TRUE(wrong.DeliverPending().ok());
    Access("pat-1", "ETREAT");
    ASSERT_TRUE(wrong.DeliverPending().ok());
    EXPECT_EQ(wrong.stats().given_up, 1);
    EXPECT_EQ(receiver.received().size(), 0u);
  }
  // Trusting the receiver's CA: delivered over TLS.
  o.post.ca_file = certs.Path("ca.crt");
  Notifier right(*store_, clock_, o);
  Access("pat-1", "DISASTER");
  ASSERT_TRUE(right.DeliverPending().ok());
  ASSERT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(PurposeIn(receiver.received()[0]), "DISASTER");
  EXPECT_EQ(right.stats().delivered, 1);
}

TEST_P(NotifyTest, ValidationReportsEveryIssue) {
  json::object bad{{"resourceType", "Subscription"},
                   {"status", "off"},
                   {"criteria", "Patient?name=x"},
                   {"contact", json::array{json::object{{"system", "email"}}}},
                   {"end", "2020-01-01T00:00:00Z"},
                   {"channel", json::object{{"type", "email"},
                                            {"endpoint", "ftp://example.org/x"},
                                            {"payload", "text/plain"},
                                            {"header", json::array{"Authorization: x"}}}}};
  Response res =
      CallSub(Method::kPost, "/fhir/Subscription", PatientPrincipal("pat-1"), json::Serialize(bad));
  ASSERT_EQ(res.status, 400) << res.body;
  for (std::string_view path : {"Subscription.status", "Subscription.reason",
                                "Subscription.criteria", "Subscription.contact", "Subscription.end",
                                "Subscription.channel.type", "Subscription.channel.endpoint",
                                "Subscription.channel.payload", "Subscription.channel.header"}) {
    EXPECT_NE(res.body.find(std::string("\"") + std::string(path) + "\""), std::string::npos)
        << path << " in " << res.body;
  }
  // Not JSON at all.
  EXPECT_EQ(CallSub(Method::kPost, "/fhir/Subscription", PatientPrincipal("pat-1"), "{").status,
            400);
}

TEST_P(NotifyTest, EndpointRules) {
  SubscriptionService strict(*store_, *audit_, clock_);  // https only
  auto create = [&](std::string url) {
    return strict.Create(PatientPrincipal("pat-1"), NewSubscription(std::move(url)));
  };
  auto http = create("http://example.org/hook");
  ASSERT_FALSE(http.ok());
  EXPECT_EQ(http.error().code(), ErrorCode::kBusinessRule);
  auto creds = create("https://user:secret@example.org/hook");
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.error().issues().at(0).expression, "Subscription.channel.endpoint");
  EXPECT_FALSE(create("https:///nohost").ok());
  EXPECT_FALSE(create("https://example.org/hook#frag").ok());
  EXPECT_FALSE(create("https://example.org/" + std::string(kMaxEndpointBytes, 'a')).ok());
  // Literal internal addresses are refused when the subscription is made, not only later at
  // delivery; a public one is taken.
  for (std::string internal :
       {"https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest",
        "https://192.168.0.9:8443/x", "https://[::1]/hook", "https://[fd00::7]/hook",
        "https://[::ffff:172.16.0.1]/hook"}) {
    auto refused = create(internal);
    ASSERT_FALSE(refused.ok()) << internal;
    EXPECT_EQ(refused.error().issues().at(0).expression, "Subscription.channel.endpoint");
    EXPECT_NE(refused.error().ToString().find("private"), std::string::npos) << internal;
  }
  EXPECT_TRUE(create("https://203.0.113.7/hook").ok());
  auto ok = create("https://example.org:8443/hook?x=1");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(json::GetString(*ok, "status"), "active");
  EXPECT_EQ(json::GetString(*ok, "criteria"), "AuditEvent?purpose=ETREAT,DISASTER");
  auto e = ParseEndpoint("https://[::1]:8443/a?b=c", false);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, "8443");
  EXPECT_EQ(e->target, "/a?b=c");
}

TEST_P(NotifyTest, CriteriaAcceptSubsetsAndSystems) {
  fhir::IssueCollector c;
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=ETREAT", "c", c), kNotifyEmergency);
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=DISASTER", "c", c), kNotifyDisaster);
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=http://terminology.hl7.org/CodeSystem/"
                          "v3-ActReason|ETREAT,DISASTER",
                          "c", c),
            kNotifyAll);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=TREAT", "c", c), 0);
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=ETREAT&patient=x", "c", c), 0);
  EXPECT_EQ(CheckCriteria("AuditEvent?purpose=", "c", c), 0);
  EXPECT_EQ(c.size(), 3u);
}

TEST_P(NotifyTest, OnlyPatientsForThemselves) {
  const Principal physician = Staff(kHospital, FacilityType::kHospital, Qualification::kPhysician);
  const std::string body = json::Serialize(NewSubscription("http://127.0.0.1:9/hook"));
  EXPECT_EQ(CallSub(Method::kPost, "/fhir/Subscription", physician, body).status, 403);
  EXPECT_EQ(CallSub(Method::kGet, "/fhir/Subscription", physician).status, 403);
  const std::string id = Subscribe("pat-1", NewSubscription("http://127.0.0.1:9/hook"));
  EXPECT_EQ(CallSub(Method::kPost, "/fhir/Subscription/{id}/$deactivate", physician, "", id).status,
            403);
  // Another patient neither sees nor turns off pat-1's subscription.
  EXPECT_EQ(CallSub(Method::kPost, "/fhir/Subscription/{id}/$deactivate", PatientPrincipal("pat-2"),
                    "", id)
                .status,
            404);
  Response other = CallSub(Method::kGet, "/fhir/Subscription", PatientPrincipal("pat-2"));
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.body.find(id), std::string::npos);
  Response own = CallSub(Method::kGet, "/fhir/Subscription", PatientPrincipal("pat-1"));
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_NE(own.body.find(id), std::string::npos);
  // The list is audited as the patient's own read; the refusals as denied.
  bool listed = false;
  for (const store::AuditRow& row : AuditOf("pat-1")) {
    listed = listed ||
             (row.action == "search" && row.category == "Subscription" && row.purpose == "PATRQT");
  }
  EXPECT_TRUE(listed);
}

TEST_P(NotifyTest, LimitPerPatient) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(Subscribe("pat-1", NewSubscription("http://a.example/h")));
  Response over = CallSub(Method::kPost, "/fhir/Subscription", PatientPrincipal("pat-1"),
                          json::Serialize(NewSubscription("http://a.example/h")));
  EXPECT_EQ(over.status, 422) << over.body;
  // Another patient has their own allowance; an inactive one frees a place.
  Subscribe("pat-2", NewSubscription("http://a.example/h"));
  ASSERT_EQ(CallSub(Method::kPost, "/fhir/Subscription/{id}/$deactivate", PatientPrincipal("pat-1"),
                    "", ids[0])
                .status,
            200);
  Subscribe("pat-1", NewSubscription("http://a.example/h"));
}

INSTANTIATE_TEST_SUITE_P(Engines, NotifyTest, ::testing::ValuesIn(renkei::testing::AllEngines()),
                         [](const auto& info) { return renkei::testing::EngineName(info.param); });

}  // namespace
}  // namespace renkei::access
