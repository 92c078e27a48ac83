#include "http/tls.h"

#include <openssl/bio.h>
#include <openssl/x509.h>

#include <boost/system/system_error.hpp>

namespace renkei::http {
namespace {

// Mozilla "intermediate" TLS 1.2 suites: ECDHE key exchange and AEAD ciphers only. TLS 1.3
// keeps OpenSSL's default suites, which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Needed for session resumption when client certificates are verified (OpenSSL refuses to
// resume a session without an id context when verify mode is set).
constexpr unsigned char kSessionIdContext[] = "renkei";

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  std::string step;
  try {
    step = "options";
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use | ssl::context::no_compression);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
      return MakeError(ErrorCode::kInternal, "TLS: cannot set protocol version or ciphers");
    }
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    step = "certificate chain " + options.cert_file;
    ctx->use_certificate_chain_file(options.cert_file);
    step = "private key " + options.key_file;
    ctx->use_private_key_file(options.key_file, ssl::context::pem);
    if (SSL_CTX_check_private_key(native) != 1) {
      return MakeError(ErrorCode::kInvalid, "TLS: private key does not match the certificate");
    }
    if (!options.client_ca_file.empty()) {
      step = "client CA " + options.client_ca_file;
      ctx->load_verify_file(options.client_ca_file);
      // Tell clients which CA we accept so they pick the right certificate.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
      if (names == nullptr) {
        return MakeError(ErrorCode::kInvalid, "TLS: no certificate in " + options.client_ca_file);
      }
      SSL_CTX_set_client_CA_list(native, names);
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert |
                           ssl::verify_client_once);
      SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext - 1);
    }
  } catch (const boost::system::system_error& e) {
    return MakeError(ErrorCode::kInvalid, "TLS: cannot load " + step + ": " + e.what());
  }
  return ctx;
}

std::string PeerCertificateSubject(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  // RFC 2253 escaping also escapes control characters, so the value is header-safe.
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string subject(data != nullptr && length > 0 ? std::string(data, static_cast<size_t>(length))
                                                    : std::string());
  BIO_free(bio);
  return subject;
}

}  // namespace renkei::http
