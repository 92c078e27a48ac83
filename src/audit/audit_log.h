// The append-only, hash-chained access log (DESIGN.md §3.1, issue "audit log"). Writes are
// audited inside the transaction that changes the data; reads are audited through group commit
// before data leaves (a response waits for its entry to be committed, DESIGN.md §7).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::audit {

// What a service records. AuditLog assigns seq, time and the chain hashes.
struct AuditEntry {
  std::string facility_code;
  std::string practitioner_id;
  std::string qualification;        // ToString(Qualification) or "patient" / "system"
  std::string patient_id;           // "" when about no patient
  std::string action;               // read, vread, search, history, create, update, delete, verify,
                                    // token, login, purge ...
  std::string category;             // resource type(s) or item category
  std::string purpose;              // HL7 PurposeOfUse: TREAT, ETREAT, PATRQT, HRESCH, DISASTER,
                                    // HOPERAT (operations: registry admin, insurer loads), COVERAGE
  std::string outcome = "success";  // success, denied, error
  std::string detail;               // JSON object text or ""; no names, no tokens
};

// How a service answers a refusal it must not disclose: kDenied when its 404 may stand in for
// "you may not see this" (documents, prescriptions: a record's existence is never confirmed
// to a principal who may not read it), kError when a 404 only ever means "there is none".
enum class NotFoundIs { kError, kDenied };

// The audit outcome of a failed request: "denied" when access was refused (401, 403, and 404
// under NotFoundIs::kDenied), else "error".
std::string_view OutcomeOf(const Error& e, NotFoundIs not_found = NotFoundIs::kError);

// Fills who-fields from the principal.
AuditEntry EntryFor(const Principal& who, std::string_view patient_id, std::string_view action,
                    std::string_view category, std::string_view purpose,
                    std::string_view outcome = "success");

// The chain hash of a row: hex sha256 over prev_hash and every other field of the row in a
// fixed, length-prefixed encoding (so no two different rows hash alike).
std::string ChainHash(const store::AuditRow& row);

class AuditLog {
 public:
  // max_batch: entries per group commit at most.
  AuditLog(store::Store& store, const Clock& clock, size_t max_batch = 512);
  ~AuditLog();  // drains pending entries, then stops the writer thread
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // For writes: appends entries inside the caller's write transaction, so they commit (or roll
  // back) with the data they describe.
  Status AppendInTransaction(store::Transaction& tx, const std::vector<AuditEntry>& entries);

  // For reads: returns only after the entries are committed (concurrent callers share one
  // transaction). On error the caller must not release the data.
  Status Record(std::vector<AuditEntry> entries);
  Status Record(AuditEntry entry);

 private:
  class Writer;
  store::Store& store_;
  const Clock& clock_;
  std::unique_ptr<Writer> writer_;
};

struct VerifyReport {
  bool ok = true;
  int64_t entries = 0;        // entries checked
  int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;        // what is wrong at first_bad_seq (modified, missing, reordered)
};

// Walks the whole chain in seq order and checks numbering and every hash.
Result<VerifyReport> Verify(store::Store& store);

}  // namespace renkei::audit
