// The Store: the only code that speaks SQL (DESIGN.md §6). Domain code sees typed rows and
// a Transaction; store/sqlite and store/postgres implement the SQL connection, and one
// portable SQL layer (sql_store.cpp) implements this interface over either. Both engines
// pass one conformance suite (tests/store).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace renkei::store {

// One stored version of a FHIR resource. patient_id is the owning patient ("" for resources
// owned by no patient: Organization, Practitioner...). Patient-owned tables key on
// patient_id first so PostgreSQL can hash-partition by patient (DESIGN.md §6).
struct ResourceRow {
  std::string type;
  std::string id;
  int64_t version = 0;       // 1, 2, ... ; assigned by WriteResource
  TimePoint last_updated{};  // assigned by the caller (the service's clock)
  bool deleted = false;      // a delete is a version with deleted = true and empty json
  std::string patient_id;
  std::string json;  // the resource as served, meta.versionId/lastUpdated included
};

// A search index term extracted by the service that owns the resource type.
// Kinds: token (system|code), string (normalized search key), reference ("Type/id"),
// date (ISO instant, compared as text, so always FormatInstant), number (decimal text).
struct IndexTerm {
  std::string param;   // FHIR search parameter name, e.g. "identifier", "name", "birthdate"
  std::string system;  // token system ("" when none); empty for other kinds
  std::string value;   // the normalized value
};

enum class MatchOp { kEq, kPrefix, kLt, kLe, kGt, kGe };

// One search criterion: the resource matches when it has a term for param with any of values
// (OR) under op. When system is set (tokens), the system must match too; has_system=false
// means "any system". A negated criterion matches exactly the resources the plain one does not
// (no such term): what a query needs to leave out flagged or hidden items inside the query
// itself, so that totals and paging never count them.
struct Criterion {
  std::string param;
  MatchOp op = MatchOp::kEq;
  bool has_system = false;
  std::string system;
  std::vector<std::string> values;
  bool negate = false;
};

struct SearchQuery {
  std::string type;
  std::vector<Criterion> criteria;  // all must hold (AND)
  // Restrict to one patient (and use the patient-first key) when set.
  std::optional<std::string> patient_id;
  size_t count = 50;  // page size
  std::string after;  // opaque cursor from SearchPage::next_cursor ("" = first page)
  bool include_total = true;
  // Sort order: by last_updated descending when true, else by id ascending.
  bool newest_first = false;
  // When not empty, sorts by this index term instead (newest_first is then ignored): by each
  // resource's lowest value of the term ascending, its highest descending (FHIR search
  // "_sort"), ties broken by id in the same direction; resources without the term come last
  // in both directions. Values compare as byte strings (dates are FormatInstant text).
  // "_lastUpdated" and "_id" name the version time and the id themselves. A cursor fits only
  // the order it was made under (kInvalid otherwise). Totals do not depend on the order.
  std::string sort_param;
  bool sort_descending = false;
  // Searches the tombstones instead: resources whose current version is a delete (json
  // empty). They match only by the terms their deleting write kept (usually none), e.g. what
  // a read needs to answer 410 Gone rather than 404 to those who could have read the resource.
  bool deleted_only = false;
  // Also returns each row's index terms under these parameters (SearchPage::terms), e.g. the
  // facts a tombstone kept. Empty (the usual): none are read.
  std::vector<std::string> terms_of;
};

struct SearchPage {
  std::vector<ResourceRow> rows;
  std::optional<int64_t> total;  // number of matches (all pages) when requested
  std::string next_cursor;       // "" when there is no further page
  // When SearchQuery::terms_of is set: terms[i] are rows[i]'s terms under those parameters,
  // ordered by param, system, value.
  std::vector<std::vector<IndexTerm>> terms;
};

// A key registered for a principal: a practitioner's token-signing key or a patient's card
// key. The store keeps the public JWK (JSON text) and never a private key.
struct KeyRecord {
  std::string owner_kind;  // "practitioner", "patient", "client"
  std::string owner_id;
  std::string kid;
  std::string alg;  // "ES384", "RS384", "ES256"
  std::string public_jwk;
  TimePoint created{};
  bool revoked = false;
};

// One entry of the hash-chained audit log (audit/ computes hashes; the store only keeps them).
struct AuditRow {
  int64_t seq = 0;  // 1, 2, ...; assigned by AppendAudit as tail + 1
  TimePoint recorded{};
  std::string facility_code;
  std::string practitioner_id;
  std::string qualification;
  std::string patient_id;  // "" when the action is about no patient
  std::string action;      // "read", "search", "create", "update", "delete", "verify", "login"...
  std::string category;    // resource types or item category, e.g. "Coverage"
  std::string purpose;     // HL7 PurposeOfUse: TREAT, ETREAT, PATRQT, HRESCH, DISASTER, ...
  std::string outcome;     // "success", "denied", "error"
  std::string detail;      // JSON object text with further facts (never identifiers in logs)
  std::string prev_hash;   // hex sha256 of the previous entry ("" for seq 1)
  std::string hash;        // hex sha256 over prev_hash and this entry's fields
};

struct AuditFilter {
  std::optional<std::string> patient_id;
  std::optional<std::string> facility_code;
  std::optional<std::string> purpose;
  std::optional<TimePoint> since;  // recorded >= since
  std::optional<TimePoint> until;  // recorded <= until
  size_t count = 100;
  int64_t before_seq = 0;  // 0 = newest first from the end; else entries with seq < before_seq
};

// One entry's place in the patient index of the audit log (audit/patient_index.h).
struct AuditPatientEntry {
  std::string patient_id;  // "" for an entry about no patient (never indexed)
  int64_t seq = 0;
};

enum class TxMode { kRead, kWrite };

// A database transaction. Not thread-safe; one per unit of work. Destroying it without
// Commit() rolls back. Every method may return kRetryable (serialization failure, busy),
// which RunInTransaction retries.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // --- FHIR resources ---------------------------------------------------------------
  // Current version (deleted versions included: the caller answers 410 for them).
  virtual Result<std::optional<ResourceRow>> ReadCurrent(std::string_view type,
                                                         std::string_view id) = 0;
  virtual Result<std::optional<ResourceRow>> ReadVersion(std::string_view type, std::string_view id,
                                                         int64_t version) = 0;
  // Versions newest first; at most count; only versions < before_version when > 0.
  virtual Result<std::vector<ResourceRow>> History(std::string_view type, std::string_view id,
                                                   size_t count, int64_t before_version) = 0;
  // Writes a new version of row (row.version is ignored and assigned: current + 1, or 1),
  // replacing the search terms. When expected_version is set and differs from the current
  // version (0 = must not exist), returns kConflict (kPreconditionFailed is the caller's
  // choice). A resource's patient_id cannot change once written (kConflict). Returns the
  // assigned version.
  virtual Result<int64_t> WriteResource(const ResourceRow& row, const std::vector<IndexTerm>& terms,
                                        std::optional<int64_t> expected_version) = 0;
  // Removes a resource with all its versions and terms (retention; not a FHIR delete).
  virtual Status PurgeResource(std::string_view type, std::string_view id) = 0;
  // Removes every version of a resource but the current one, so that a deleted resource keeps
  // only its tombstone (reads answer 410) and none of its content stays behind (retention, and
  // registrations replaced by their bundle identifier). No-op for an unknown resource.
  virtual Status EraseHistory(std::string_view type, std::string_view id) = 0;
  // Current, not deleted resources matching the query (only deleted ones: deleted_only).
  virtual Result<SearchPage> Search(const SearchQuery& query) = 0;

  // --- Idempotency (X-Request-Id / If-None-Exist retries) -----------------------------
  // The stored outcome for (scope, key), e.g. the "Type/id/_history/v" a retried create made.
  virtual Result<std::optional<std::string>> GetIdempotent(std::string_view scope,
                                                           std::string_view key) = 0;
  // Records the outcome; kConflict when (scope, key) already exists.
  virtual Status PutIdempotent(std::string_view scope, std::string_view key,
                               std::string_view outcome, TimePoint at) = 0;

  // Forgets the outcomes recorded before `created_before`: a retry after that gets no
  // replayed answer (the retention window of X-Request-Id, DESIGN.md §3.2).
  virtual Status PurgeIdempotency(TimePoint created_before) = 0;

  // --- Keys and one-time values ---------------------------------------------------------
  virtual Status PutKey(const KeyRecord& key) = 0;  // upsert by (owner_kind, owner_id, kid)
  virtual Result<std::vector<KeyRecord>> GetKeys(std::string_view owner_kind,
                                                 std::string_view owner_id) = 0;
  // Records a nonce/jti as used until expires. Returns false when it was already used
  // (a replay). Expired nonces may be purged and are then free again; callers refuse stale
  // assertions by time before asking.
  virtual Result<bool> UseNonce(std::string_view scope, std::string_view nonce,
                                TimePoint expires) = 0;
  virtual Status PurgeNonces(TimePoint now) = 0;

  // --- Settings (server secrets, schema facts) ------------------------------------------
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  virtual Status PutSetting(std::string_view key, std::string_view value) = 0;

  // --- Audit log (append-only) ------------------------------------------------------------
  // The last entry (seq and hash), or nullopt for an empty log. In a write transaction this
  // also takes the chain lock (PostgreSQL: row lock on the chain head) so that appends from
  // several servers serialize. seq and hash come from the store's recorded chain head: if the
  // log's last row was deleted or altered outside the store, only seq and hash are filled and
  // the chain continues from the genuine head (audit::Verify then reports the damage).
  virtual Result<std::optional<AuditRow>> AuditTail() = 0;
  // Appends rows in order; each row.seq must be tail.seq + 1 (kConflict otherwise).
  virtual Status AppendAudit(const std::vector<AuditRow>& rows) = 0;
  // Entries with seq >= from_seq in ascending order, at most limit.
  virtual Result<std::vector<AuditRow>> ScanAudit(int64_t from_seq, size_t limit) = 0;
  // Entries matching the filter, newest first. By patient: the patient index up to its mark
  // and the log itself after it, so an entry is found from its commit on.
  virtual Result<std::vector<AuditRow>> FindAudit(const AuditFilter& filter) = 0;

  // The patient index of the audit log is written behind the log, in batches sorted by
  // patient (audit/patient_index.h), not one random index page per appended entry.
  // The seq up to which every entry about a patient is in the index.
  virtual Result<int64_t> AuditPatientMark() = 0;
  // Patient and seq of the entries with seq > after_seq, ascending, at most limit (entries
  // about no patient included, with an empty patient_id, so the caller knows how far it read).
  virtual Result<std::vector<AuditPatientEntry>> AuditPatientsAfter(int64_t after_seq,
                                                                    size_t limit) = 0;
  // Adds entries to the index; entries already there are kept (a batch may be repeated after
  // a crash or by a second server). Entries with an empty patient_id are skipped.
  virtual Status IndexAuditPatients(const std::vector<AuditPatientEntry>& entries) = 0;
  // Moves the mark to seq unless it is there or further already (it never moves back).
  virtual Status AdvanceAuditPatientMark(int64_t seq) = 0;
  // Reads the index between two patients (inclusive), so that the pages a following write
  // of that range touches come from memory rather than the disk while it holds the writer.
  virtual Status WarmAuditPatients(std::string_view first, std::string_view last) = 0;

  // Returns once the transaction is durable. SQLite write transactions that queue for the
  // one writer are committed together (group commit): Commit() then waits for the shared
  // COMMIT and reports its outcome.
  virtual Status Commit() = 0;
};

// Named differences between engines (STYLE.md: a capability, never a silent skip).
struct Capabilities {
  std::string engine;               // "sqlite" or "postgresql"
  bool concurrent_writers = false;  // PostgreSQL: yes; SQLite: one writer at a time
};

class Store {
 public:
  virtual ~Store() = default;

  // A thread must not hold two write transactions at once: on SQLite the second waits for the
  // writer the first holds (kRetryable after a bounded wait). "sqlite::memory:" has a single
  // connection, so there no two transactions of any mode may overlap on one thread.
  virtual Result<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;
  // Applies pending numbered migrations; idempotent. Returns the schema version after.
  virtual Result<int> Migrate() = 0;
  virtual Result<int> SchemaVersion() = 0;
  virtual const Capabilities& capabilities() const = 0;
};

// Opens "sqlite:PATH" (also a bare path or "sqlite::memory:") or "postgresql://..." /
// "postgres://..." (or a libpq keyword string, "host=... dbname=..."). Does not migrate.
// readers = pooled read connections (SQLite) or pool size (PostgreSQL). SQLite takes the
// option "?synchronous=normal" (durable across a process crash, not across power loss; the
// default "full" fsyncs every commit). Errors: kInvalid (bad URL), kUnavailable (cannot open
// or connect).
Result<std::unique_ptr<Store>> Open(std::string_view url, int pool_size = 8);

// Runs fn in a transaction and commits it, retrying kRetryable failures (PostgreSQL 40001 /
// 40P01, SQLITE_BUSY) with bounded, jittered exponential back-off (max_attempts in all).
// fn must be safe to run again. A kRetryable error that outlives the attempts becomes
// kUnavailable.
Status RunInTransaction(Store& store, TxMode mode, const std::function<Status(Transaction&)>& fn,
                        int max_attempts = 8);

template <typename T>
Result<T> RunInTransactionWithResult(Store& store, TxMode mode,
                                     const std::function<Result<T>(Transaction&)>& fn,
                                     int max_attempts = 8) {
  std::optional<T> out;
  Status s = RunInTransaction(
      store, mode,
      [&](Transaction& tx) -> Status {
        auto r = fn(tx);
        if (!r.ok()) return std::move(r).error();
        out = std::move(r).value();
        return Ok();
      },
      max_attempts);
  if (!s.ok()) return std::move(s).error();
  return std::move(*out);
}

}  // namespace renkei::store
