#include "access/notify_service.h"

#include <fmt/format.h>

#include "access/decision.h"
#include "access/notify_subscription.h"
#include "core/ids.h"
#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"

namespace renkei::access {
namespace {

constexpr std::string_view kPatientOnly = "only the patient manages their notifications";

bool IsPatient(const Principal& who) {
  return who.kind == PrincipalKind::kPatient && !who.subject.empty();
}

}  // namespace

SubscriptionService::SubscriptionService(store::Store& store, audit::AuditLog& audit,
                                         const Clock& clock, Limits limits,
                                         SubscriptionOptions options)
    : store_(store), audit_(audit), clock_(clock), limits_(limits), options_(options) {}

Status SubscriptionService::Refuse(const Principal& who, std::string_view action) {
  // Refusals are audited like every other attempt (DESIGN.md §3.1); they name no patient.
  RK_TRY(audit_.Record(audit::EntryFor(who, "", action, kSubscriptionType, "PATRQT", "denied")));
  return Error(ErrorCode::kForbidden, std::string(kPatientOnly));
}

Result<json::object> SubscriptionService::Create(const Principal& who,
                                                 const json::object& subscription) {
  if (!IsPatient(who)) return Refuse(who, "create").error();
  const TimePoint now = clock_.Now();
  RK_ASSIGN_OR_RETURN(json::object resource,
                      ValidateNewSubscription(subscription, options_.allow_http_endpoints, now));
  const std::string id = NewId();
  fhir::StampMeta(resource, id, 1, now);
  store::ResourceRow row;
  row.type = std::string(kSubscriptionType);
  row.id = id;
  row.last_updated = now;
  row.patient_id = who.subject;
  row.json = json::Serialize(resource);
  audit::AuditEntry entry =
      audit::EntryFor(who, who.subject, "create", kSubscriptionType, "PATRQT");
  entry.detail = fmt::format(R"({{"subscription":"{}"}})", id);
  RK_TRY(
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        RK_ASSIGN_OR_RETURN(auto active,
                            ActiveSubscriptionRows(tx, who.subject, options_.max_per_patient + 1));
        if (active.size() >= options_.max_per_patient) {
          return Error(ErrorCode::kBusinessRule,
                       fmt::format("a patient holds at most {} active subscriptions; deactivate "
                                   "one first",
                                   options_.max_per_patient));
        }
        RK_TRY(tx.WriteResource(row, SubscriptionTerms("active"), int64_t{0}));
        return audit_.AppendInTransaction(tx, {entry});
      }));
  return resource;
}

Result<std::vector<json::object>> SubscriptionService::List(const Principal& who) {
  // The one door, asked for everyone (the route walk proves it). The subscriptions are the
  // patient's channel for their access history, so they are read under the same category
  // (access_history) and basis (PATRQT): anyone but the patient is refused by the decision.
  AccessRequest r;
  r.actor = ActorOf(who);
  r.patient_id = who.subject;
  r.item.category = Category::kAccessHistory;
  r.purpose.purpose = Purpose::kPatientRequest;
  AccessFacts facts;
  facts.now = clock_.Now();
  Decision d = Decide(r, facts);
  if (!d.permit || !IsPatient(who)) return Refuse(who, "search").error();
  auto rows = store::RunInTransactionWithResult<std::vector<store::ResourceRow>>(
      store_, store::TxMode::kRead,
      [&](store::Transaction& tx) -> Result<std::vector<store::ResourceRow>> {
        store::SearchQuery q;
        q.type = std::string(kSubscriptionType);
        q.patient_id = who.subject;
        q.count = kMaxListed;
        q.include_total = false;
        q.newest_first = true;
        RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
        return std::move(page.rows);
      });
  if (!rows.ok()) return rows.error();
  std::vector<json::object> out;
  for (const store::ResourceRow& row : *rows) {
    RK_ASSIGN_OR_RETURN(json::object o, json::ParseObject(row.json, limits_));
    out.push_back(std::move(o));
  }
  audit::AuditEntry entry =
      audit::EntryFor(who, who.subject, "search", kSubscriptionType, "PATRQT");
  entry.detail = fmt::format(R"({{"returned":{}}})", out.size());
  RK_TRY(audit_.Record(std::move(entry)));
  return out;
}

Result<json::object> SubscriptionService::Deactivate(const Principal& who, std::string_view id) {
  if (!IsPatient(who)) return Refuse(who, "update").error();
  const TimePoint now = clock_.Now();
  return store::RunInTransactionWithResult<json::object>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<json::object> {
        RK_ASSIGN_OR_RETURN(auto row, tx.ReadCurrent(kSubscriptionType, id));
        // Another patient's subscription is answered like a missing one.
        if (!row || row->deleted || row->patient_id != who.subject) {
          return Error(ErrorCode::kNotFound, "no such subscription of this patient");
        }
        RK_ASSIGN_OR_RETURN(json::object resource, json::ParseObject(row->json, limits_));
        if (json::GetString(resource, "status") == "off") return resource;
        resource["status"] = "off";
        fhir::StampMeta(resource, row->id, row->version + 1, now);
        store::ResourceRow next = *row;
        next.last_updated = now;
        next.json = json::Serialize(resource);
        RK_TRY(tx.WriteResource(next, SubscriptionTerms("off"), row->version));
        audit::AuditEntry entry =
            audit::EntryFor(who, who.subject, "update", kSubscriptionType, "PATRQT");
        entry.detail = fmt::format(R"({{"subscription":"{}","status":"off"}})", row->id);
        RK_TRY(audit_.AppendInTransaction(tx, {entry}));
        return resource;
      });
}

Response SubscriptionService::HandleCreate(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  if (!HasJsonContentType(req)) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kUnsupportedMedia, "send a Subscription as application/fhir+json"));
  }
  auto body = json::ParseObject(req.body, limits_);
  if (!body.ok()) return fhir::ErrorResponse(body.error());
  auto created = Create(*req.principal, *body);
  if (!created.ok()) return fhir::ErrorResponse(created.error());
  const std::string id(json::GetString(*created, "id").value_or(""));
  Response res = Response::Json(201, json::Serialize(*created));
  res.headers.emplace_back("Location",
                           fhir::ResourceUrl(req.base_url, kSubscriptionType, id) + "/_history/1");
  res.headers.emplace_back("ETag", fhir::FormatETag(1));
  return res;
}

Response SubscriptionService::HandleList(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  if (!req.query.empty()) {
    // The list is small and always the patient's own: no search parameters are offered.
    return fhir::ErrorResponse(Error(
        ErrorCode::kInvalid, fmt::format("unknown search parameter '{}'", req.query[0].first)));
  }
  auto list = List(*req.principal);
  if (!list.ok()) return fhir::ErrorResponse(list.error());
  std::vector<fhir::BundleEntryOut> entries;
  for (const json::object& s : *list) {
    fhir::BundleEntryOut e;
    e.full_url =
        fhir::ResourceUrl(req.base_url, kSubscriptionType, json::GetString(s, "id").value_or(""));
    e.resource_json = json::Serialize(s);
    e.search_mode = "match";
    entries.push_back(std::move(e));
  }
  return Response::Json(200,
                        fhir::SearchSetBundle(static_cast<int64_t>(entries.size()),
                                              req.base_url + "/fhir/Subscription", "", entries));
}

Response SubscriptionService::HandleDeactivate(Request& req) {
  if (!req.principal) {
    return fhir::ErrorResponse(Error(ErrorCode::kUnauthenticated, "an access token is required"));
  }
  auto s = Deactivate(*req.principal, req.PathParam("id"));
  if (!s.ok()) return fhir::ErrorResponse(s.error());
  return Response::Json(200, json::Serialize(*s));
}

RouteTable SubscriptionService::Routes() {
  RouteTable routes;
  Route create;
  create.method = Method::kPost;
  create.pattern = "/fhir/Subscription";
  create.interaction = Interaction::kCreate;
  create.resource_type = std::string(kSubscriptionType);
  create.auth = AuthRequirement::kToken;
  // The answer is what the patient sent, normalized: nothing held about them elsewhere.
  create.returns_patient_data = false;
  create.summary = "The patient subscribes to notifications of emergency and disaster accesses";
  create.max_body_bytes = 64 * 1024;
  create.handler = [this](Request& req) { return HandleCreate(req); };
  routes.push_back(std::move(create));

  Route list;
  list.method = Method::kGet;
  list.pattern = "/fhir/Subscription";
  list.interaction = Interaction::kSearchType;
  list.resource_type = std::string(kSubscriptionType);
  list.auth = AuthRequirement::kToken;
  list.returns_patient_data = true;  // decided by access::Decide (access_history, PATRQT)
  list.summary = "The patient's own notification subscriptions";
  list.handler = [this](Request& req) { return HandleList(req); };
  routes.push_back(std::move(list));

  Route off;
  off.method = Method::kPost;
  off.pattern = "/fhir/Subscription/{id}/$deactivate";
  off.interaction = Interaction::kOperation;
  off.resource_type = std::string(kSubscriptionType);
  off.operation = "$deactivate";
  off.auth = AuthRequirement::kToken;
  // Only the patient themself, and only their own subscription, is answered.
  off.returns_patient_data = false;
  off.summary = "The patient turns a notification subscription off";
  off.max_body_bytes = 64 * 1024;
  off.handler = [this](Request& req) { return HandleDeactivate(req); };
  routes.push_back(std::move(off));
  return routes;
}

}  // namespace renkei::access
