// Server-side TLS over OpenSSL through Asio: TLS 1.2+ with forward-secret AEAD suites, and
// optional client-certificate verification (mutual TLS).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/server.h"

namespace renkei::http {

// The request header carrying the verified client certificate's subject (RFC 2253). Only the
// server sets it; a client-sent header of this name is dropped.
inline constexpr std::string_view kClientCertSubjectHeader = "x-client-cert-subject";

// Loads the certificate chain and key (and the client CA for mutual TLS). kInvalid when a
// file is missing or unusable, or the key does not match the certificate.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options);

// The subject of the peer's certificate after a verified handshake, "" when none.
std::string PeerCertificateSubject(SSL* ssl);

}  // namespace renkei::http
