#include "http/metrics.h"

#include <algorithm>
#include <cstdio>

namespace renkei::http {
namespace {

constexpr std::array<Method, 7> kMethods = {Method::kGet,    Method::kPost,   Method::kPut,
                                            Method::kPatch,  Method::kDelete, Method::kHead,
                                            Method::kOptions};

// Prometheus label values escape backslash, double quote and newline.
std::string EscapeLabel(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendDouble(std::string& out, double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.9g", v);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

Metrics::Metrics(const RouteTable& routes) {
  slots_.reserve(routes.size() + kMethods.size() + 1);
  for (const Route& r : routes) {
    auto slot = std::make_unique<Slot>();
    slot->route = EscapeLabel(r.pattern);
    slot->method = std::string(MethodName(r.method));
    slots_.push_back(std::move(slot));
  }
  unmatched_base_ = slots_.size();
  for (Method m : kMethods) {
    auto slot = std::make_unique<Slot>();
    slot->route = "unmatched";
    slot->method = std::string(MethodName(m));
    slots_.push_back(std::move(slot));
  }
  auto other = std::make_unique<Slot>();
  other->route = "unmatched";
  other->method = "OTHER";
  slots_.push_back(std::move(other));
}

Metrics::~Metrics() = default;

size_t Metrics::UnmatchedSlot(Method method) const {
  return unmatched_base_ + static_cast<size_t>(method);
}

size_t Metrics::UnmatchedOtherSlot() const {
  return unmatched_base_ + kMethods.size();
}

void Metrics::Record(size_t slot_index, int status, std::chrono::nanoseconds duration) {
  Slot& slot = *slots_[std::min(slot_index, slots_.size() - 1)];
  int index = std::clamp(status, kMinStatus, kMinStatus + kStatusCount - 1) - kMinStatus;
  slot.statuses[static_cast<size_t>(index)].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(duration).count();
  size_t bucket = static_cast<size_t>(std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) -
                                      kBuckets.begin());
  slot.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  slot.sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(duration.count(), 0)),
                        std::memory_order_relaxed);
  slot.count.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(4096);
  out +=
      "# HELP renkei_http_requests_total HTTP requests by route pattern, method and status.\n"
      "# TYPE renkei_http_requests_total counter\n";
  for (const auto& slot : slots_) {
    for (int i = 0; i < kStatusCount; ++i) {
      uint64_t n = slot->statuses[static_cast<size_t>(i)].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "renkei_http_requests_total{route=\"" + slot->route + "\",method=\"" + slot->method +
             "\",status=\"" + std::to_string(kMinStatus + i) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP renkei_http_request_duration_seconds Time from request received to response "
      "ready, by route pattern.\n"
      "# TYPE renkei_http_request_duration_seconds histogram\n";
  for (const auto& slot : slots_) {
    uint64_t count = slot->count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    std::string labels = "route=\"" + slot->route + "\",method=\"" + slot->method + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += slot->buckets[b].load(std::memory_order_relaxed);
      out += "renkei_http_request_duration_seconds_bucket{" + labels + ",le=\"";
      if (b == kBuckets.size()) {
        out += "+Inf";
      } else {
        AppendDouble(out, kBuckets[b]);
      }
      out += "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "renkei_http_request_duration_seconds_sum{" + labels + "} ";
    AppendDouble(out, static_cast<double>(slot->sum_ns.load(std::memory_order_relaxed)) / 1e9);
    out += "\nrenkei_http_request_duration_seconds_count{" + labels + "} " + std::to_string(count) +
           "\n";
  }
  out +=
      "# HELP renkei_http_in_flight Requests being handled now.\n"
      "# TYPE renkei_http_in_flight gauge\n"
      "renkei_http_in_flight " +
      std::to_string(in_flight_.load(std::memory_order_relaxed)) +
      "\n"
      "# HELP renkei_http_connections Open client connections.\n"
      "# TYPE renkei_http_connections gauge\n"
      "renkei_http_connections " +
      std::to_string(connections_.load(std::memory_order_relaxed)) +
      "\n"
      "# HELP renkei_http_rate_limited_total Requests refused with 429 by the per-client "
      "limit.\n"
      "# TYPE renkei_http_rate_limited_total counter\n"
      "renkei_http_rate_limited_total " +
      std::to_string(rate_limited_.load(std::memory_order_relaxed)) + "\n";
  return out;
}

}  // namespace renkei::http
