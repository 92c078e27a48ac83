#include "store/sqlite/sqlite_database.h"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "store/sqlite/sqlite_connection.h"

namespace renkei::store::sqlite {
namespace {

using sql::Param;

// How long a transaction waits for the writer or a free reader before reporting kRetryable
// (RunInTransaction then backs off and tries again).
constexpr auto kAcquireTimeout = std::chrono::seconds(5);
// The most write transactions one group commit carries.
constexpr size_t kMaxBatch = 128;
// Physical commits between two PRAGMA optimize runs.
constexpr uint64_t kOptimizeEvery = 20000;

// Group commit of write transactions on the one writer connection.
//
// SQLite has one writer and, with synchronous=FULL, one fsync per COMMIT: a few hundred
// commits a second. Instead, write transactions that queue up for the writer share one
// physical transaction: each runs inside its own SAVEPOINT (so its rollback undoes only its
// own work), and whoever gives up the writer when nobody waits (or the batch is full) COMMITs
// for all. Each transaction's Commit() returns only after that physical COMMIT, with its
// result, so an acknowledged write is durable and a failed group commit fails every member
// (none of them is committed). DESIGN.md §7: group commit keeps per-request durability from
// being the bottleneck.
class WriterGate {
 public:
  explicit WriterGate(std::unique_ptr<sql::Connection> conn, bool batching)
      : conn_(std::move(conn)), batching_(batching) {}
  ~WriterGate() { (void)conn_->ExecScript("PRAGMA analysis_limit=1000; PRAGMA optimize;"); }
  WriterGate(const WriterGate&) = delete;
  WriterGate& operator=(const WriterGate&) = delete;

  sql::Connection& conn() { return *conn_; }
  bool batching() const { return batching_; }

  // Waits until the writer is free and takes it.
  Status Take() {
    std::unique_lock lock(mu_);
    ++waiting_;
    // A checkpoint waiting for the writer goes first (TakeIdle): otherwise a busy writer would
    // take it back before the checkpointer's thread is even scheduled. A batch left open must
    // still be joined, so that its last member commits it for the checkpoint to follow.
    bool got = cv_.wait_for(lock, kAcquireTimeout,
                            [&] { return !busy_ && (idle_wanted_ == 0 || in_batch_); });
    --waiting_;
    if (!got) return Error(ErrorCode::kRetryable, "database busy: writer not free");
    busy_ = true;
    return Ok();
  }

  // Takes the writer between two group commits (no batch open), asking the holder to commit
  // its batch rather than pass it on: a checkpoint then copies every committed frame, and the
  // next write restarts the WAL from its start.
  Status TakeIdle() {
    std::unique_lock lock(mu_);
    ++waiting_;
    ++idle_wanted_;
    bool got = cv_.wait_for(lock, kAcquireTimeout, [&] { return !busy_ && !in_batch_; });
    --waiting_;
    --idle_wanted_;
    if (!got) {
      lock.unlock();
      cv_.notify_all();  // writers held back for this checkpoint may go on
      return Error(ErrorCode::kRetryable, "database busy: writer not idle");
    }
    busy_ = true;
    return Ok();
  }

  // Gives the writer back after TakeIdle (nothing to commit).
  void Release() {
    {
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    cv_.notify_all();
  }

  // Called by the holder of the writer. Opens the physical transaction if none is open and
  // returns the batch the caller joins.
  Result<uint64_t> Join() {
    if (!in_batch_) {
      RK_TRY(conn_->Begin(TxMode::kWrite));
      in_batch_ = true;
      std::lock_guard lock(mu_);
      ++batch_;
      batch_size_ = 0;
    }
    ++batch_size_;
    return batch_;
  }

  // Called by the holder after its savepoint is released or rolled back: either passes the
  // writer on to a waiting transaction (the batch stays open) or commits the batch. Returns
  // immediately; will_wait: the caller then calls Wait(batch) for the batch's outcome.
  void GiveUp(bool will_wait) {
    std::unique_lock lock(mu_);
    if (will_wait) ++result_waiters_[batch_];
    if (in_batch_ && !InTransaction(*conn_)) {
      // The database ended the transaction itself (I/O error, disk full): every member lost.
      in_batch_ = false;
      Publish(batch_, Error(ErrorCode::kRetryable, "sqlite: transaction aborted by the database"));
    } else if (in_batch_ &&
               (waiting_ == 0 || idle_wanted_ > 0 || batch_size_ >= kMaxBatch || !batching_)) {
      lock.unlock();
      Status s = conn_->Commit();
      if (!s.ok()) (void)conn_->Rollback();
      if (s.ok() && ++commits_ % kOptimizeEvery == 0) {
        // Refreshes the planner's statistics where they matter (sqlite.org/lang_analyze.html:
        // run PRAGMA optimize periodically in long-lived applications). With them the
        // planner probes search terms by resource, not by patient, for patients with many
        // resources of a type.
        (void)conn_->ExecScript("PRAGMA analysis_limit=1000; PRAGMA optimize;");
      }
      lock.lock();
      in_batch_ = false;
      Publish(batch_, s.ok() ? std::optional<Error>() : std::optional<Error>(s.error()));
    }
    busy_ = false;
    lock.unlock();
    cv_.notify_all();
  }

  // Waits until batch is committed (or failed) and returns its outcome.
  Status Wait(uint64_t batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return committed_ >= batch; });
    std::optional<Error> failure;
    auto it = failures_.find(batch);
    if (it != failures_.end()) failure = it->second;
    if (--result_waiters_[batch] == 0) {
      result_waiters_.erase(batch);
      failures_.erase(batch);
    }
    if (failure) return *failure;
    return Ok();
  }

 private:
  void Publish(uint64_t batch, std::optional<Error> failure) {
    committed_ = batch;
    // Kept only for members that will ask (GiveUp(true) counted them).
    if (failure && result_waiters_.count(batch) != 0) failures_.emplace(batch, std::move(*failure));
  }

  std::unique_ptr<sql::Connection> conn_;
  bool batching_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;
  int waiting_ = 0;
  int idle_wanted_ = 0;  // TakeIdle callers waiting
  // Owned by the holder of the writer (busy_), read under mu_ by GiveUp.
  bool in_batch_ = false;
  size_t batch_size_ = 0;
  uint64_t batch_ = 0;      // the current or last batch
  uint64_t committed_ = 0;  // the last finished batch
  uint64_t commits_ = 0;    // physical commits, counted by the holder
  std::map<uint64_t, Error> failures_;
  std::map<uint64_t, int> result_waiters_;
};

// What a transaction on the writer sees as its connection: statements go to the writer;
// Begin/Commit/Rollback are a savepoint inside the group's physical transaction.
class WriteSession final : public sql::Connection {
 public:
  explicit WriteSession(WriterGate& gate) : gate_(gate) {}

  Result<int64_t> Exec(std::string_view text, const Param* params, size_t n) override {
    return gate_.conn().Exec(text, params, n);
  }
  Status Query(std::string_view text, const Param* params, size_t n,
               const sql::RowFn& on_row) override {
    return gate_.conn().Query(text, params, n, on_row);
  }
  Status ExecScript(std::string_view script) override { return gate_.conn().ExecScript(script); }

  Status Begin(TxMode mode) override {
    if (!gate_.batching()) {
      // In-memory database: reads and writes share the one connection, no grouping.
      RK_TRY(gate_.conn().Begin(mode));
      plain_ = true;
      return Ok();
    }
    RK_ASSIGN_OR_RETURN(batch_, gate_.Join());
    auto r = gate_.conn().Exec("SAVEPOINT rk_tx", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    in_savepoint_ = true;
    return Ok();
  }

  Status Commit() override {
    if (plain_) {
      plain_ = false;
      Status s = gate_.conn().Commit();
      if (!s.ok()) (void)gate_.conn().Rollback();
      GiveUpOnce();
      return s;
    }
    if (!in_savepoint_) return Error(ErrorCode::kInternal, "commit without a transaction");
    auto r = gate_.conn().Exec("RELEASE rk_tx", nullptr, 0);
    if (!r.ok()) {
      (void)Rollback();
      return std::move(r).error();
    }
    in_savepoint_ = false;
    GiveUpOnce(/*will_wait=*/true);
    return gate_.Wait(batch_);
  }

  Status Rollback() override {
    if (plain_) {
      plain_ = false;
      return gate_.conn().Rollback();
    }
    if (!in_savepoint_) return Ok();
    in_savepoint_ = false;
    if (!InTransaction(gate_.conn())) return Ok();  // the database already rolled back
    auto r = gate_.conn().Exec("ROLLBACK TO rk_tx", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    r = gate_.conn().Exec("RELEASE rk_tx", nullptr, 0);
    if (!r.ok()) return std::move(r).error();
    return Ok();
  }

  Status LockForMigration() override { return Ok(); }  // the writer is exclusive already
  bool Healthy() const override { return true; }

  // Called when the lease ends: gives the writer up unless Commit did.
  void End() {
    if (in_savepoint_ || plain_) (void)Rollback();
    GiveUpOnce();
  }

 private:
  void GiveUpOnce(bool will_wait = false) {
    if (given_up_) return;
    given_up_ = true;
    gate_.GiveUp(will_wait);
  }

  WriterGate& gate_;
  uint64_t batch_ = 0;
  bool in_savepoint_ = false;
  bool plain_ = false;
  bool given_up_ = false;
};

// The WAL size at which a checkpoint is asked for: SQLite's own autocheckpoint default.
constexpr int kCheckpointPages = 1000;
// The WAL size at which the writer checkpoints itself after a commit: a last resort, should the
// checkpointer not get the writer for a while.
constexpr int kWriterCheckpointPages = 8 * kCheckpointPages;

// Copies the WAL into the database on its own thread and connection. SQLite would otherwise
// run that copy (and its fsyncs) inside whichever COMMIT crosses the threshold, holding the
// one writer and every read waiting for its audit entry in that group commit.
//
// Each round has two passes. The first copies the frames committed so far beside the writer
// (a PASSIVE checkpoint never blocks the writer or the readers, sqlite.org/wal.html#ckpt).
// Under a steady write load that pass never quite catches up, and SQLite restarts the WAL from
// its start only when a write begins with every frame copied; so the second pass takes the
// writer between two group commits and copies the few frames the first one missed. The next
// write then restarts the WAL, which stays bounded (a test writes 36 MB through it).
class Checkpointer {
 public:
  Checkpointer(std::unique_ptr<sql::Connection> conn, WriterGate& gate)
      : conn_(std::move(conn)), gate_(gate) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Called by the writer after each commit with the WAL's size in pages; true when the writer
  // should checkpoint itself now.
  bool OnCommit(int wal_pages) {
    if (wal_pages < kCheckpointPages) return false;
    {
      std::lock_guard lock(mu_);
      requested_ = true;
    }
    cv_.notify_one();
    return wal_pages >= kWriterCheckpointPages;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      Status s = CheckpointPassive(*conn_);
      if (s.ok()) {
        s = gate_.TakeIdle();
        if (s.ok()) {
          s = CheckpointPassive(*conn_);
          gate_.Release();
        }
      }
      if (!s.ok()) log::Warn("sqlite.checkpoint_failed", {{"error", s.error().ToString()}});
      lock.lock();
    }
  }

  std::unique_ptr<sql::Connection> conn_;
  WriterGate& gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

class SqliteDatabase final : public sql::Database {
 public:
  // checkpoints: the background checkpointer's connection (null: the writer checkpoints, as
  // for an in-memory database).
  SqliteDatabase(std::string path, bool memory, int readers, const Options& options,
                 std::unique_ptr<sql::Connection> writer,
                 std::unique_ptr<sql::Connection> checkpoints)
      : path_(std::move(path)),
        memory_(memory),
        options_(options),
        max_readers_(readers < 1 ? 1 : readers),
        gate_(std::move(writer), !memory) {
    caps_.engine = "sqlite";
    caps_.concurrent_writers = false;
    if (checkpoints) {
      checkpointer_ = std::make_unique<Checkpointer>(std::move(checkpoints), gate_);
      on_commit_ = [this](int wal_pages) {
        // Without the thread (while closing) the writer checkpoints as SQLite would.
        return checkpointer_ ? checkpointer_->OnCommit(wal_pages) : wal_pages >= kCheckpointPages;
      };
      if (Status s = DeferCheckpoints(gate_.conn(), &on_commit_); !s.ok()) {
        // The writer keeps checkpointing itself: slower commits, nothing lost.
        log::Warn("sqlite.checkpointer_off", {{"error", s.error().ToString()}});
      }
    }
  }
  ~SqliteDatabase() override {
    // Before the writer closes (its last commits may still call on_commit_).
    checkpointer_.reset();
  }

  Result<sql::Lease> Acquire(TxMode mode) override {
    if (mode == TxMode::kWrite || memory_) {
      RK_TRY(gate_.Take());
      // The lease carries the session; Release takes ownership back and ends it.
      auto session = std::make_unique<WriteSession>(gate_);
      return sql::Lease(this, session.release(), mode);
    }
    std::unique_lock lock(pool_mu_);
    while (free_readers_.empty() && static_cast<int>(readers_.size()) >= max_readers_) {
      if (pool_cv_.wait_for(lock, kAcquireTimeout) == std::cv_status::timeout &&
          free_readers_.empty()) {
        return Error(ErrorCode::kRetryable, "database busy: no reader free");
      }
    }
    if (!free_readers_.empty()) {
      sql::Connection* conn = free_readers_.back();
      free_readers_.pop_back();
      return sql::Lease(this, conn, mode);
    }
    RK_ASSIGN_OR_RETURN(auto conn, OpenConnection(path_, false, false, options_));
    readers_.push_back(std::move(conn));
    return sql::Lease(this, readers_.back().get(), mode);
  }

  const Capabilities& capabilities() const override { return caps_; }
  std::string_view migration_engine() const override { return "sqlite"; }
  bool row_locks() const override { return false; }
  std::string_view table_exists_sql() const override {
    return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
  }

 protected:
  void Release(sql::Connection* conn, TxMode mode) override {
    if (mode == TxMode::kWrite || memory_) {
      std::unique_ptr<WriteSession> session(static_cast<WriteSession*>(conn));
      session->End();
      return;
    }
    {
      std::lock_guard lock(pool_mu_);
      free_readers_.push_back(conn);
    }
    pool_cv_.notify_one();
  }

 private:
  std::string path_;
  bool memory_;
  Options options_;
  int max_readers_;
  Capabilities caps_;
  // Declared before the writer: the writer's commit hook calls on_commit_ until it closes.
  std::unique_ptr<Checkpointer> checkpointer_;
  std::function<bool(int)> on_commit_;
  WriterGate gate_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<sql::Connection>> readers_;
  std::vector<sql::Connection*> free_readers_;
};

}  // namespace

Result<std::pair<std::string, Options>> ParseLocation(std::string_view location) {
  Options options;
  std::string_view path = location;
  size_t q = location.find('?');
  if (q != std::string_view::npos) {
    path = location.substr(0, q);
    std::string_view rest = location.substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view opt = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (opt == "synchronous=full") {
        options.sync_every_commit = true;
      } else if (opt == "synchronous=normal") {
        options.sync_every_commit = false;
      } else if (opt.starts_with("writer_cache_mb=")) {
        const std::string_view value = opt.substr(16);
        int mb = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mb);
        if (ec != std::errc() || end != value.data() + value.size() || mb < 16 || mb > 4096) {
          return Error(ErrorCode::kInvalid, "writer_cache_mb takes 16..4096 (MiB)");
        }
        options.writer_cache_mb = mb;
      } else {
        return Error(ErrorCode::kInvalid, "unknown sqlite option: " + std::string(opt));
      }
    }
  }
  if (path.empty()) return Error(ErrorCode::kInvalid, "database url names no file");
  return std::make_pair(std::string(path), options);
}

Result<std::unique_ptr<sql::Database>> OpenDatabase(std::string_view path, int readers,
                                                    const Options& options) {
  bool memory = path == ":memory:";
  std::string p(path);
  RK_ASSIGN_OR_RETURN(auto writer, OpenConnection(p, true, memory, options));
  std::unique_ptr<sql::Connection> checkpoints;
  if (!memory) {
    RK_ASSIGN_OR_RETURN(checkpoints, OpenConnection(p, false, false, options));
  }
  return std::unique_ptr<sql::Database>(std::make_unique<SqliteDatabase>(
      std::move(p), memory, readers, options, std::move(writer), std::move(checkpoints)));
}

}  // namespace renkei::store::sqlite
