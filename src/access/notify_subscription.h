// The patient's FHIR R4 Subscription to their emergency and disaster accesses (issue "Access
// policy", beyond the national system): what a valid one looks like, how it is stored and how
// the deliverer reads it back (http://hl7.org/fhir/R4/subscription.html, rest-hook channel).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "fhir/validation.h"
#include "store/store.h"

namespace renkei::access {

inline constexpr std::string_view kSubscriptionType = "Subscription";
// The only payload type sent with a body; an absent payload means an empty notification
// (R4 Subscription.channel.payload).
inline constexpr std::string_view kFhirJson = "application/fhir+json";
inline constexpr size_t kMaxEndpointBytes = 2048;
inline constexpr size_t kMaxSubscriptionReasonBytes = 1024;

// The purposes a subscription follows, as a bit set.
enum NotifyPurpose : uint8_t {
  kNotifyEmergency = 1,  // ETREAT (emergency hospitals and ambulance crews)
  kNotifyDisaster = 2,   // DISASTER
  kNotifyAll = 3,
};

// The purpose bit of an audit entry's purpose code; 0 for every other purpose.
uint8_t NotifyPurposeOf(std::string_view purpose);

// A parsed endpoint URL. Rules: https (http only when allow_http), a host, no user
// information, no fragment, at most kMaxEndpointBytes.
struct Endpoint {
  bool tls = true;
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // explicit or the scheme's default
  std::string target;  // path and query, "/" at least
};
// Problems are reported into c at path; nullopt when the URL is unusable.
std::optional<Endpoint> CheckEndpoint(std::string_view url, bool allow_http, std::string_view path,
                                      fhir::IssueCollector& c);
// The same as a Result (kInvalid or kBusinessRule with the issues).
Result<Endpoint> ParseEndpoint(std::string_view url, bool allow_http);

// Whether host is a literal IP address in a loopback, private, link-local or otherwise
// internal range (IsPrivateAddress); a host name is not (it is checked when resolved).
bool IsPrivateLiteral(std::string_view host);

// "AuditEvent?purpose=ETREAT,DISASTER" or a subset, codes optionally with their system
// (v3-ActReason for ETREAT, renkei's purpose system for DISASTER). The purpose bits, or 0 with
// an issue reported into c at path.
uint8_t CheckCriteria(std::string_view criteria, std::string_view path, fhir::IssueCollector& c);
// The canonical criteria text for a set of purpose bits.
std::string CriteriaText(uint8_t purposes);

// Validates a Subscription a patient sends for creation, collecting every issue at once
// (kInvalid, or kBusinessRule when every issue is a rule). Returns the resource to store:
// status active, criteria canonical, only the supported elements (no id or meta yet).
Result<json::object> ValidateNewSubscription(const json::object& in, bool allow_http,
                                             TimePoint now);

// One stored subscription as the deliverer needs it.
struct StoredSubscription {
  std::string id;
  std::string patient_id;
  bool active = false;
  uint8_t purposes = 0;
  std::string endpoint;
  bool with_payload = false;     // payload application/fhir+json; else an empty body
  std::optional<TimePoint> end;  // no notifications at or after end
  TimePoint since{};             // created: entries recorded before are not notified
};
Result<StoredSubscription> ReadSubscription(const store::ResourceRow& row);

// The search terms of a stored subscription (status, for counting a patient's active ones).
std::vector<store::IndexTerm> SubscriptionTerms(std::string_view status);

// The patient's active subscriptions (store order).
Result<std::vector<store::ResourceRow>> ActiveSubscriptionRows(store::Transaction& tx,
                                                               std::string_view patient_id,
                                                               size_t max_rows);

}  // namespace renkei::access
