// Writes: create (also conditional and idempotent), update, and the programmatic create paths.
#include <fmt/format.h>

#include <algorithm>

#include "core/crypto.h"
#include "core/ids.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/url.h"
#include "registry/resource_service.h"
#include "registry/service_internal.h"
#include "registry/store_query.h"

namespace renkei::registry {

using internal::CategoryOf;
using internal::PrincipalOf;

Result<std::optional<WriteResult>> ResourceService::PrepareAndWrite(
    WriteContext& ctx, const ResourceKind& kind, json::object resource, std::string id,
    std::optional<int64_t> current_version, std::string_view expected_patient, TimePoint now,
    bool validated, fhir::IssueCollector& c, std::string_view issue_prefix) {
  const int64_t version = current_version.value_or(0) + 1;
  fhir::StampMeta(resource, id, version, now);
  fhir::IssueCollector local;
  if (!validated) {
    kind.validate(resource, local);
    if (!local.empty()) {
      c.Merge(local, issue_prefix.empty() ? kind.type : issue_prefix);
      return std::optional<WriteResult>();
    }
  }
  RK_TRY(kind.write_policy(ctx, resource));
  std::vector<store::IndexTerm> terms = kind.index(resource);
  if (kind.resolve) RK_TRY(kind.resolve(ctx, resource, local, terms));
  std::string patient_id = kind.patient_owned ? kind.patient_of(resource) : std::string();
  if (kind.patient_owned && patient_id.empty()) {
    local.Invalid(kind.type, "the resource names no patient");
  }
  if (!expected_patient.empty() && patient_id != expected_patient) {
    local.Rule(kind.type, "a resource cannot move to another patient");
  }
  if (!local.empty()) {
    c.Merge(local, issue_prefix.empty() ? kind.type : issue_prefix);
    return std::optional<WriteResult>();
  }
  terms.push_back({"_id", "", id});
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});

  store::ResourceRow row;
  row.type = kind.type;
  row.id = id;
  row.last_updated = now;
  row.patient_id = patient_id;
  row.json = json::Serialize(resource);
  auto written = ctx.tx.WriteResource(row, terms, current_version.value_or(0));
  if (!written.ok()) {
    if (written.error().code() == ErrorCode::kConflict) {
      return Error(ErrorCode::kConflict,
                   fmt::format("{}/{} was changed concurrently or already exists", kind.type, id));
    }
    return std::move(written).error();
  }
  if (*written != version) {
    return Error(ErrorCode::kInternal, "the store assigned an unexpected version");
  }
  // Later resources of the same request may refer to this one without another read.
  ctx.memo.insert_or_assign(fmt::format("exists:{}/{}", kind.type, id), std::string(1, '1'));
  WriteResult out;
  out.type = kind.type;
  out.id = std::move(id);
  out.version = version;
  out.last_updated = now;
  out.json = std::move(row.json);
  out.status = current_version ? 200 : 201;
  out.patient_id = std::move(patient_id);
  return std::optional<WriteResult>(std::move(out));
}

Result<ResourceService::Matches> ResourceService::FindMatches(store::Transaction& tx,
                                                              const ResourceKind& kind,
                                                              std::string_view query,
                                                              size_t limit) {
  // If-None-Exist carries a search query string, optionally as "Type?query".
  if (size_t q = query.find('?'); q != std::string_view::npos) query = query.substr(q + 1);
  auto params = fhir::ParseQueryString(query);
  if (!params) return Error(ErrorCode::kInvalid, "If-None-Exist is not a valid query string");
  RK_ASSIGN_OR_RETURN(fhir::SearchRequest search,
                      fhir::ParseSearch(*params, kind.search_params, limits_));
  if (search.criteria.empty()) {
    return Error(ErrorCode::kInvalid, "If-None-Exist names no criteria");
  }
  store::SearchQuery sq = ToStoreQuery(kind.type, search);
  sq.count = limit;
  sq.after.clear();
  sq.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(sq));
  // The criteria in a canonical order, so that equivalent queries share one key.
  std::vector<std::string> parts;
  for (auto c : search.criteria) {
    std::sort(c.values.begin(), c.values.end());
    std::string part = fmt::format("{}|{}|{}|{}", c.param, static_cast<int>(c.op),
                                   c.has_system ? "s:" + c.system : "-", c.values.size());
    for (const auto& v : c.values) part += fmt::format("|{}:{}", v.size(), v);
    parts.push_back(std::move(part));
  }
  std::sort(parts.begin(), parts.end());
  std::string canonical(kind.type);
  for (const auto& p : parts) canonical += fmt::format("\n{}", p);
  Matches out;
  out.rows = std::move(page.rows);
  out.condition_key = crypto::Sha256Hex(canonical);
  return out;
}

Status ResourceService::ReserveCondition(store::Transaction& tx, std::string_view condition_key) {
  static constexpr std::string_view kScope = "fhir-if-none-exist";
  // Keys of earlier creates whose resources no longer match stay taken: use the next one.
  for (int generation = 1; generation <= 1000; ++generation) {
    std::string key = fmt::format("{}#{}", condition_key, generation);
    RK_ASSIGN_OR_RETURN(auto stored, tx.GetIdempotent(kScope, key));
    if (stored) continue;
    Status put = tx.PutIdempotent(kScope, key, "created", clock_.Now());
    if (!put.ok() && put.error().code() == ErrorCode::kConflict) {
      return Error(ErrorCode::kRetryable, "a concurrent conditional create of the same criteria");
    }
    return put;
  }
  return Error(ErrorCode::kInternal, "too many generations of one If-None-Exist condition");
}

Result<WriteResult> ResourceService::CreateOp(WriteContext& ctx, json::object resource,
                                              std::string_view if_none_exist, std::string forced_id,
                                              bool validated,
                                              std::vector<audit::AuditEntry>& audits,
                                              std::string_view issue_prefix) {
  auto type = json::GetString(resource, "resourceType");
  if (!type) return Error(ErrorCode::kInvalid, "resourceType is required");
  RK_ASSIGN_OR_RETURN(const ResourceKind* kind, KindOrError(*type));
  if (!if_none_exist.empty()) {
    // FHIR http.html#ccreate: no match creates, one match answers 200, several 412.
    RK_ASSIGN_OR_RETURN(Matches matches, FindMatches(ctx.tx, *kind, if_none_exist, 2));
    if (matches.rows.size() > 1) {
      return Error(ErrorCode::kPreconditionFailed, "If-None-Exist matches more than one resource");
    }
    if (matches.rows.empty()) RK_TRY(ReserveCondition(ctx.tx, matches.condition_key));
    if (matches.rows.size() == 1) {
      store::ResourceRow& row = matches.rows[0];
      WriteResult out;
      out.type = row.type;
      out.id = row.id;
      out.version = row.version;
      out.last_updated = row.last_updated;
      out.status = 200;
      out.patient_id = row.patient_id;
      // The match is returned only to a principal who may read it, decided as any read is
      // (the writer's natural purpose: HOPERAT for the ministry, COVERAGE for an insurer).
      RK_ASSIGN_OR_RETURN(access::ClaimedPurpose claim, ClaimOf(nullptr, ctx.who));
      ReadContext read(ctx.tx, ctx.who, claim, clock_.Now(), declarations_);
      std::string purpose;
      if (kind->patient_owned) {
        RK_ASSIGN_OR_RETURN(access::Decision d, read.DecideRow(*kind, row));
        if (d.permit) purpose = std::string(d.basis);
      } else {
        auto decision = kind->read_policy(ctx.who, ctx.tx, row);
        if (decision.ok()) {
          purpose = std::move(decision).value();
        } else if (decision.error().code() != ErrorCode::kForbidden) {
          return std::move(decision).error();
        }
      }
      if (!purpose.empty()) {
        out.json = std::move(row.json);
        if (kind->patient_owned) {
          audits.push_back(ReadAuditEntry(ctx.who, claim, row.patient_id, "read", CategoryOf(*kind),
                                          purpose, false));
        }
      }
      return out;
    }
  }
  std::string id = forced_id.empty() ? NewId() : std::move(forced_id);
  if (!IsValidFhirId(id)) return Error(ErrorCode::kInvalid, "the id is not a valid FHIR id");
  fhir::IssueCollector c;
  RK_ASSIGN_OR_RETURN(auto written,
                      PrepareAndWrite(ctx, *kind, std::move(resource), id, std::nullopt, "",
                                      clock_.Now(), validated, c, issue_prefix));
  if (!written) return c.ToStatus(fmt::format("{} is not valid", kind->type)).error();
  audits.push_back(audit::EntryFor(ctx.who, written->patient_id, "create", CategoryOf(*kind),
                                   kind->write_purpose));
  return std::move(*written);
}

Result<WriteResult> ResourceService::UpdateOp(WriteContext& ctx, std::string_view type,
                                              std::string_view id, json::object resource,
                                              std::optional<int64_t> if_match,
                                              std::vector<audit::AuditEntry>& audits,
                                              std::string_view issue_prefix) {
  RK_ASSIGN_OR_RETURN(const ResourceKind* kind, KindOrError(type));
  if (json::GetString(resource, "resourceType") != type) {
    return Error(ErrorCode::kInvalid, fmt::format("the body must be a {}", type));
  }
  if (json::GetString(resource, "id") != id) {
    return Error(ErrorCode::kInvalid, "the resource id must equal the id in the URL");
  }
  RK_ASSIGN_OR_RETURN(auto current, ctx.tx.ReadCurrent(type, id));
  if (!current) {
    return Error(
        ErrorCode::kMethodNotAllowed,
        fmt::format("{}/{} does not exist and ids are assigned by the server; use POST", type, id));
  }
  if (if_match && *if_match != current->version) {
    return Error(ErrorCode::kPreconditionFailed,
                 fmt::format("If-Match names version {} but the current version is {}", *if_match,
                             current->version));
  }
  if (!current->deleted) {
    // The writer must be allowed to write what is there now, not only what it sends
    // (an insurer cannot take over another insurer's Coverage by changing its payor).
    auto old = json::ParseObject(current->json, Limits{});
    if (!old.ok()) return Error(ErrorCode::kInternal, "a stored resource is not JSON");
    RK_TRY(kind->write_policy(ctx, *old));
  }
  fhir::IssueCollector c;
  RK_ASSIGN_OR_RETURN(
      auto written,
      PrepareAndWrite(ctx, *kind, std::move(resource), std::string(id), current->version,
                      current->patient_id, clock_.Now(), false, c, issue_prefix));
  if (!written) return c.ToStatus(fmt::format("{} is not valid", kind->type)).error();
  audits.push_back(audit::EntryFor(ctx.who, written->patient_id, "update", CategoryOf(*kind),
                                   kind->write_purpose));
  return std::move(*written);
}

namespace {

Response WrittenResponse(const Request& req, const WriteResult& w) {
  Response r;
  if (w.json.empty()) {
    // A conditional create matched a resource this principal may not read: say that it
    // exists, release nothing of it.
    r = fhir::InformationResponse(200, "a matching resource exists");
  } else {
    r = Response::Json(w.status, w.json);
  }
  internal::AddVersionHeaders(r, req.base_url, w.type, w.id, w.version, w.last_updated, true);
  return r;
}

// What an idempotency key stores for a create: enough to answer the retry identically.
std::string CreateOutcome(std::string_view hash, const WriteResult& w) {
  json::object o;
  o["hash"] = hash;
  o["type"] = w.type;
  o["id"] = w.id;
  o["version"] = w.version;
  o["status"] = w.status;
  o["withheld"] = w.json.empty();  // a matched resource this principal may not read
  return json::Serialize(o);
}

}  // namespace

Response ResourceService::Create(Request& req, std::string_view type) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  auto kind = KindOrError(type);
  if (!kind.ok()) return fhir::ErrorResponse(kind.error());
  auto body = internal::ParseBody(req, limits_);
  if (!body.ok()) return fhir::ErrorResponse(body.error());
  if (json::GetString(*body, "resourceType") != type) {
    return fhir::ErrorResponse(
        Error(ErrorCode::kInvalid, fmt::format("the body must be a {}", type),
              {Issue{Issue::Severity::kError, "invalid", std::string(type) + ".resourceType",
                     fmt::format("expected {}", type)}}));
  }
  auto key = internal::IdempotencyKey(req);
  if (!key.ok()) return fhir::ErrorResponse(key.error());
  const std::string scope = internal::IdempotencyScope(**who, "create");
  const std::string hash = internal::RequestHash(req);
  std::string if_none_exist(req.Header("if-none-exist").value_or(""));

  std::optional<WriteResult> result;
  std::vector<audit::AuditEntry> audits;
  Status s =
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        result.reset();
        audits.clear();
        if (!key->empty()) {
          RK_ASSIGN_OR_RETURN(auto stored, tx.GetIdempotent(scope, *key));
          if (stored) {
            auto o = json::ParseObject(*stored, Limits{});
            if (!o.ok())
              return Error(ErrorCode::kInternal, "a stored idempotency outcome is not JSON");
            if (json::GetString(*o, "hash") != hash) {
              return Error(ErrorCode::kConflict,
                           "X-Request-Id was already used for another request");
            }
            std::string t(json::GetString(*o, "type").value_or(""));
            std::string id(json::GetString(*o, "id").value_or(""));
            int64_t v = json::GetInt(*o, "version").value_or(0);
            RK_ASSIGN_OR_RETURN(auto row, tx.ReadVersion(t, id, v));
            if (!row) return Error(ErrorCode::kGone, "the resource this request created is gone");
            WriteResult w;
            w.type = t;
            w.id = id;
            w.version = v;
            w.last_updated = row->last_updated;
            w.json = std::move(row->json);
            w.status = static_cast<int>(json::GetInt(*o, "status").value_or(201));
            if (json::GetBool(*o, "withheld").value_or(false)) w.json.clear();
            w.patient_id = row->patient_id;
            result = std::move(w);
            return Ok();
          }
        }
        WriteContext ctx{tx, **who, {}};
        RK_ASSIGN_OR_RETURN(WriteResult w,
                            CreateOp(ctx, *body, if_none_exist, "", false, audits, ""));
        RK_TRY(audit_.AppendInTransaction(tx, audits));
        if (!key->empty()) {
          Status put = tx.PutIdempotent(scope, *key, CreateOutcome(hash, w), clock_.Now());
          if (!put.ok()) {
            // A concurrent retry won the key: run again and answer with its outcome.
            if (put.error().code() == ErrorCode::kConflict) {
              return Error(ErrorCode::kRetryable, "idempotency key taken concurrently");
            }
            return put;
          }
        }
        result = std::move(w);
        return Ok();
      });
  if (!s.ok()) return fhir::ErrorResponse(s.error());
  return WrittenResponse(req, *result);
}

Response ResourceService::Update(Request& req, std::string_view type) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  auto kind = KindOrError(type);
  if (!kind.ok()) return fhir::ErrorResponse(kind.error());
  auto body = internal::ParseBody(req, limits_);
  if (!body.ok()) return fhir::ErrorResponse(body.error());
  std::optional<int64_t> if_match;
  if (auto h = req.Header("if-match")) {
    if_match = fhir::ParseETag(*h);
    if (!if_match)
      return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "If-Match is not an ETag"));
  }
  std::string id(req.PathParam("id"));
  std::optional<WriteResult> result;
  std::vector<audit::AuditEntry> audits;
  Status s =
      store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
        audits.clear();
        WriteContext ctx{tx, **who, {}};
        RK_ASSIGN_OR_RETURN(WriteResult w, UpdateOp(ctx, type, id, *body, if_match, audits, ""));
        RK_TRY(audit_.AppendInTransaction(tx, audits));
        result = std::move(w);
        return Ok();
      });
  if (!s.ok()) return fhir::ErrorResponse(s.error());
  Response r = Response::Json(200, result->json);
  internal::AddVersionHeaders(r, req.base_url, type, result->id, result->version,
                              result->last_updated, true);
  return r;
}

Result<std::string> ResourceService::CreateInTransaction(store::Transaction& tx,
                                                         const Principal& who,
                                                         json::object resource) {
  std::string id(json::GetString(resource, "id").value_or(""));
  std::vector<audit::AuditEntry> audits;
  WriteContext ctx{tx, who, {}};
  RK_ASSIGN_OR_RETURN(WriteResult w,
                      CreateOp(ctx, std::move(resource), "", std::move(id), false, audits, ""));
  RK_TRY(audit_.AppendInTransaction(tx, audits));
  return w.id;
}

Result<std::vector<std::string>> ResourceService::CreateManyInTransaction(
    store::Transaction& tx, const Principal& who, std::vector<json::object> resources) {
  // Validate everything first so that one answer lists every problem.
  fhir::IssueCollector all;
  std::vector<const ResourceKind*> kinds(resources.size(), nullptr);
  for (size_t i = 0; i < resources.size(); ++i) {
    std::string prefix = fmt::format("resources[{}]", i);
    auto type = json::GetString(resources[i], "resourceType");
    kinds[i] = type ? Kind(*type) : nullptr;
    if (kinds[i] == nullptr) {
      all.Invalid(prefix + ".resourceType", "not a resource type served here");
      continue;
    }
    fhir::IssueCollector c;
    kinds[i]->validate(resources[i], c);
    all.Merge(c, prefix);
  }
  RK_TRY(all.ToStatus("the resources are not valid"));

  WriteContext ctx{tx, who, {}};
  std::vector<std::string> ids;
  ids.reserve(resources.size());
  std::map<std::string, int64_t> per_type;
  const TimePoint now = clock_.Now();
  for (size_t i = 0; i < resources.size(); ++i) {
    std::string id(json::GetString(resources[i], "id").value_or(""));
    if (id.empty()) id = NewId();
    fhir::IssueCollector c;
    RK_ASSIGN_OR_RETURN(
        auto written, PrepareAndWrite(ctx, *kinds[i], std::move(resources[i]), id, std::nullopt, "",
                                      now, true, c, fmt::format("resources[{}]", i)));
    if (!written) return c.ToStatus("the resources are not valid").error();
    ids.push_back(std::move(written->id));
    ++per_type[kinds[i]->type];
  }
  json::object detail;
  detail["count"] = static_cast<int64_t>(ids.size());
  json::object types;
  std::string category;
  for (const auto& [t, n] : per_type) {
    types[t] = n;
    if (!category.empty()) category += ",";
    category += t;
  }
  detail["types"] = std::move(types);
  audit::AuditEntry entry = audit::EntryFor(who, "", "create", category, "HOPERAT");
  entry.detail = json::Serialize(detail);
  RK_TRY(audit_.AppendInTransaction(tx, {entry}));
  return ids;
}

}  // namespace renkei::registry
