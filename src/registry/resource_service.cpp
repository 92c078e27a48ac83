#include "registry/resource_service.h"

#include <fmt/format.h>

#include <charconv>
#include <exception>

#include "core/crypto.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/text.h"
#include "fhir/capability.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "registry/patient_read_policy.h"
#include "registry/service_internal.h"
#include "registry/store_query.h"

namespace renkei::registry {

namespace internal {

Result<const Principal*> PrincipalOf(const Request& req) {
  if (!req.principal) return Error(ErrorCode::kUnauthenticated, "an access token is required");
  return &*req.principal;
}

Result<json::object> ParseBody(const Request& req, const Limits& limits) {
  if (auto ct = req.Header("content-type")) {
    if (ct->find("json") == std::string_view::npos) {
      return Error(ErrorCode::kUnsupportedMedia, "send application/fhir+json");
    }
  }
  if (req.body.size() > limits.max_body_bytes) {
    return Error(ErrorCode::kTooLarge, fmt::format("the body is larger than the limit of {} bytes",
                                                   limits.max_body_bytes));
  }
  if (!text::IsValidUtf8(req.body)) {
    return Error(ErrorCode::kInvalid, "the body is not valid UTF-8");
  }
  return json::ParseObject(req.body, limits);
}

std::string CategoryOf(const ResourceKind& kind) {
  return kind.audit_category.empty() ? kind.type : kind.audit_category;
}

std::string RequestHash(const Request& req) {
  return crypto::Sha256Hex(fmt::format("{} {}\n{}", MethodName(req.method), req.path, req.body));
}

std::string IdempotencyScope(const Principal& who, std::string_view what) {
  return fmt::format("fhir-{}:{}:{}", what, who.facility_code, who.subject);
}

Result<std::string> IdempotencyKey(const Request& req) {
  auto key = req.Header("x-request-id");
  if (!key) return std::string();
  if (key->size() > 200) return Error(ErrorCode::kInvalid, "X-Request-Id is longer than 200 bytes");
  return std::string(*key);
}

void AddVersionHeaders(Response& r, std::string_view base_url, std::string_view type,
                       std::string_view id, int64_t version, TimePoint updated, bool location) {
  if (location) {
    r.headers.emplace_back(
        "Location", fmt::format("{}/_history/{}", fhir::ResourceUrl(base_url, type, id), version));
  }
  r.headers.emplace_back("ETag", fhir::FormatETag(version));
  r.headers.emplace_back("Last-Modified", fhir::HttpDate(updated));
}

}  // namespace internal

using internal::CategoryOf;
using internal::PrincipalOf;

ResourceService::ResourceService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                                 Limits limits, std::vector<ResourceKind> kinds)
    : store_(store), audit_(audit), clock_(clock), limits_(limits), kinds_(std::move(kinds)) {
  // Defaults for what a kind leaves unset: the patient read policy for patient-owned kinds,
  // any authenticated reader otherwise; only the ministry writes; shape checks only.
  for (auto& k : kinds_) {
    if (!k.read_policy && !k.patient_owned) k.read_policy = DirectoryReadPolicy;
    if (!k.search_policy && k.patient_owned) k.search_policy = CheckPatientSearch;
    if (!k.write_policy) k.write_policy = DirectoryWritePolicy;
    if (!k.validate) {
      k.validate = [type = k.type](const json::object& r, fhir::IssueCollector& c) {
        fhir::CheckResourceShape(r, type, c);
      };
    }
    if (!k.index) k.index = [](const json::object&) { return std::vector<store::IndexTerm>(); };
    if (!k.patient_of) k.patient_of = [](const json::object&) { return std::string(); };
  }
  for (size_t i = 0; i < kinds_.size(); ++i) by_type_[kinds_[i].type] = i;
}

const ResourceKind* ResourceService::Kind(std::string_view type) const {
  auto it = by_type_.find(type);
  return it == by_type_.end() ? nullptr : &kinds_[it->second];
}

Result<const ResourceKind*> ResourceService::KindOrError(std::string_view type) const {
  const ResourceKind* kind = Kind(type);
  if (kind == nullptr) {
    return Error(ErrorCode::kNotFound, fmt::format("resource type {} is not served", type));
  }
  return kind;
}

namespace {

// Handlers never let a library exception escape: it becomes a 500 OperationOutcome.
std::function<Response(Request&)> Guard(std::function<Response(Request&)> fn) {
  return [fn = std::move(fn)](Request& req) -> Response {
    try {
      return fn(req);
    } catch (const std::exception& e) {
      log::Error("registry_handler_exception", {{"what", e.what()}});
      return fhir::ErrorResponse(Error(ErrorCode::kInternal, "internal error"));
    }
  };
}

std::optional<int64_t> ParsePositive(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

}  // namespace

RouteTable ResourceService::Routes() {
  RouteTable routes;
  auto add = [&](Method m, std::string pattern, Interaction i, const ResourceKind& kind,
                 std::string summary, std::function<Response(Request&)> fn, bool patient_data) {
    Route r;
    r.method = m;
    r.pattern = std::move(pattern);
    r.interaction = i;
    r.resource_type = kind.type;
    r.auth = AuthRequirement::kToken;
    r.returns_patient_data = patient_data;
    r.summary = std::move(summary);
    if (i == Interaction::kCreate) r.operation = std::string(fhir::kConditionalCreateMarker);
    r.handler = Guard(std::move(fn));
    routes.push_back(std::move(r));
  };
  for (const auto& kind : kinds_) {
    const std::string t = kind.type;
    const bool pd = kind.patient_owned;
    add(
        Method::kGet, "/fhir/" + t + "/{id}", Interaction::kRead, kind, "Read a " + t,
        [this, t](Request& req) { return Read(req, t); }, pd);
    add(
        Method::kGet, "/fhir/" + t + "/{id}/_history/{vid}", Interaction::kVRead, kind,
        "Read a version of a " + t, [this, t](Request& req) { return VRead(req, t); }, pd);
    add(
        Method::kGet, "/fhir/" + t + "/{id}/_history", Interaction::kHistoryInstance, kind,
        "Versions of a " + t + ", newest first",
        [this, t](Request& req) { return HistoryInstance(req, t); }, pd);
    // Writes answer with what the writer sent (the write policy decides them); the one stored
    // resource a write can return, a conditional create's match, is decided by access::Decide
    // like any read (resource_writes.cpp) and returned only when permitted.
    add(
        Method::kPut, "/fhir/" + t + "/{id}", Interaction::kUpdate, kind,
        "Update a " + t + " (If-Match for version checks)",
        [this, t](Request& req) { return Update(req, t); }, false);
    add(
        Method::kPost, "/fhir/" + t, Interaction::kCreate, kind,
        "Create a " + t + " (If-None-Exist, X-Request-Id)",
        [this, t](Request& req) { return Create(req, t); }, false);
    add(
        Method::kGet, "/fhir/" + t, Interaction::kSearchType, kind, "Search " + t,
        [this, t](Request& req) { return Search(req, t); }, pd);
  }
  Route bundle;
  bundle.method = Method::kPost;
  bundle.pattern = "/fhir";
  bundle.interaction = Interaction::kBatchTransaction;
  bundle.auth = AuthRequirement::kToken;
  bundle.returns_patient_data = true;
  bundle.summary = "Batch or transaction Bundle (X-Request-Id for transactions)";
  bundle.handler = Guard([this](Request& req) { return BatchOrTransaction(req); });
  routes.push_back(std::move(bundle));
  return routes;
}

Result<ResourceService::ReadOutcome> ResourceService::ReadOp(ReadContext& ctx,
                                                             std::string_view type,
                                                             std::string_view id,
                                                             std::optional<int64_t> version) {
  RK_ASSIGN_OR_RETURN(const ResourceKind* kind, KindOrError(type));
  if (!IsValidFhirId(id)) return Error(ErrorCode::kNotFound, fmt::format("{} not found", type));
  std::optional<store::ResourceRow> row;
  if (version) {
    RK_ASSIGN_OR_RETURN(row, ctx.tx().ReadVersion(type, id, *version));
  } else {
    RK_ASSIGN_OR_RETURN(row, ctx.tx().ReadCurrent(type, id));
  }
  if (!row) {
    return Error(ErrorCode::kNotFound,
                 version ? fmt::format("{}/{} has no version {}", type, id, *version)
                         : fmt::format("{}/{} is not known", type, id));
  }
  if (row->deleted) return Error(ErrorCode::kGone, fmt::format("{}/{} was deleted", type, id));
  ReadOutcome out;
  out.patient_owned = kind->patient_owned;
  out.category = CategoryOf(*kind);
  if (kind->patient_owned) {
    // The one door (issue "Access policy"): every read of patient data is decided here.
    RK_ASSIGN_OR_RETURN(access::Decision d, ctx.DecideRow(*kind, *row));
    if (d.permit) {
      out.purpose = std::string(d.basis);
    } else {
      out.denied = Error(ErrorCode::kForbidden, std::string(d.reason));
    }
  } else {
    auto decision = kind->read_policy(ctx.who(), ctx.tx(), *row);
    if (!decision.ok()) {
      if (decision.error().code() != ErrorCode::kForbidden) return std::move(decision).error();
      out.denied = std::move(decision).error();
    } else {
      out.purpose = std::move(decision).value();
    }
  }
  out.row = std::move(*row);
  return out;
}

Response ResourceService::Read(Request& req, std::string_view type) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  auto claim = ClaimOf(&req, **who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  std::optional<int64_t> version;
  if (req.path_params.count("vid")) {
    version = ParsePositive(req.PathParam("vid"));
    if (!version) return fhir::ErrorResponse(Error(ErrorCode::kNotFound, "no such version"));
  }
  std::string id(req.PathParam("id"));
  const TimePoint now = clock_.Now();
  auto outcome = store::RunInTransactionWithResult<ReadOutcome>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) {
        ReadContext ctx(tx, **who, *claim, now, declarations_);
        return ReadOp(ctx, type, id, version);
      });
  if (!outcome.ok()) return fhir::ErrorResponse(outcome.error());
  const ReadOutcome& o = *outcome;
  if (o.patient_owned) {
    // The entry is committed before any data leaves (DESIGN.md §3.1).
    Status s =
        audit_.Record(ReadAuditEntry(**who, *claim, o.row.patient_id, version ? "vread" : "read",
                                     o.category, o.purpose, o.denied.has_value()));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
  }
  if (o.denied) return fhir::ErrorResponse(*o.denied);
  Response r = Response::Json(200, o.row.json);
  internal::AddVersionHeaders(r, req.base_url, type, o.row.id, o.row.version, o.row.last_updated,
                              false);
  return r;
}

Response ResourceService::VRead(Request& req, std::string_view type) {
  return Read(req, type);
}

Result<ResourceService::SearchOutcome> ResourceService::SearchOp(
    ReadContext& ctx, const ResourceKind& kind, const fhir::SearchRequest& search) {
  store::SearchQuery q = ToStoreQuery(kind.type, search);
  SearchOutcome out;
  if (kind.patient_owned) {
    // Consent is enforced inside the query (issue "Access policy"): the plan narrows q before
    // it runs, so totals and paging count only what the caller may see.
    RK_ASSIGN_OR_RETURN(SearchPlan plan, PlanPatientSearch(ctx, kind, q));
    if (plan.denied) {
      out.denied = std::move(plan.denied);
      out.denied_patient = std::move(plan.denied_patient);
      return out;
    }
    if (plan.match_nothing) {
      out.total = 0;
      return out;
    }
  }
  RK_ASSIGN_OR_RETURN(store::SearchPage page, ctx.tx().Search(q));
  out.total = page.total;
  if (search.total_only) return out;
  out.next_cursor = std::move(page.next_cursor);
  out.rows.reserve(page.rows.size());
  for (auto& row : page.rows) {
    if (kind.patient_owned) {
      // Every row is still decided: the plan and the decision must agree, and a row the
      // decision refuses means the plan let too much into the query.
      RK_ASSIGN_OR_RETURN(access::Decision d, ctx.DecideRow(kind, row));
      if (!d.permit) {
        return Error(ErrorCode::kInternal, "the search scope and the access decision disagree");
      }
      out.purpose_by_patient.emplace(row.patient_id, std::string(d.basis));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

Status ResourceService::AuditSearch(const Principal& who, const access::ClaimedPurpose& claim,
                                    const ResourceKind& kind, const SearchOutcome& o) {
  std::vector<audit::AuditEntry> entries;
  if (o.denied) {
    entries.push_back(
        ReadAuditEntry(who, claim, o.denied_patient, "search", CategoryOf(kind), "", true));
  }
  for (const auto& [patient, purpose] : o.purpose_by_patient) {
    entries.push_back(
        ReadAuditEntry(who, claim, patient, "search", CategoryOf(kind), purpose, false));
  }
  if (entries.empty()) return Ok();
  return audit_.Record(std::move(entries));
}

Response ResourceService::Search(Request& req, std::string_view type) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  auto kind = KindOrError(type);
  if (!kind.ok()) return fhir::ErrorResponse(kind.error());
  auto claim = ClaimOf(&req, **who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  auto search = fhir::ParseSearch(req.query, (*kind)->search_params, limits_,
                                  fhir::PrefersLenient(req.Header("prefer").value_or("")));
  if (!search.ok()) return fhir::ErrorResponse(search.error());
  if ((*kind)->search_policy) {
    Status s = (*kind)->search_policy(**who);
    if (!s.ok()) return fhir::ErrorResponse(s.error());
  }
  const TimePoint now = clock_.Now();
  auto outcome = store::RunInTransactionWithResult<SearchOutcome>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) {
        ReadContext ctx(tx, **who, *claim, now, declarations_);
        return SearchOp(ctx, **kind, *search);
      });
  if (!outcome.ok()) return fhir::ErrorResponse(outcome.error());
  SearchOutcome& o = *outcome;
  if (Status s = AuditSearch(**who, *claim, **kind, o); !s.ok()) {
    return fhir::ErrorResponse(s.error());
  }
  if (o.denied) return fhir::ErrorResponse(*o.denied);
  std::vector<fhir::BundleEntryOut> entries;
  entries.reserve(o.rows.size());
  for (auto& row : o.rows) {
    fhir::BundleEntryOut e;
    e.full_url = fhir::ResourceUrl(req.base_url, type, row.id);
    e.resource_json = std::move(row.json);
    e.search_mode = "match";
    entries.push_back(std::move(e));
  }
  std::string base = fmt::format("{}/fhir/{}?", req.base_url, type);
  std::string self = base + fhir::PageQuery(*search, search->cursor);
  std::string next = (o.next_cursor.empty() || search->total_only)
                         ? std::string()
                         : base + fhir::PageQuery(*search, o.next_cursor);
  std::optional<int64_t> total =
      search->include_total || search->total_only ? o.total : std::nullopt;
  return Response::Json(200, fhir::SearchSetBundle(total, self, next, entries));
}

Response ResourceService::HistoryInstance(Request& req, std::string_view type) {
  auto who = PrincipalOf(req);
  if (!who.ok()) return fhir::ErrorResponse(who.error());
  size_t count = limits_.default_page_size;
  int64_t before = 0;
  for (const auto& [name, value] : req.query) {
    if (name == "_count") {
      auto n = ParsePositive(value);
      if (!n)
        return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "_count must be a positive integer"));
      count = std::min(static_cast<size_t>(*n), limits_.max_page_size);
    } else if (name == "_cursor") {
      auto n = ParsePositive(value);
      if (!n) return fhir::ErrorResponse(Error(ErrorCode::kInvalid, "_cursor is not valid"));
      before = *n;
    } else if (name != "_format" && name != "_pretty") {
      return fhir::ErrorResponse(
          Error(ErrorCode::kInvalid, fmt::format("history parameter '{}' is not supported", name)));
    }
  }
  auto claim = ClaimOf(&req, **who);
  if (!claim.ok()) return fhir::ErrorResponse(claim.error());
  const TimePoint now = clock_.Now();
  std::string id(req.PathParam("id"));
  struct HistoryOutcome {
    ReadOutcome current;
    std::vector<store::ResourceRow> versions;
    bool more = false;
  };
  auto outcome = store::RunInTransactionWithResult<HistoryOutcome>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<HistoryOutcome> {
        HistoryOutcome h;
        ReadContext ctx(tx, **who, *claim, now, declarations_);
        RK_ASSIGN_OR_RETURN(h.current, ReadOp(ctx, type, id, std::nullopt));
        if (h.current.denied) return h;
        RK_ASSIGN_OR_RETURN(h.versions, tx.History(type, id, count + 1, before));
        if (h.versions.size() > count) {
          h.versions.resize(count);
          h.more = true;
        }
        return h;
      });
  if (!outcome.ok()) return fhir::ErrorResponse(outcome.error());
  HistoryOutcome& h = *outcome;
  if (h.current.patient_owned) {
    Status s = audit_.Record(ReadAuditEntry(**who, *claim, h.current.row.patient_id, "history",
                                            h.current.category, h.current.purpose,
                                            h.current.denied.has_value()));
    if (!s.ok()) return fhir::ErrorResponse(s.error());
  }
  if (h.current.denied) return fhir::ErrorResponse(*h.current.denied);
  std::vector<fhir::BundleEntryOut> entries;
  for (auto& v : h.versions) {
    fhir::BundleEntryOut e;
    e.full_url = fhir::ResourceUrl(req.base_url, type, id);
    if (!v.deleted) e.resource_json = std::move(v.json);
    e.request_method = v.version == 1 ? "POST" : v.deleted ? "DELETE" : "PUT";
    e.request_url = v.version == 1 ? std::string(type) : fmt::format("{}/{}", type, id);
    e.response_status = fhir::StatusLine(v.version == 1 ? 201 : 200);
    e.response_etag = fhir::FormatETag(v.version);
    e.response_last_modified = FormatInstant(v.last_updated);
    entries.push_back(std::move(e));
  }
  std::string base = fmt::format("{}/fhir/{}/{}/_history?_count={}", req.base_url, type, id, count);
  std::vector<std::pair<std::string, std::string>> links;
  links.emplace_back("self", before > 0 ? fmt::format("{}&_cursor={}", base, before) : base);
  if (h.more && !h.versions.empty()) {
    links.emplace_back("next", fmt::format("{}&_cursor={}", base, h.versions.back().version));
  }
  return Response::Json(200, fhir::BundleJson("history", h.current.row.version, links, entries,
                                              FormatInstant(clock_.Now())));
}

Response ResourceService::Dispatch(Request& req) {
  // /fhir/Type[/id[/_history[/vid]]]
  std::string_view path = req.path;
  if (!path.starts_with("/fhir/")) {
    return fhir::ErrorResponse(Error(ErrorCode::kNotFound, "not a FHIR resource path"));
  }
  path.remove_prefix(6);
  std::vector<std::string> segs;
  while (!path.empty()) {
    size_t slash = path.find('/');
    segs.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (segs.empty() || Kind(segs[0]) == nullptr) {
    return fhir::ErrorResponse(Error(ErrorCode::kNotFound, "resource type not served"));
  }
  const std::string type = segs[0];
  if (segs.size() >= 2) req.path_params["id"] = segs[1];
  if (segs.size() == 4 && segs[2] == "_history") req.path_params["vid"] = segs[3];
  if (req.method == Method::kGet) {
    if (segs.size() == 1) return Search(req, type);
    if (segs.size() == 2) return Read(req, type);
    if (segs.size() == 3 && segs[2] == "_history") return HistoryInstance(req, type);
    if (segs.size() == 4 && segs[2] == "_history") return VRead(req, type);
  } else if (req.method == Method::kPost && segs.size() == 1) {
    return Create(req, type);
  } else if (req.method == Method::kPut && segs.size() == 2) {
    return Update(req, type);
  }
  return fhir::ErrorResponse(
      Error(ErrorCode::kMethodNotAllowed,
            fmt::format("{} is not supported on this path", MethodName(req.method))));
}

}  // namespace renkei::registry
