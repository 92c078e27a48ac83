#include "access/notify_subscription.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include "access/notify_http.h"
#include "audit/audit_event.h"
#include "fhir/url.h"

namespace renkei::access {
namespace {

// The elements a patient may send (R4 Subscription); contact and error are left out: the
// server has no use for the patient's contact points and owns error itself.
constexpr std::array<std::string_view, 8> kTopElements = {
    "resourceType", "id", "meta", "status", "reason", "criteria", "channel", "end"};
constexpr std::array<std::string_view, 4> kChannelElements = {"type", "endpoint", "payload",
                                                              "header"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& list, std::string_view v) {
  for (std::string_view s : list) {
    if (s == v) return true;
  }
  return false;
}

// One criteria code, "CODE" or "system|CODE".
uint8_t PurposeToken(std::string_view token) {
  std::string_view system;
  size_t bar = token.find('|');
  if (bar != std::string_view::npos) {
    system = token.substr(0, bar);
    token = token.substr(bar + 1);
  }
  if (token == "ETREAT" && (system.empty() || system == audit::kActReasonSystem)) {
    return kNotifyEmergency;
  }
  if (token == "DISASTER" && (system.empty() || system == audit::kPurposeSystem)) {
    return kNotifyDisaster;
  }
  return 0;
}

}  // namespace

bool IsPrivateLiteral(std::string_view host) {
  boost::system::error_code ec;
  const boost::asio::ip::address a = boost::asio::ip::make_address(host, ec);
  return !ec && IsPrivateAddress(a);
}

uint8_t NotifyPurposeOf(std::string_view purpose) {
  if (purpose == "ETREAT") return kNotifyEmergency;
  if (purpose == "DISASTER") return kNotifyDisaster;
  return 0;
}

std::optional<Endpoint> CheckEndpoint(std::string_view url, bool allow_http, std::string_view path,
                                      fhir::IssueCollector& c) {
  if (url.size() > kMaxEndpointBytes) {
    c.Invalid(std::string(path),
              fmt::format("the endpoint is at most {} bytes", kMaxEndpointBytes));
    return std::nullopt;
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    c.Invalid(std::string(path), "the endpoint must be an absolute URL");
    return std::nullopt;
  }
  Endpoint e;
  bool ok = true;
  const std::string scheme = parsed->scheme();
  if (scheme == "https") {
    e.tls = true;
  } else if (scheme == "http" && allow_http) {
    e.tls = false;
  } else {
    // Notifications tell who looked at a patient's records: they travel encrypted only.
    c.Rule(std::string(path), allow_http ? "the endpoint must be an http or https URL"
                                         : "the endpoint must be an https URL");
    ok = false;
  }
  if (parsed->has_userinfo()) {
    // Credentials in a URL end up in logs and stored resources (RFC 3986 §3.2.1 deprecates
    // them); a receiver authenticates the sender by TLS instead.
    c.Rule(std::string(path), "the endpoint must not carry user name or password");
    ok = false;
  }
  if (parsed->has_fragment()) {
    c.Invalid(std::string(path), "the endpoint must not have a fragment");
    ok = false;
  }
  e.host = parsed->host_address();
  if (!parsed->has_authority() || e.host.empty()) {
    c.Invalid(std::string(path), "the endpoint must name a host");
    ok = false;
  }
  if (parsed->has_port()) {
    if (parsed->port().empty() || parsed->port_number() == 0) {
      c.Invalid(std::string(path), "the endpoint's port must be 1..65535");
      ok = false;
    }
    e.port = parsed->port();
  } else {
    e.port = e.tls ? "443" : "80";
  }
  e.target = parsed->encoded_target().empty() ? "/" : std::string(parsed->encoded_target());
  if (!ok) return std::nullopt;
  return e;
}

Result<Endpoint> ParseEndpoint(std::string_view url, bool allow_http) {
  fhir::IssueCollector c;
  auto e = CheckEndpoint(url, allow_http, "endpoint", c);
  RK_TRY(c.ToStatus("the endpoint is not usable"));
  return *e;
}

uint8_t CheckCriteria(std::string_view criteria, std::string_view path, fhir::IssueCollector& c) {
  constexpr std::string_view kPrefix = "AuditEvent?";
  auto fail = [&]() -> uint8_t {
    c.Rule(std::string(path),
           "criteria must be AuditEvent?purpose= with ETREAT, DISASTER or both "
           "(comma-separated)");
    return 0;
  };
  if (!criteria.starts_with(kPrefix)) return fail();
  auto params = fhir::ParseQueryString(criteria.substr(kPrefix.size()));
  if (!params || params->size() != 1 || (*params)[0].first != "purpose") return fail();
  uint8_t bits = 0;
  std::string_view list = (*params)[0].second;
  while (true) {
    size_t comma = list.find(',');
    uint8_t b = PurposeToken(list.substr(0, comma));
    if (b == 0) return fail();
    bits |= b;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return bits;
}

std::string CriteriaText(uint8_t purposes) {
  if ((purposes & kNotifyAll) == kNotifyAll) return "AuditEvent?purpose=ETREAT,DISASTER";
  if (purposes & kNotifyDisaster) return "AuditEvent?purpose=DISASTER";
  return "AuditEvent?purpose=ETREAT";
}

Result<json::object> ValidateNewSubscription(const json::object& in, bool allow_http,
                                             TimePoint now) {
  fhir::IssueCollector c;
  fhir::CheckResourceShape(in, kSubscriptionType, c);
  for (const auto& member : in) {
    if (!OneOf(kTopElements, member.key())) {
      c.Invalid(fhir::Child("Subscription", member.key()), "element not supported here");
    }
  }
  json::object out;
  out["resourceType"] = kSubscriptionType;
  // R4: the client asks with "requested"; the server activates. "active" is accepted too.
  if (auto status = fhir::RequireString(in, "status", "Subscription", c)) {
    if (*status != "requested" && *status != "active") {
      c.Rule("Subscription.status", "a new subscription has status requested (or active)");
    }
  }
  out["status"] = "active";
  if (auto reason = fhir::RequireString(in, "reason", "Subscription", c)) {
    if (reason->size() > kMaxSubscriptionReasonBytes) {
      c.Invalid("Subscription.reason",
                fmt::format("reason is at most {} bytes", kMaxSubscriptionReasonBytes));
    }
    out["reason"] = *reason;
  }
  if (auto criteria = fhir::RequireString(in, "criteria", "Subscription", c)) {
    uint8_t bits = CheckCriteria(*criteria, "Subscription.criteria", c);
    if (bits != 0) out["criteria"] = CriteriaText(bits);
  }
  const json::value* channel_v = json::Find(in, "channel");
  if (channel_v == nullptr) {
    c.Invalid("Subscription.channel", "channel is required");
  } else if (!channel_v->is_object()) {
    c.Invalid("Subscription.channel", "channel must be an object");
  } else {
    const json::object& ch = channel_v->get_object();
    json::object channel;
    for (const auto& member : ch) {
      if (!OneOf(kChannelElements, member.key())) {
        c.Invalid(fhir::Child("Subscription.channel", member.key()), "element not supported here");
      }
    }
    if (auto type = fhir::RequireString(ch, "type", "Subscription.channel", c)) {
      if (*type != "rest-hook") {
        c.Rule("Subscription.channel.type", "only rest-hook channels are supported");
      }
      channel["type"] = "rest-hook";
    }
    if (auto endpoint = fhir::RequireString(ch, "endpoint", "Subscription.channel", c)) {
      auto checked = CheckEndpoint(*endpoint, allow_http, "Subscription.channel.endpoint", c);
      if (checked && !allow_http && IsPrivateLiteral(checked->host)) {
        // Refused at delivery anyway (notify_http.h): say so now, while the patient is there
        // to correct it, rather than leave a subscription that never delivers.
        c.Rule("Subscription.channel.endpoint",
               "the endpoint must not be a loopback, private or link-local address");
      } else if (checked) {
        channel["endpoint"] = *endpoint;
      }
    }
    if (auto payload = fhir::OptionalString(ch, "payload", "Subscription.channel", c)) {
      if (*payload != kFhirJson) {
        c.Rule("Subscription.channel.payload",
               "payload must be application/fhir+json, or absent for empty notifications");
      } else {
        channel["payload"] = kFhirJson;
      }
    }
    if (ch.contains("header")) {
      // Headers would be secrets for the receiver stored with the resource and shown back.
      c.Rule("Subscription.channel.header", "channel headers are not supported");
    }
    out["channel"] = std::move(channel);
  }
  if (auto end = fhir::OptionalString(in, "end", "Subscription", c)) {
    auto t = ParseDateTime(*end);
    if (!t || end->find('T') == std::string_view::npos) {
      c.Invalid("Subscription.end", "end must be a FHIR instant");
    } else if (*t <= now) {
      c.Rule("Subscription.end", "end must be in the future");
    } else {
      out["end"] = FormatInstant(*t);
    }
  }
  RK_TRY(c.ToStatus("Subscription is not valid"));
  return out;
}

Result<StoredSubscription> ReadSubscription(const store::ResourceRow& row) {
  RK_ASSIGN_OR_RETURN(json::object r, json::ParseObject(row.json, Limits{}));
  StoredSubscription s;
  s.id = row.id;
  s.patient_id = row.patient_id;
  s.active = json::GetString(r, "status") == "active";
  fhir::IssueCollector ignored;
  s.purposes = CheckCriteria(json::GetString(r, "criteria").value_or(""), "criteria", ignored);
  if (const json::object* ch = json::GetObject(r, "channel")) {
    s.endpoint = std::string(json::GetString(*ch, "endpoint").value_or(""));
    s.with_payload = json::GetString(*ch, "payload") == kFhirJson;
  }
  if (auto end = json::GetString(r, "end")) s.end = ParseDateTime(*end);
  // Active subscriptions are never updated (deactivation is final), so the current version's
  // time is the creation time.
  s.since = row.last_updated;
  if (s.purposes == 0 || s.endpoint.empty()) {
    return Error(ErrorCode::kInternal, "a stored Subscription lacks criteria or endpoint");
  }
  return s;
}

std::vector<store::IndexTerm> SubscriptionTerms(std::string_view status) {
  return {{"status", "", std::string(status)}};
}

Result<std::vector<store::ResourceRow>> ActiveSubscriptionRows(store::Transaction& tx,
                                                               std::string_view patient_id,
                                                               size_t max_rows) {
  store::SearchQuery q;
  q.type = std::string(kSubscriptionType);
  q.patient_id = std::string(patient_id);
  q.criteria.push_back({"status", store::MatchOp::kEq, false, "", {"active"}});
  q.count = max_rows;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  return std::move(page.rows);
}

}  // namespace renkei::access
