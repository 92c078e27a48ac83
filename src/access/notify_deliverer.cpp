#include "access/notify_deliverer.h"

#include <charconv>
#include <vector>

#include "access/notify_event.h"
#include "access/notify_subscription.h"
#include "core/ids.h"
#include "core/log.h"

namespace renkei::access {
namespace {

// A patient has a handful of active subscriptions (SubscriptionOptions::max_per_patient);
// this bounds the read should the option have been lowered after they were made.
constexpr size_t kMaxSubscribersPerEntry = 100;

bool ParseInt(std::string_view text, int64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

struct Notifier::Subscriber {
  std::string endpoint;
  bool with_payload = false;
};

Notifier::Notifier(store::Store& store, const Clock& clock, NotifierOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {
  if (options_.node_id.empty()) options_.node_id = NewId();
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  if (options_.scan_batch == 0) options_.scan_batch = 1;
}

Notifier::~Notifier() {
  Stop();
}

Status Notifier::Start() {
  {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return Ok();
  }
  auto init = InitCursor();
  if (!init.ok()) return init.error();
  std::lock_guard lock(mu_);
  stopping_ = false;
  woken_ = false;
  thread_ = std::thread([this] { Run(); });
  return Ok();
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

NotifierStats Notifier::stats() const {
  return NotifierStats{delivered_.load(), given_up_.load(), attempts_.load()};
}

Result<int64_t> Notifier::Cursor() {
  return store::RunInTransactionWithResult<int64_t>(
      store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<int64_t> {
        RK_ASSIGN_OR_RETURN(auto text, tx.GetSetting(options_.cursor_key));
        int64_t seq = 0;
        if (text && !ParseInt(*text, seq)) {
          return Error(ErrorCode::kInternal, "the notification cursor is not a number");
        }
        return seq;
      });
}

Result<bool> Notifier::Lease(store::Transaction& tx) {
  const TimePoint now = clock_.Now();
  RK_ASSIGN_OR_RETURN(auto held, tx.GetSetting(options_.lease_key));
  if (held) {
    // "node-id|expiry in microseconds since the epoch".
    std::string_view text = *held;
    size_t bar = text.rfind('|');
    int64_t expiry_us = 0;
    if (bar != std::string_view::npos && ParseInt(text.substr(bar + 1), expiry_us) &&
        text.substr(0, bar) != options_.node_id && expiry_us > now.time_since_epoch().count()) {
      return false;
    }
  }
  const TimePoint until = now + options_.lease_ttl;
  RK_TRY(tx.PutSetting(options_.lease_key,
                       options_.node_id + "|" + std::to_string(until.time_since_epoch().count())));
  return true;
}

Result<bool> Notifier::InitCursor() {
  return store::RunInTransactionWithResult<bool>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<bool> {
        RK_ASSIGN_OR_RETURN(bool mine, Lease(tx));
        if (!mine) return false;
        RK_ASSIGN_OR_RETURN(auto cursor, tx.GetSetting(options_.cursor_key));
        if (cursor) return true;
        RK_ASSIGN_OR_RETURN(auto tail, tx.AuditTail());
        RK_TRY(tx.PutSetting(options_.cursor_key, std::to_string(tail ? tail->seq : 0)));
        return true;
      });
}

Result<bool> Notifier::SaveCursor(int64_t seq) {
  return store::RunInTransactionWithResult<bool>(
      store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<bool> {
        RK_ASSIGN_OR_RETURN(bool mine, Lease(tx));
        if (!mine) return false;  // another node took over: it resends from the cursor
        RK_TRY(tx.PutSetting(options_.cursor_key, std::to_string(seq)));
        return true;
      });
}

bool Notifier::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

bool Notifier::Deliver(const Subscriber& sub, const std::string& body, int64_t seq) {
  auto give_up = [&](int attempts, std::string_view why) {
    given_up_.fetch_add(1);
    // The audit seq identifies the event for the operator; no patient or endpoint is logged.
    log::Warn("notify.given_up",
              {{"seq", static_cast<long long>(seq)}, {"attempts", attempts}, {"reason", why}});
    return true;
  };
  auto endpoint = ParseEndpoint(sub.endpoint, options_.allow_http_endpoints);
  if (!endpoint.ok()) return give_up(0, "endpoint not allowed");
  std::chrono::milliseconds backoff = options_.first_backoff;
  std::string why;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    attempts_.fetch_add(1);
    auto status =
        PostNotification(*endpoint, kFhirJson, sub.with_payload ? body : "", options_.post);
    if (status.ok() && *status >= 200 && *status < 300) {
      delivered_.fetch_add(1);
      return true;
    }
    if (!status.ok() && status.error().code() == ErrorCode::kForbidden) {
      return give_up(attempt, "private address");
    }
    why = status.ok() ? "status " + std::to_string(*status) : "unreachable";
    if (attempt == options_.max_attempts) break;
    if (!SleepUnlessStopped(backoff)) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return give_up(options_.max_attempts, why);
}

Status Notifier::HandleEntry(const store::AuditRow& row, bool& stopped, bool& sent) {
  stopped = false;
  const uint8_t bit = NotifyPurposeOf(row.purpose);
  std::vector<Subscriber> subscribers;
  std::string facility_name;
  RK_TRY(
      store::RunInTransaction(store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Status {
        subscribers.clear();
        RK_ASSIGN_OR_RETURN(auto rows,
                            ActiveSubscriptionRows(tx, row.patient_id, kMaxSubscribersPerEntry));
        for (const store::ResourceRow& r : rows) {
          auto read = ReadSubscription(r);
          if (!read.ok()) {
            // A damaged resource must not hold up every later notification.
            log::Warn("notify.bad_subscription", {{"seq", static_cast<long long>(row.seq)}});
            continue;
          }
          StoredSubscription& s = *read;
          if (!s.active || (s.purposes & bit) == 0) continue;
          // Accesses before the subscription existed or after its end are not notified.
          if (row.recorded < s.since || (s.end && row.recorded >= *s.end)) continue;
          subscribers.push_back({std::move(s.endpoint), s.with_payload});
        }
        if (subscribers.empty()) return Ok();
        FacilityNames names(tx);
        RK_ASSIGN_OR_RETURN(facility_name, names.Of(row.facility_code));
        return Ok();
      }));
  if (subscribers.empty()) return Ok();
  sent = true;
  const std::string body = NotificationBundle(row, facility_name, clock_.Now());
  for (const Subscriber& s : subscribers) {
    if (!Deliver(s, body, row.seq)) {
      stopped = true;
      return Ok();
    }
  }
  return Ok();
}

Status Notifier::Pass() {
  // Only the lease holder delivers (several nodes, one deliverer at a time).
  RK_ASSIGN_OR_RETURN(bool leader, InitCursor());
  if (!leader) return Ok();
  RK_ASSIGN_OR_RETURN(int64_t cursor, Cursor());
  for (;;) {
    auto rows = store::RunInTransactionWithResult<std::vector<store::AuditRow>>(
        store_, store::TxMode::kRead,
        [&](store::Transaction& tx) { return tx.ScanAudit(cursor + 1, options_.scan_batch); });
    if (!rows.ok()) return rows.error();
    // Urgent accesses are many and subscriptions few: when nobody subscribes at all, the batch
    // is passed over with one query instead of a subscription lookup per entry.
    bool anyone = false;
    if (!rows->empty()) {
      auto any = store::RunInTransactionWithResult<bool>(
          store_, store::TxMode::kRead, [&](store::Transaction& tx) -> Result<bool> {
            store::SearchQuery q;
            q.type = std::string(kSubscriptionType);
            q.criteria.push_back({"status", store::MatchOp::kEq, false, "", {"active"}});
            q.count = 1;
            q.include_total = false;
            RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
            return !page.rows.empty();
          });
      if (!any.ok()) return any.error();
      anyone = *any;
    }
    int64_t handled = cursor;
    for (const store::AuditRow& row : *rows) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) break;
      }
      // Only successful accesses on the two urgent bases, to a patient (the outbox rule).
      if (!anyone || NotifyPurposeOf(row.purpose) == 0 || row.outcome != "success" ||
          row.patient_id.empty()) {
        handled = row.seq;
        continue;
      }
      bool stopped = false, sent = false;
      RK_TRY(HandleEntry(row, stopped, sent));
      if (stopped) {
        // Not delivered yet: keep what was handled before it, so the next pass resends it.
        if (handled != cursor) {
          RK_ASSIGN_OR_RETURN(bool mine, SaveCursor(handled));
          (void)mine;
        }
        return Ok();
      }
      handled = row.seq;
      if (!sent) continue;  // nobody to tell: the cursor moves with the batch
      RK_ASSIGN_OR_RETURN(bool mine, SaveCursor(handled));
      if (!mine) return Ok();
      cursor = handled;
    }
    if (handled != cursor) {
      RK_ASSIGN_OR_RETURN(bool mine, SaveCursor(handled));
      if (!mine) return Ok();
      cursor = handled;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Ok();
    }
    if (rows->size() < options_.scan_batch) return Ok();
  }
}

Status Notifier::DeliverPending() {
  return Pass();
}

void Notifier::Run() {
  for (;;) {
    Status s = Pass();
    if (!s.ok()) {
      log::Warn("notify.pass_failed", {{"error", InfoOf(s.error().code()).name}});
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace renkei::access
