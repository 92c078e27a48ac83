// The notification deliverer (issue "Access policy", beyond the national system): the audit
// log is the outbox. A background thread reads the entries after a persisted cursor and, for
// each successful emergency (ETREAT) or disaster (DISASTER) access to a patient with an active
// Subscription following that purpose, POSTs one notification to the subscription's endpoint.
//
// Delivery is at least once: the cursor (a store setting) moves past an entry only once every
// notification for it was delivered or given up after the bounded retries, so a crash or a
// stop mid-entry resends that entry's notifications after a restart, and nothing else.
//
// Several server nodes: every node may run a Notifier; a lease in the settings (node id and
// expiry, renewed with every cursor update) lets one deliver at a time, and another takes over
// once the lease has expired. Running it on one node only (the app's option) saves the polls.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "access/notify_http.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::access {

struct NotifierOptions {
  std::chrono::milliseconds poll_interval{500};  // between scans when not woken
  size_t scan_batch = 200;                       // audit entries read per scan
  int max_attempts = 5;                          // per notification, first try included
  std::chrono::milliseconds first_backoff{500};  // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{30000};
  bool allow_http_endpoints = false;  // as SubscriptionOptions; checked again on delivery
  PostOptions post;                   // timeouts, private addresses, trust anchors
  std::string cursor_key = "notify.cursor";
  std::string lease_key = "notify.lease";
  std::string node_id;  // this node's lease holder id; empty: a random one
  std::chrono::seconds lease_ttl{30};
};

struct NotifierStats {
  int64_t delivered = 0;  // notifications answered with 2xx
  int64_t given_up = 0;   // notifications dropped after max_attempts (or unusable endpoints)
  int64_t attempts = 0;   // POSTs tried
};

class Notifier {
 public:
  Notifier(store::Store& store, const Clock& clock, NotifierOptions options = {});
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the thread. When no cursor is stored yet it is set to the current end of the log
  // first (earlier accesses are not notified), before Start returns. Idempotent.
  Status Start();
  // Stops and joins the thread; an entry being retried is left for the next start.
  void Stop();
  // Asks the thread to scan now (e.g. after an emergency read), without waiting for it.
  void Wake();

  // One synchronous pass over everything after the cursor, on the caller's thread (tools and
  // tests); must not run while started. Ok without work when another node holds the lease.
  Status DeliverPending();

  NotifierStats stats() const;
  // The persisted cursor: the last audit seq fully handled (0 when none).
  Result<int64_t> Cursor();

 private:
  struct Subscriber;
  Status Pass();
  Result<bool> Lease(store::Transaction& tx);
  Result<bool> InitCursor();  // false: another node holds the lease
  Result<bool> SaveCursor(int64_t seq);
  // sent: a notification went out (the cursor is then saved at once; otherwise once a batch,
  // so that urgent accesses of patients without subscriptions cost no write each).
  Status HandleEntry(const store::AuditRow& row, bool& stopped, bool& sent);
  bool Deliver(const Subscriber& sub, const std::string& body, int64_t seq);
  bool SleepUnlessStopped(std::chrono::milliseconds d);
  void Run();

  store::Store& store_;
  const Clock& clock_;
  NotifierOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;

  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> given_up_{0};
  std::atomic<int64_t> attempts_{0};
};

}  // namespace renkei::access
