// The patient index of the audit log, written behind the log.
//
// A patient sees every access to their data, newest first (access/access_history.h), so the
// log is searched by patient. Indexing each entry as it is appended put one b-tree page, at
// a random place (the patient), into every group commit for every audited read: SQLite logs
// and checkpoints whole pages, so that one index cost more than the rest of the append
// (docs/PERFORMANCE.md, "The audit log's patient index"). Here the entries are indexed in
// passes instead: a pass reads the entries after the mark, sorts them by patient and writes
// them in short transactions, so many entries of a pass share each index page it touches,
// then moves the mark. Until then FindAudit finds an entry in the log itself (the entries
// after the mark are few and contiguous), so nothing is ever missing from a search.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "core/periodic.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::audit {

struct PatientIndexOptions {
  // Entries one pass reads and sorts at most: the more, the more entries share an index page.
  size_t batch = 50000;
  // Entries per write transaction: bounds how long a pass holds SQLite's one writer, which
  // the group commits of audited reads wait for. On 1,000,000 patients 512 kept the p99 of
  // audited reads at 15-16 ms where 2,048 let it reach 27-35 ms (docs/PERFORMANCE.md).
  size_t chunk = 512;
  // A pause after each chunk, so that a pass working off a backlog leaves the writer to the
  // group commits in between rather than taking it chunk after chunk.
  std::chrono::milliseconds pause{5};
  // A pass starts once this many entries wait ...
  size_t min_lag = 20000;
  // ... or once entries have waited this long, so a quiet server catches up too.
  std::chrono::milliseconds max_delay{10000};
  // How often the thread looks.
  std::chrono::milliseconds tick{500};
};

// One pass: up to batch entries after the mark, sorted by patient, written in chunks; the
// mark moves past them with the last chunk. Returns how many entries the mark moved over
// (0 when the index is caught up). A pass cut short (a crash, an error) leaves the mark
// where it was and its entries are written again by the next pass, which keeps what is there.
Result<size_t> IndexPatientAccesses(store::Store& store, size_t batch = 50000, size_t chunk = 512,
                                    std::chrono::milliseconds pause = {});

// Passes until the index has caught up (the seed command, tests).
Status IndexAllPatientAccesses(store::Store& store);

// Runs passes on a thread of its own, as PatientIndexOptions says.
class PatientIndexer {
 public:
  PatientIndexer(store::Store& store, PatientIndexOptions options = {});
  ~PatientIndexer();  // stops the thread
  PatientIndexer(const PatientIndexer&) = delete;
  PatientIndexer& operator=(const PatientIndexer&) = delete;

  void Start();
  void Stop();

 private:
  // One look: a pass when enough entries wait or they waited long enough.
  void Tick();

  store::Store& store_;
  PatientIndexOptions options_;
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;
  PeriodicThread thread_;  // last: stopped before the members Tick uses go
};

}  // namespace renkei::audit
