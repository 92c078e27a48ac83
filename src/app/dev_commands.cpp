// `renkei token` and `renkei card sign`: shell access to the real authentication flows, so
// every docs/API.md example runs with curl (DESIGN.md §4, dev tooling).
#include <iostream>

#include "app/commands.h"
#include "app/http_client.h"
#include "app/key_files.h"
#include "auth/card.h"
#include "auth/patient_login.h"
#include "auth/tokens.h"
#include "core/clock.h"
#include "core/json.h"

namespace renkei::app {
namespace {

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int Fail(const Error& e) {
  std::cerr << "error: " << e.ToString() << "\n";
  return 1;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

int Token(const TokenOptions& o) {
  std::string facility = o.facility;
  if (facility.empty()) {
    auto f = FacilityOfPractitioner(o.keys_dir, o.practitioner);
    if (!f.ok()) return Fail(f.error());
    facility = *f;
  }
  auto key = ReadKeyFile(o.key_file.empty() ? PractitionerKeyPath(o.keys_dir, o.practitioner)
                                            : o.key_file);
  if (!key.ok()) return Fail(key.error());
  const std::string base = TrimSlash(o.url);
  const std::string token_url = base + "/auth/token";
  // A negative lifetime signs an assertion that expired that many seconds ago (tests).
  SystemClock clock;
  auto assertion =
      auth::SignClientAssertion(key->key, key->alg, key->kid, o.practitioner, facility, token_url,
                                clock.Now(), std::chrono::seconds(o.assertion_lifetime));
  if (!assertion.ok()) return Fail(assertion.error());
  if (o.assertion_only) {
    std::cout << *assertion << "\n";
    return 0;
  }
  std::string body = "grant_type=client_credentials&client_assertion_type=" +
                     FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                     "&client_assertion=" + FormEncode(*assertion) +
                     "&scope=" + FormEncode("system/*.*");
  auto response = HttpRequest(
      "POST", token_url,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}}, body,
      o.ca_file);
  if (!response.ok()) return Fail(response.error());
  auto doc = json::ParseObject(response->body, Limits{});
  if (response->status != 200 || !doc.ok() || !json::GetString(*doc, "access_token")) {
    std::cerr << "token request refused (" << response->status << "): " << response->body << "\n";
    return 1;
  }
  std::cout << *json::GetString(*doc, "access_token") << "\n";
  return 0;
}

int CardLogin(const CardLoginOptions& o) {
  auto key = ReadKeyFile(CardKeyPath(o.keys_dir, o.patient));
  if (!key.ok()) return Fail(key.error());
  const std::string base = TrimSlash(o.url);
  const std::vector<std::pair<std::string, std::string>> form = {
      {"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  auto issued = HttpRequest("POST", base + std::string(auth::kPatientChallengePath), form,
                            "patient=" + FormEncode(o.patient), o.ca_file);
  if (!issued.ok()) return Fail(issued.error());
  auto challenge_doc = json::ParseObject(issued->body, Limits{});
  if (issued->status != 200 || !challenge_doc.ok() ||
      !json::GetString(*challenge_doc, "challenge")) {
    std::cerr << "challenge refused (" << issued->status << "): " << issued->body << "\n";
    return 1;
  }
  const std::string challenge(*json::GetString(*challenge_doc, "challenge"));
  SystemClock clock;
  auto assertion = auth::SignPatientLogin(key->key, key->kid, o.patient, challenge, clock.Now());
  if (!assertion.ok()) return Fail(assertion.error());
  auto response = HttpRequest(
      "POST", base + std::string(auth::kPatientTokenPath), form,
      "challenge=" + FormEncode(challenge) + "&card_assertion=" + FormEncode(*assertion),
      o.ca_file);
  if (!response.ok()) return Fail(response.error());
  auto doc = json::ParseObject(response->body, Limits{});
  if (response->status != 200 || !doc.ok() || !json::GetString(*doc, "access_token")) {
    std::cerr << "login refused (" << response->status << "): " << response->body << "\n";
    return 1;
  }
  std::cout << *json::GetString(*doc, "access_token") << "\n";
  return 0;
}

int CardSign(const CardSignOptions& o) {
  auto key = ReadKeyFile(CardKeyPath(o.keys_dir, o.patient));
  if (!key.ok()) return Fail(key.error());
  SystemClock clock;
  auto jws =
      auth::SignCardAssertion(key->key, key->kid, o.patient, o.facility, o.purpose, o.categories,
                              clock.Now() - std::chrono::seconds(o.age_seconds));
  if (!jws.ok()) return Fail(jws.error());
  std::cout << *jws << "\n";
  return 0;
}

}  // namespace renkei::app
