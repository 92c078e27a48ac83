// POST /fhir: transaction (one store transaction, all or nothing; urn:uuid references
// rewritten; FHIR http.html#transaction) and batch (each entry on its own).
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/ids.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/url.h"
#include "registry/resource_service.h"
#include "registry/service_internal.h"

namespace renkei::registry {

using internal::CategoryOf;
using internal::PrincipalOf;

namespace {

// "Type", "Type/id", "Type?query", "Type/id/_history/v" split up.
struct EntryUrl {
  std::string type;
  std::string id;
  std::string version;
  std::string query;
  bool has_query = false;
  size_t segments = 0;
};

EntryUrl SplitUrl(std::string_view url) {
  EntryUrl out;
  if (size_t q = url.find('?'); q != std::string_view::npos) {
    out.query = std::string(url.substr(q + 1));
    out.has_query = true;
    url = url.substr(0, q);
  }
  // Absolute URLs of this server name their path after "/fhir/".
  if (size_t f = url.find("/fhir/"); f != std::string_view::npos) url = url.substr(f + 6);
  std::vector<std::string_view> segs;
  while (!url.empty()) {
    size_t slash = url.find('/');
    segs.push_back(url.substr(0, slash));
    url = slash == std::string_view::npos ? std::string_view() : url.substr(slash + 1);
  }
  out.segments = segs.size();
  if (!segs.empty()) out.type = std::string(segs[0]);
  if (segs.size() >= 2) out.id = std::string(segs[1]);
  if (segs.size() == 4 && segs[2] == "_history") out.version = std::string(segs[3]);
  return out;
}

Error AtEntry(size_t i, Error e) {
  std::vector<Issue> issues = e.issues();
  if (issues.empty()) {
    issues.push_back(
        Issue{Issue::Severity::kError, "", fhir::Index("Bundle.entry", i), e.message()});
  }
  return Error(e.code(), fmt::format("Bundle.entry[{}]: {}", i, e.message()), std::move(issues));
}

}  // namespace

Response ResourceService::BatchOrTransaction(Request& req) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  auto body = internal::ParseBody(req, limits_);
  if (!body.ok()) return fhir::ErrorResponse(body.error());
  auto bundle = fhir::ParseRequestBundle(*body, limits_);
  if (!bundle.ok()) return fhir::ErrorResponse(bundle.error());
  if (!bundle->transaction) return Response::Json(200, RunBatch(req, std::move(*bundle)));
  auto result = RunTransaction(req, std::move(*bundle), internal::RequestHash(req));
  if (!result.ok()) return fhir::ErrorResponse(result.error());
  return Response::Json(200, std::move(*result));
}

Result<std::string> ResourceService::RunTransaction(const Request& req, fhir::RequestBundle bundle,
                                                    std::string_view body_hash) {
  const Principal& who = *req.principal;
  RK_ASSIGN_OR_RETURN(std::string key, internal::IdempotencyKey(req));
  RK_ASSIGN_OR_RETURN(access::ClaimedPurpose claim, ClaimOf(&req, who));
  const TimePoint now = clock_.Now();
  const std::string scope = internal::IdempotencyScope(who, "transaction");
  const size_t n = bundle.entries.size();

  // Checks that need no store: methods, urls, and every resource's validity (all issues).
  fhir::IssueCollector c;
  std::vector<EntryUrl> urls(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = bundle.entries[i];
    std::string path = fhir::Index("Bundle.entry", i);
    urls[i] = SplitUrl(e.url);
    const EntryUrl& u = urls[i];
    const ResourceKind* kind = Kind(u.type);
    if (kind == nullptr) {
      c.Invalid(path + ".request.url", fmt::format("resource type '{}' is not served", u.type));
      continue;
    }
    if (e.method == "POST") {
      if (u.segments != 1 || u.has_query) c.Invalid(path + ".request.url", "POST takes a type");
    } else if (e.method == "PUT") {
      if (u.segments != 2 || u.has_query) c.Invalid(path + ".request.url", "PUT takes Type/id");
    } else if (e.method == "GET") {
      if (u.segments > 2 && u.version.empty())
        c.Invalid(path + ".request.url", "not a read or search");
    } else {
      c.Invalid(path + ".request.method", fmt::format("{} is not supported here", e.method));
    }
    if (e.resource && (e.method == "POST" || e.method == "PUT") &&
        json::GetString(*e.resource, "resourceType") != u.type) {
      c.Invalid(path + ".resource.resourceType", fmt::format("expected {}", u.type));
    }
  }
  RK_TRY(c.ToStatus("the transaction is not valid"));

  // Entries write in kind order (referenced kinds first), keeping their order within a kind;
  // reads follow the writes (FHIR http.html#trules).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto rank = [&](size_t i) {
      if (bundle.entries[i].method == "GET") return kinds_.size() + 1;
      return by_type_.find(urls[i].type)->second;
    };
    return rank(a) < rank(b);
  });

  std::vector<audit::AuditEntry> audits;
  return store::RunInTransactionWithResult<std::string>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<std::string> {
        audits.clear();
        if (!key.empty()) {
          RK_ASSIGN_OR_RETURN(auto stored, tx.GetIdempotent(scope, key));
          if (stored) {
            auto o = json::ParseObject(*stored, Limits{});
            if (!o.ok())
              return Error(ErrorCode::kInternal, "a stored idempotency outcome is not JSON");
            if (json::GetString(*o, "hash") != body_hash) {
              return Error(ErrorCode::kConflict,
                           "X-Request-Id was already used for another request");
            }
            return std::string(json::GetString(*o, "body").value_or(""));
          }
        }
        WriteContext ctx{tx, who, {}};
        ReadContext read(tx, who, claim, now, declarations_);
        // Conditional creates decide first; then every urn:uuid fullUrl gets its target.
        std::vector<std::optional<store::ResourceRow>> existing(n);
        std::vector<std::string> assigned(n);
        std::map<std::string, std::string, std::less<>> refs;
        for (size_t i = 0; i < n; ++i) {
          const auto& e = bundle.entries[i];
          if (e.method != "POST") continue;
          if (!e.if_none_exist.empty()) {
            auto matches = FindMatches(tx, *Kind(urls[i].type), e.if_none_exist, 2);
            if (!matches.ok()) return AtEntry(i, matches.error());
            if (matches->rows.size() > 1) {
              return AtEntry(i, Error(ErrorCode::kPreconditionFailed,
                                      "ifNoneExist matches more than one resource"));
            }
            if (matches->rows.size() == 1) {
              existing[i] = std::move(matches->rows[0]);
            } else {
              Status reserved = ReserveCondition(tx, matches->condition_key);
              if (!reserved.ok()) {
                if (reserved.error().code() == ErrorCode::kRetryable) return reserved.error();
                return AtEntry(i, reserved.error());
              }
            }
          }
          assigned[i] = existing[i] ? existing[i]->id : NewId();
          if (e.full_url.starts_with("urn:uuid:")) {
            refs[e.full_url] = urls[i].type + "/" + assigned[i];
          }
        }
        // Rewrite and validate every resource (one answer with all issues).
        std::vector<json::object> resources(n);
        fhir::IssueCollector issues;
        for (size_t i = 0; i < n; ++i) {
          const auto& e = bundle.entries[i];
          if (!e.resource || (e.method != "POST" && e.method != "PUT") || existing[i]) continue;
          json::value v = *e.resource;
          fhir::RewriteReferences(v, refs);
          resources[i] = std::move(v.get_object());
          if (e.method == "POST") resources[i]["id"] = assigned[i];
          fhir::IssueCollector one;
          Kind(urls[i].type)->validate(resources[i], one);
          issues.Merge(one, fhir::Index("Bundle.entry", i) + ".resource");
        }
        RK_TRY(issues.ToStatus("the transaction is not valid"));

        std::vector<fhir::BundleEntryOut> out(n);
        for (size_t i : order) {
          const auto& e = bundle.entries[i];
          const EntryUrl& u = urls[i];
          const ResourceKind& kind = *Kind(u.type);
          fhir::BundleEntryOut& o = out[i];
          if (e.method == "POST" && existing[i]) {
            const store::ResourceRow& row = *existing[i];
            o.response_status = fhir::StatusLine(200);
            o.response_location = fmt::format("{}/{}/_history/{}", row.type, row.id, row.version);
            o.response_etag = fhir::FormatETag(row.version);
            o.response_last_modified = FormatInstant(row.last_updated);
            continue;
          }
          if (e.method == "POST" || e.method == "PUT") {
            std::string prefix = fhir::Index("Bundle.entry", i) + ".resource";
            Result<WriteResult> w =
                e.method == "POST"
                    ? CreateOp(ctx, std::move(resources[i]), "", assigned[i], true, audits, prefix)
                    : UpdateOp(ctx, u.type, u.id, std::move(resources[i]),
                               e.if_match.empty() ? std::nullopt : fhir::ParseETag(e.if_match),
                               audits, prefix);
            if (!w.ok()) return AtEntry(i, w.error());
            o.response_status = fhir::StatusLine(w->status);
            o.response_location = fmt::format("{}/{}/_history/{}", w->type, w->id, w->version);
            o.response_etag = fhir::FormatETag(w->version);
            o.response_last_modified = FormatInstant(w->last_updated);
            continue;
          }
          // GET: a read, vread or search inside the transaction, audited with it.
          if (u.segments >= 2) {
            std::optional<int64_t> version;
            if (!u.version.empty()) {
              version = fhir::ParseETag(u.version);
              if (!version) return AtEntry(i, Error(ErrorCode::kNotFound, "no such version"));
            }
            auto r = ReadOp(read, u.type, u.id, version);
            if (!r.ok()) return AtEntry(i, r.error());
            if (r->denied) return AtEntry(i, *r->denied);
            if (r->patient_owned) {
              audits.push_back(ReadAuditEntry(who, claim, r->row.patient_id,
                                              version ? "vread" : "read", r->category, r->purpose,
                                              false));
            }
            o.full_url = fhir::ResourceUrl(req.base_url, u.type, u.id);
            o.resource_json = std::move(r->row.json);
            o.response_status = fhir::StatusLine(200);
            o.response_etag = fhir::FormatETag(r->row.version);
            o.response_last_modified = FormatInstant(r->row.last_updated);
            continue;
          }
          auto params = fhir::ParseQueryString(u.query);
          if (!params) return AtEntry(i, Error(ErrorCode::kInvalid, "malformed query"));
          auto search = fhir::ParseSearch(*params, kind.search_params, limits_);
          if (!search.ok()) return AtEntry(i, search.error());
          if (kind.search_policy) {
            Status s = kind.search_policy(who);
            if (!s.ok()) return AtEntry(i, s.error());
          }
          auto found = SearchOp(read, kind, *search);
          if (!found.ok()) return AtEntry(i, found.error());
          // A refused entry fails the whole transaction: nothing of it is written.
          if (found->denied) return AtEntry(i, *found->denied);
          for (const auto& [patient, purpose] : found->purpose_by_patient) {
            audits.push_back(
                ReadAuditEntry(who, claim, patient, "search", CategoryOf(kind), purpose, false));
          }
          std::vector<fhir::BundleEntryOut> matches;
          for (auto& row : found->rows) {
            fhir::BundleEntryOut m;
            m.full_url = fhir::ResourceUrl(req.base_url, u.type, row.id);
            m.resource_json = std::move(row.json);
            m.search_mode = "match";
            matches.push_back(std::move(m));
          }
          std::string base = fmt::format("{}/fhir/{}?", req.base_url, u.type);
          std::string next = found->next_cursor.empty()
                                 ? std::string()
                                 : base + fhir::PageQuery(*search, found->next_cursor);
          o.resource_json = fhir::SearchSetBundle(
              found->total, base + fhir::PageQuery(*search, search->cursor), next, matches);
          o.response_status = fhir::StatusLine(200);
        }
        RK_TRY(audit_.AppendInTransaction(tx, audits));
        std::string response = fhir::BundleJson("transaction-response", std::nullopt, {}, out,
                                                FormatInstant(clock_.Now()));
        if (!key.empty()) {
          json::object o;
          o["hash"] = body_hash;
          o["body"] = response;
          Status put = tx.PutIdempotent(scope, key, json::Serialize(o), clock_.Now());
          if (!put.ok()) {
            if (put.error().code() == ErrorCode::kConflict) {
              return Error(ErrorCode::kRetryable, "idempotency key taken concurrently");
            }
            return std::move(put).error();
          }
        }
        return response;
      });
}

std::string ResourceService::RunBatch(const Request& req, fhir::RequestBundle bundle) {
  // Each entry is an independent request through the same handlers (own transaction, own
  // audit); a failure fills that entry's response and the others go on.
  std::vector<fhir::BundleEntryOut> out(bundle.entries.size());
  for (size_t i = 0; i < bundle.entries.size(); ++i) {
    auto& e = bundle.entries[i];
    Request sub;
    sub.principal = req.principal;
    sub.base_url = req.base_url;
    sub.client_address = req.client_address;
    sub.request_id = req.request_id;
    // Every entry is read on the basis the batch claims (access/purpose_claim.h).
    for (std::string_view name : {"x-purpose-of-use", "x-access-reason", "x-consent"}) {
      if (auto v = req.Header(name)) sub.headers[std::string(name)] = std::string(*v);
    }
    Response r;
    bool ok_method = true;
    if (e.method == "GET") {
      sub.method = Method::kGet;
    } else if (e.method == "POST") {
      sub.method = Method::kPost;
    } else if (e.method == "PUT") {
      sub.method = Method::kPut;
    } else {
      ok_method = false;
    }
    EntryUrl u = SplitUrl(e.url);
    auto params = fhir::ParseQueryString(u.query);
    if (!ok_method) {
      r = fhir::ErrorResponse(
          Error(ErrorCode::kMethodNotAllowed, fmt::format("{} is not supported here", e.method)));
    } else if (!params) {
      r = fhir::ErrorResponse(Error(ErrorCode::kInvalid, "malformed query"));
    } else {
      sub.path = "/fhir/" + u.type;
      if (!u.id.empty()) sub.path += "/" + u.id;
      if (u.segments == 3) sub.path += "/_history";
      if (!u.version.empty()) sub.path += "/_history/" + u.version;
      sub.query = std::move(*params);
      if (!e.if_none_exist.empty()) sub.headers["if-none-exist"] = e.if_none_exist;
      if (!e.if_match.empty()) sub.headers["if-match"] = e.if_match;
      if (e.resource) sub.body = json::Serialize(*e.resource);
      r = Dispatch(sub);
    }
    fhir::BundleEntryOut& o = out[i];
    o.response_status = fhir::StatusLine(r.status);
    for (const auto& [name, value] : r.headers) {
      if (name == "Location") o.response_location = value;
      if (name == "ETag") o.response_etag = value;
    }
    if (r.status >= 400) {
      o.response_outcome_json = std::move(r.body);
    } else {
      o.resource_json = std::move(r.body);
    }
  }
  return fhir::BundleJson("batch-response", std::nullopt, {}, out, FormatInstant(clock_.Now()));
}

}  // namespace renkei::registry
