#include "audit/audit_log.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "audit/chain_head.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/response_gate.h"

namespace renkei::audit {
namespace {

// Attempts of one group commit. On PostgreSQL every appender (this writer, transactional
// appends, other servers) takes the chain head's row lock, and under REPEATABLE READ a writer
// that waited for it must start over (40001); the writer therefore retries longer than an
// ordinary transaction rather than fail a whole batch of reads.
constexpr int kCommitAttempts = 64;

// Appends one length-prefixed field: "<decimal length>:<bytes>". A prefix makes the encoding
// injective, so ("ab", "c") and ("a", "bc") never hash alike.
void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Builds the rows for entries on top of tail (nullopt = empty log), with their hashes.
std::vector<store::AuditRow> ChainRows(const std::optional<store::AuditRow>& tail,
                                       const std::vector<AuditEntry>& entries, TimePoint now) {
  std::vector<store::AuditRow> rows;
  rows.reserve(entries.size());
  int64_t seq = tail ? tail->seq : 0;
  std::string prev = tail ? tail->hash : std::string();
  for (const AuditEntry& e : entries) {
    store::AuditRow row;
    row.seq = ++seq;
    row.recorded = now;
    row.facility_code = e.facility_code;
    row.practitioner_id = e.practitioner_id;
    row.qualification = e.qualification;
    row.patient_id = e.patient_id;
    row.action = e.action;
    row.category = e.category;
    row.purpose = e.purpose;
    row.outcome = e.outcome;
    row.detail = e.detail;
    row.prev_hash = std::move(prev);
    row.hash = ChainHash(row);
    prev = row.hash;
    rows.push_back(std::move(row));
  }
  return rows;
}

// Appends entries in tx: reads the tail (which takes the chain lock in a write transaction),
// chains the new rows onto it and moves the recorded head along.
Status AppendChained(store::Transaction& tx, const std::vector<AuditEntry>& entries,
                     TimePoint now) {
  if (entries.empty()) return Ok();
  RK_ASSIGN_OR_RETURN(std::optional<store::AuditRow> tail, tx.AuditTail());
  std::vector<store::AuditRow> rows = ChainRows(tail, entries, now);
  RK_TRY(tx.AppendAudit(rows));
  return tx.PutSetting(kChainHeadSetting, FormatChainHead(rows.back().seq, rows.back().hash));
}

}  // namespace

std::string_view OutcomeOf(const Error& e, NotFoundIs not_found) {
  switch (e.code()) {
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kForbidden:
      return "denied";
    case ErrorCode::kNotFound:
      return not_found == NotFoundIs::kDenied ? "denied" : "error";
    default:
      return "error";
  }
}

AuditEntry EntryFor(const Principal& who, std::string_view patient_id, std::string_view action,
                    std::string_view category, std::string_view purpose, std::string_view outcome) {
  AuditEntry e;
  e.facility_code = who.facility_code;
  switch (who.kind) {
    case PrincipalKind::kPractitioner:
      e.practitioner_id = who.practitioner_id;
      e.qualification = std::string(ToString(who.qualification));
      break;
    case PrincipalKind::kPatient:
      e.qualification = "patient";
      break;
    case PrincipalKind::kSystem:
      e.qualification = "system";
      break;
  }
  e.patient_id = std::string(patient_id);
  e.action = std::string(action);
  e.category = std::string(category);
  e.purpose = std::string(purpose);
  e.outcome = std::string(outcome);
  return e;
}

std::string ChainHash(const store::AuditRow& row) {
  std::string buf;
  buf.reserve(256 + row.detail.size());
  // A version tag first, so that a future change of the encoding cannot collide with this one.
  AppendField(buf, "renkei-audit-v1");
  AppendField(buf, row.prev_hash);
  AppendField(buf, std::to_string(row.seq));
  AppendField(buf, std::to_string(row.recorded.time_since_epoch().count()));
  AppendField(buf, row.facility_code);
  AppendField(buf, row.practitioner_id);
  AppendField(buf, row.qualification);
  AppendField(buf, row.patient_id);
  AppendField(buf, row.action);
  AppendField(buf, row.category);
  AppendField(buf, row.purpose);
  AppendField(buf, row.outcome);
  AppendField(buf, row.detail);
  return crypto::Sha256Hex(buf);
}

// Group commit (DESIGN.md §7): callers queue their entries and block; one thread takes
// everything queued while the previous commit ran (up to max_batch entries), writes it in one
// write transaction and wakes the callers with the common status. Under load a batch grows to
// the number of callers waiting, so the cost of a commit (fsync) is shared without any sleep.
class AuditLog::Writer {
 public:
  Writer(store::Store& store, const Clock& clock, size_t max_batch)
      : store_(store), clock_(clock), max_batch_(max_batch == 0 ? 1 : max_batch) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Writer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  Status Submit(std::vector<AuditEntry>& entries) {
    Pending p;
    p.entries = &entries;
    std::unique_lock lock(mu_);
    if (stopping_) return Error(ErrorCode::kUnavailable, "the audit log is shutting down");
    queue_.push_back(&p);
    lock.unlock();
    wake_.notify_one();
    lock.lock();
    p.cv.wait(lock, [&] { return p.done; });
    return std::move(p.status);
  }

  // Queues entries and returns at once; `done` gets the commit's outcome on the writer thread.
  void SubmitAsync(std::vector<AuditEntry> entries, ResponseGate::Completion done) {
    auto p = std::make_unique<Pending>();
    p->owned = std::move(entries);
    p->entries = &p->owned;
    p->completion = std::move(done);
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      p->completion(Error(ErrorCode::kUnavailable, "the audit log is shutting down"));
      return;
    }
    queue_.push_back(p.release());
    lock.unlock();
    wake_.notify_one();
  }

 private:
  // A synchronous caller's Pending lives on its stack until done is set under mu_; the writer
  // never touches it after releasing mu_ following that. An asynchronous one (completion set)
  // is owned by the writer from the moment it is queued.
  struct Pending {
    std::vector<AuditEntry>* entries = nullptr;
    Status status;
    bool done = false;
    std::condition_variable cv;
    std::vector<AuditEntry> owned;
    ResponseGate::Completion completion;
  };

  void Run() {
    std::vector<Pending*> batch;
    std::vector<AuditEntry> entries;
    for (;;) {
      batch.clear();
      entries.clear();
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        size_t taken = 0;
        while (!queue_.empty() &&
               (batch.empty() || taken + queue_.front()->entries->size() <= max_batch_)) {
          Pending* p = queue_.front();
          queue_.pop_front();
          taken += p->entries->size();
          batch.push_back(p);
        }
      }
      // Synchronous callers are blocked and asynchronous entries belong to the writer, so the
      // vectors can be read without the lock.
      for (Pending* p : batch) {
        for (AuditEntry& e : *p->entries) entries.push_back(std::move(e));
      }
      Status s = store::RunInTransaction(
          store_, store::TxMode::kWrite,
          [&](store::Transaction& tx) -> Status {
            return AppendChained(tx, entries, clock_.Now());
          },
          kCommitAttempts);
      if (!s.ok()) {
        log::Error("audit_group_commit_failed",
                   {{"entries", entries.size()}, {"error", s.error().ToString()}});
      }
      std::vector<std::unique_ptr<Pending>> detached;
      {
        std::lock_guard lock(mu_);
        for (Pending* p : batch) {
          if (p->completion) {
            detached.emplace_back(p);
            continue;
          }
          p->status = s;
          p->done = true;
          p->cv.notify_one();
        }
      }
      // Outside the lock: a completion hands the response back to its connection.
      for (auto& p : detached) p->completion(s);
    }
  }

  store::Store& store_;
  const Clock& clock_;
  const size_t max_batch_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

AuditLog::AuditLog(store::Store& store, const Clock& clock, size_t max_batch)
    : store_(store), clock_(clock), writer_(std::make_unique<Writer>(store, clock, max_batch)) {}

AuditLog::~AuditLog() = default;

Status AuditLog::AppendInTransaction(store::Transaction& tx,
                                     const std::vector<AuditEntry>& entries) {
  return AppendChained(tx, entries, clock_.Now());
}

Status AuditLog::Record(std::vector<AuditEntry> entries) {
  if (entries.empty()) return Ok();
  // Inside a server handler the response waits for the commit instead of the thread: the
  // worker is free for the next request while the group commit runs (DESIGN.md §7).
  if (ResponseGate* gate = ResponseGate::Current()) {
    writer_->SubmitAsync(std::move(entries), gate->Hold());
    return Ok();
  }
  return writer_->Submit(entries);
}

Status AuditLog::Record(AuditEntry entry) {
  std::vector<AuditEntry> entries;
  entries.push_back(std::move(entry));
  return Record(std::move(entries));
}

}  // namespace renkei::audit
