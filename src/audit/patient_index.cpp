#include "audit/patient_index.h"

#include <algorithm>
#include <thread>

#include "core/log.h"

namespace renkei::audit {

Result<size_t> IndexPatientAccesses(store::Store& store, size_t batch, size_t chunk,
                                    std::chrono::milliseconds pause) {
  if (batch == 0 || chunk == 0) return Error(ErrorCode::kInvalid, "batch and chunk must be > 0");
  struct Pending {
    int64_t mark = 0;
    std::vector<store::AuditPatientEntry> entries;
  };
  RK_ASSIGN_OR_RETURN(
      Pending pending,
      store::RunInTransactionWithResult<Pending>(
          store, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Pending> {
            Pending p;
            RK_ASSIGN_OR_RETURN(p.mark, tx.AuditPatientMark());
            RK_ASSIGN_OR_RETURN(p.entries, tx.AuditPatientsAfter(p.mark, batch));
            return p;
          }));
  if (pending.entries.empty()) return size_t{0};
  // Read in seq order: the last is how far this pass goes.
  const int64_t upto = pending.entries.back().seq;
  const size_t count = pending.entries.size();
  std::vector<store::AuditPatientEntry>& entries = pending.entries;
  entries.erase(
      std::remove_if(entries.begin(), entries.end(),
                     [](const store::AuditPatientEntry& e) { return e.patient_id.empty(); }),
      entries.end());
  // Patient order: each chunk covers a range of patients, so its entries share index pages.
  std::sort(entries.begin(), entries.end(),
            [](const store::AuditPatientEntry& a, const store::AuditPatientEntry& b) {
              return a.patient_id != b.patient_id ? a.patient_id < b.patient_id : a.seq < b.seq;
            });
  size_t at = 0;
  do {
    const size_t end = std::min(entries.size(), at + chunk);
    const bool last = end == entries.size();
    std::vector<store::AuditPatientEntry> part(entries.begin() + static_cast<ptrdiff_t>(at),
                                               entries.begin() + static_cast<ptrdiff_t>(end));
    if (!part.empty()) {
      // On a reader first: the chunk's index pages then come from the page cache while the
      // write below holds the one writer, which the group commits of audited reads wait for.
      RK_TRY(store::RunInTransaction(store, store::TxMode::kRead, [&](store::Transaction& tx) {
        return tx.WarmAuditPatients(part.front().patient_id, part.back().patient_id);
      }));
    }
    RK_TRY(store::RunInTransaction(store, store::TxMode::kWrite,
                                   [&](store::Transaction& tx) -> Status {
                                     RK_TRY(tx.IndexAuditPatients(part));
                                     // The mark moves with the last chunk: until then every entry
                                     // of the pass is still found in the log after the mark.
                                     if (last) RK_TRY(tx.AdvanceAuditPatientMark(upto));
                                     return Ok();
                                   }));
    at = end;
    if (!last && pause.count() > 0) std::this_thread::sleep_for(pause);
  } while (at < entries.size());
  return count;
}

Status IndexAllPatientAccesses(store::Store& store) {
  for (;;) {
    RK_ASSIGN_OR_RETURN(size_t moved, IndexPatientAccesses(store));
    if (moved == 0) return Ok();
  }
}

PatientIndexer::PatientIndexer(store::Store& store, PatientIndexOptions options)
    : store_(store), options_(options) {}

PatientIndexer::~PatientIndexer() {
  Stop();
}

void PatientIndexer::Start() {
  thread_.Start(options_.tick, [this] { Tick(); });
}

void PatientIndexer::Stop() {
  thread_.Stop();
}

void PatientIndexer::Tick() {
  struct Lag {
    int64_t mark = 0;
    int64_t head = 0;
  };
  auto lag = store::RunInTransactionWithResult<Lag>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<Lag> {
        Lag l;
        RK_ASSIGN_OR_RETURN(l.mark, tx.AuditPatientMark());
        RK_ASSIGN_OR_RETURN(auto tail, tx.AuditTail());
        l.head = tail ? tail->seq : 0;
        return l;
      });
  if (!lag.ok()) {
    log::Warn("audit.patient_index_failed", {{"error", lag.error().ToString()}});
    return;
  }
  const int64_t waiting = lag->head - lag->mark;
  if (waiting <= 0) {
    waiting_since_.reset();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!waiting_since_) waiting_since_ = now;
  if (static_cast<size_t>(waiting) < options_.min_lag &&
      now - *waiting_since_ < options_.max_delay) {
    return;
  }
  auto moved = IndexPatientAccesses(store_, options_.batch, options_.chunk, options_.pause);
  if (!moved.ok()) {
    log::Warn("audit.patient_index_failed", {{"error", moved.error().ToString()}});
    return;
  }
  // Entries that came in meanwhile start their wait now; a backlog is worked off pass by pass.
  waiting_since_.reset();
  if (static_cast<size_t>(waiting) > *moved) waiting_since_ = now - options_.max_delay;
}

}  // namespace renkei::audit
