// HTTPS and mutual TLS against certificates made at test time by the openssl CLI.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "http/server.h"
#include "http_test_client.h"
#include "server_test_util.h"

namespace renkei::http {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using testing::HttpResponse;

// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, both
// signed by the CA, plus a client certificate from an unrelated CA.
class Certificates {
 public:
  Certificates() {
    char tmpl[] = "/tmp/renkei-http-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("server.ext",
          "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
          "basicConstraints=CA:FALSE\n");
    Write("client.ext", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
    ok_ = MakeCa("ca") && MakeCa("rogue") && MakeLeaf("server", "ca", "/CN=127.0.0.1") &&
          MakeLeaf("client", "ca", "/O=Test Clinic/CN=Test Client") &&
          MakeLeaf("intruder", "rogue", "/CN=Intruder");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }

  bool ok() const { return ok_; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  bool Run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool MakeCa(const std::string& name) {
    return Run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        " -keyout " +
        Path(name + ".key") + " -out " + Path(name + ".crt") + " -subj '/CN=renkei test " + name +
        "'");
  }
  bool MakeLeaf(const std::string& name, const std::string& ca, const std::string& subject) {
    std::string ext = name == "server" ? "server.ext" : "client.ext";
    return Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
               Path(name + ".key") + " -out " + Path(name + ".csr") + " -subj '" + subject + "'") &&
           Run("openssl x509 -req -days 2 -in " + Path(name + ".csr") + " -CA " +
               Path(ca + ".crt") + " -CAkey " + Path(ca + ".key") + " -CAcreateserial -out " +
               Path(name + ".crt") + " -extfile " + Path(ext));
  }

  std::filesystem::path dir_;
  bool ok_ = false;
};

// One HTTPS request; the client verifies the server against the test CA and presents
// `client_cert` when non-empty. Throws on any TLS or HTTP failure.
HttpResponse FetchTls(const Certificates& certs, uint16_t port, const std::string& target,
                      const std::string& client_cert = "",
                      ssl::context::method method = ssl::context::tls_client) {
  asio::io_context ioc;
  ssl::context ctx(method);
  ctx.load_verify_file(certs.Path("ca.crt"));
  ctx.set_verify_mode(ssl::verify_peer);
  if (!client_cert.empty()) {
    ctx.use_certificate_chain_file(certs.Path(client_cert + ".crt"));
    ctx.use_private_key_file(certs.Path(client_cert + ".key"), ssl::context::pem);
  }
  ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  testing::SetReceiveTimeout(stream.next_layer().native_handle(), 30);
  stream.handshake(ssl::stream_base::client);
  bhttp::request<bhttp::string_body> request;
  testing::FillRequest(request, "GET", target, {}, "");
  bhttp::write(stream, request);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  bhttp::read(stream, buffer, response);
  return testing::ToResponse(response);
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new Certificates(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(certs_->ok()) << "openssl CLI failed"; }

  std::unique_ptr<Server> Make(bool mutual) {
    auto options = testing::TestOptions();
    TlsOptions tls;
    tls.cert_file = certs_->Path("server.crt");
    tls.key_file = certs_->Path("server.key");
    if (mutual) tls.client_ca_file = certs_->Path("ca.crt");
    options.tls = tls;
    return std::make_unique<Server>(options, testing::TestRoutes(&state_),
                                    testing::TestAuthenticator(), testing::TestReadiness(&state_));
  }

  static Certificates* certs_;
  testing::TestState state_;
};

Certificates* TlsTest::certs_ = nullptr;

std::string CertField(const HttpResponse& r) {
  auto body = boost::json::parse(r.body).as_object();
  return std::string(body["cert"].as_string());
}

TEST_F(TlsTest, HttpsRoundTrip) {
  auto server = Make(false);
  Status started = server->Start();
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  auto r = FetchTls(*certs_, server->port(), "/info");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(CertField(r), "");
  EXPECT_EQ(r.Header("strict-transport-security"), "max-age=31536000");
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(std::string(body["base_url"].as_string()).substr(0, 8), "https://");
  server->Stop();
}

TEST_F(TlsTest, PlainHttpToTlsPortGetsNoAnswer) {
  auto server = Make(false);
  ASSERT_TRUE(server->Start().ok());
  testing::Client client(server->port());
  client.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THROW(client.Read(), boost::system::system_error);
  server->Stop();
}

TEST_F(TlsTest, OldProtocolVersionsAreRefused) {
  auto server = Make(false);
  ASSERT_TRUE(server->Start().ok());
  // A client limited to TLS 1.1 cannot complete a handshake.
  EXPECT_THROW(FetchTls(*certs_, server->port(), "/healthz", "", ssl::context::tlsv11_client),
               boost::system::system_error);
  server->Stop();
}

TEST_F(TlsTest, MutualTlsRefusesClientWithoutCertificate) {
  auto server = Make(true);
  ASSERT_TRUE(server->Start().ok());
  // With TLS 1.3 the client may finish its handshake before the server's refusal arrives;
  // either way no HTTP answer is ever read.
  EXPECT_THROW(FetchTls(*certs_, server->port(), "/healthz"), boost::system::system_error);
  EXPECT_THROW(FetchTls(*certs_, server->port(), "/healthz", "intruder"),
               boost::system::system_error);
  server->Stop();
}

TEST_F(TlsTest, MutualTlsAcceptsClientSignedByCaAndExposesSubject) {
  auto server = Make(true);
  ASSERT_TRUE(server->Start().ok());
  auto r = FetchTls(*certs_, server->port(), "/info", "client");
  ASSERT_EQ(r.status, 200);
  std::string subject = CertField(r);
  EXPECT_NE(subject.find("CN=Test Client"), std::string::npos) << subject;
  EXPECT_NE(subject.find("O=Test Clinic"), std::string::npos) << subject;
  server->Stop();
}

TEST_F(TlsTest, StartFailsOnBadTlsFiles) {
  auto options = testing::TestOptions();
  options.tls = TlsOptions{certs_->Path("missing.crt"), certs_->Path("server.key"), ""};
  Server missing(options, testing::TestRoutes(&state_), testing::TestAuthenticator(),
                 testing::TestReadiness(&state_));
  EXPECT_FALSE(missing.Start().ok());
  // A key that does not belong to the certificate.
  options.tls = TlsOptions{certs_->Path("server.crt"), certs_->Path("client.key"), ""};
  Server mismatched(options, testing::TestRoutes(&state_), testing::TestAuthenticator(),
                    testing::TestReadiness(&state_));
  Status started = mismatched.Start();
  EXPECT_FALSE(started.ok());
  // A client CA file that is not a certificate.
  options.tls = TlsOptions{certs_->Path("server.crt"), certs_->Path("server.key"),
                           certs_->Path("server.ext")};
  Server bad_ca(options, testing::TestRoutes(&state_), testing::TestAuthenticator(),
                testing::TestReadiness(&state_));
  EXPECT_FALSE(bad_ca.Start().ok());
}

}  // namespace
}  // namespace renkei::http
