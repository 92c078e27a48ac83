// Verify: walks the audit chain and reports the first entry that breaks it.
#include <fmt/format.h>

#include <charconv>

#include "audit/audit_log.h"
#include "audit/chain_head.h"

namespace renkei::audit {
namespace {

constexpr size_t kScanChunk = 2000;

VerifyReport Bad(int64_t entries, int64_t seq, std::string problem) {
  VerifyReport r;
  r.ok = false;
  r.entries = entries;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

Result<VerifyReport> VerifyIn(store::Transaction& tx) {
  // The head and the rows are read in one snapshot, so concurrent appends do not show up as
  // a mismatch.
  RK_ASSIGN_OR_RETURN(std::optional<std::string> head_text, tx.GetSetting(kChainHeadSetting));
  std::optional<ChainHead> head;
  if (head_text) {
    head = ParseChainHead(*head_text);
    if (!head) return Bad(0, 1, "the recorded chain head is malformed");
  }
  int64_t expected = 1;
  int64_t checked = 0;
  std::string prev_hash;
  for (;;) {
    RK_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, tx.ScanAudit(expected, kScanChunk));
    if (rows.empty()) break;
    for (const store::AuditRow& row : rows) {
      if (row.seq > expected) {
        return Bad(
            checked, expected,
            fmt::format("missing: entries {} to {} are not in the log", expected, row.seq - 1));
      }
      if (row.seq < expected) {
        return Bad(checked, row.seq, "reordered: an entry appears twice or out of order");
      }
      if (row.prev_hash != prev_hash) {
        return Bad(checked, row.seq,
                   fmt::format("link broken: prev_hash does not match the hash of entry {} "
                               "(an entry was removed, replaced or reordered)",
                               row.seq - 1));
      }
      if (ChainHash(row) != row.hash) {
        return Bad(checked, row.seq, "modified: the entry does not match its hash");
      }
      prev_hash = row.hash;
      ++checked;
      ++expected;
    }
    if (rows.size() < kScanChunk) break;
  }
  const int64_t last = expected - 1;
  if (!head) {
    if (last > 0) return Bad(checked, last, "the recorded chain head is missing");
    return VerifyReport{};
  }
  if (head->seq > last) {
    return Bad(checked, last + 1,
               fmt::format("truncated: the chain ends at entry {} but entry {} was recorded", last,
                           head->seq));
  }
  if (head->seq < last) {
    return Bad(checked, head->seq + 1,
               fmt::format("appended outside the log: the recorded head is entry {}", head->seq));
  }
  if (head->hash != prev_hash) {
    return Bad(checked, last, "modified: the last entry does not match the recorded head");
  }
  VerifyReport ok;
  ok.entries = checked;
  return ok;
}

}  // namespace

std::string FormatChainHead(int64_t seq, std::string_view hash) {
  return fmt::format("{}:{}", seq, hash);
}

std::optional<ChainHead> ParseChainHead(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  ChainHead head;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + colon, head.seq);
  if (ec != std::errc() || ptr != text.data() + colon || head.seq <= 0) return std::nullopt;
  head.hash = std::string(text.substr(colon + 1));
  if (head.hash.size() != 64) return std::nullopt;
  return head;
}

Result<VerifyReport> Verify(store::Store& store) {
  return store::RunInTransactionWithResult<VerifyReport>(
      store, store::TxMode::kRead, [](store::Transaction& tx) { return VerifyIn(tx); });
}

}  // namespace renkei::audit
