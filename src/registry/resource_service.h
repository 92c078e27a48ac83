// The generic FHIR REST engine: serves read, vread, create (also conditional), update,
// instance history and search for every registered ResourceKind, and batch/transaction
// bundles at POST /fhir. Writes are audited inside their transaction; reads of
// patient-owned data are audited (one entry per patient) before the response leaves.
//
// Choices: ids are server-assigned only (PUT to an unknown id is 405, no update-as-create);
// no DELETE (a version marked deleted by retention answers 410); type-level history is not
// served (the store has no type history); X-Request-Id makes create and transaction
// retries idempotent (same answer, no second write; a different request under the same key
// is 409); concurrent If-None-Exist creates of one criteria make one resource; searches are
// strict about unknown parameters unless "Prefer: handling=lenient".
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/request.h"
#include "fhir/bundle.h"
#include "fhir/search_params.h"
#include "registry/read_access.h"
#include "registry/resource_kind.h"
#include "store/store.h"

namespace renkei::registry {

// The result of one write: the stored version.
struct WriteResult {
  std::string type;
  std::string id;
  int64_t version = 0;
  TimePoint last_updated{};
  std::string json;  // the resource as stored and served
  int status = 201;  // 201 created, 200 updated or conditional create matched
  std::string patient_id;
};

class ResourceService {
 public:
  // kinds: the types served (RegistryKinds() and later modules' kinds). store, audit and
  // clock must outlive the service.
  ResourceService(store::Store& store, audit::AuditLog& audit, const Clock& clock, Limits limits,
                  std::vector<ResourceKind> kinds);

  // Routes for every kind (read, vread, history-instance, update, create, search-type) and
  // POST /fhir (batch/transaction). Not /fhir/metadata. The handlers call this service,
  // which must outlive the table.
  RouteTable Routes();

  // The kind serving type, or nullptr.
  const ResourceKind* Kind(std::string_view type) const;

  // Creates one resource inside the caller's write transaction (validation, write policy,
  // index, one audit entry "create"); returns the id (the resource's own "id" when it has
  // one and it is new, else a new one). For seeds and other modules.
  Result<std::string> CreateInTransaction(store::Transaction& tx, const Principal& who,
                                          json::object resource);

  // The bulk path: validates every resource first (all issues at once, paths prefixed
  // "resources[i]"), then writes them in order (a resource may refer to an earlier one by
  // its id; ids are assigned here unless the resource carries an "id", which must be new).
  // Writes ONE audit entry for the batch (action "create", purpose HOPERAT, detail with the
  // count per type). Returns the ids in input order.
  Result<std::vector<std::string>> CreateManyInTransaction(store::Transaction& tx,
                                                           const Principal& who,
                                                           std::vector<json::object> resources);

  // Reads take the live disaster declarations from this cache (the server's; must outlive
  // the service). Unset: every read reads them.
  void SetDeclarationCache(access::DeclarationCache* cache) { declarations_ = cache; }

  // The handlers behind Routes(), callable directly (tests, other modules' adapters).
  Response Read(Request& req, std::string_view type);
  Response VRead(Request& req, std::string_view type);
  Response HistoryInstance(Request& req, std::string_view type);
  Response Create(Request& req, std::string_view type);
  Response Update(Request& req, std::string_view type);
  Response Search(Request& req, std::string_view type);
  Response BatchOrTransaction(Request& req);

 private:
  struct ReadOutcome {
    store::ResourceRow row;
    std::string purpose;          // the decision's basis, set when permitted
    std::optional<Error> denied;  // the policy's refusal, audited as "denied"
    bool patient_owned = false;
    std::string category;
  };
  struct SearchOutcome {
    std::vector<store::ResourceRow> rows;
    std::map<std::string, std::string> purpose_by_patient;  // patient id -> purpose
    std::optional<int64_t> total;
    std::string next_cursor;
    std::optional<Error> denied;  // no basis for a patient the search names (audited)
    std::string denied_patient;
  };

  Result<const ResourceKind*> KindOrError(std::string_view type) const;
  // Validation + policy + resolution + index for a resource about to be written as
  // (type, id, version); stamps meta. Issues are reported into c (not returned).
  Result<std::optional<WriteResult>> PrepareAndWrite(
      WriteContext& ctx, const ResourceKind& kind, json::object resource, std::string id,
      std::optional<int64_t> current_version, std::string_view expected_patient, TimePoint now,
      bool validated, fhir::IssueCollector& c, std::string_view issue_prefix);
  Result<WriteResult> CreateOp(WriteContext& ctx, json::object resource,
                               std::string_view if_none_exist, std::string forced_id,
                               bool validated, std::vector<audit::AuditEntry>& audits,
                               std::string_view issue_prefix);
  Result<WriteResult> UpdateOp(WriteContext& ctx, std::string_view type, std::string_view id,
                               json::object resource, std::optional<int64_t> if_match,
                               std::vector<audit::AuditEntry>& audits,
                               std::string_view issue_prefix);
  // Reads and searches decide every patient-owned row through ctx (access::Decide).
  Result<ReadOutcome> ReadOp(ReadContext& ctx, std::string_view type, std::string_view id,
                             std::optional<int64_t> version);
  Result<SearchOutcome> SearchOp(ReadContext& ctx, const ResourceKind& kind,
                                 const fhir::SearchRequest& search);
  // Audits a search outcome (denied or one entry per patient) before its answer leaves.
  Status AuditSearch(const Principal& who, const access::ClaimedPurpose& claim,
                     const ResourceKind& kind, const SearchOutcome& outcome);
  // The resources an If-None-Exist query matches (at most limit), and a canonical key of its
  // criteria for ReserveCondition.
  struct Matches {
    std::vector<store::ResourceRow> rows;
    std::string condition_key;
  };
  Result<Matches> FindMatches(store::Transaction& tx, const ResourceKind& kind,
                              std::string_view query, size_t limit);
  // Makes two concurrent conditional creates of the same criteria conflict (the loser is
  // retried and then finds the winner's resource): REPEATABLE READ alone would let both in.
  Status ReserveCondition(store::Transaction& tx, std::string_view condition_key);
  Result<std::string> RunTransaction(const Request& req, fhir::RequestBundle bundle,
                                     std::string_view body_hash);
  std::string RunBatch(const Request& req, fhir::RequestBundle bundle);
  // Routes a batch entry's synthesized request to the handler its method and path name.
  Response Dispatch(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
  access::DeclarationCache* declarations_ = nullptr;
  std::vector<ResourceKind> kinds_;
  std::map<std::string, size_t, std::less<>> by_type_;
};

}  // namespace renkei::registry
