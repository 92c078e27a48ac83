#include "retention/sweeper.h"

#include <set>
#include <vector>

#include "clinical/document_read.h"
#include "core/log.h"
#include "retention/passes.h"

namespace renkei::retention {
namespace {

// What one committed batch did.
struct BatchOutcome {
  int64_t examined = 0;
  int64_t deleted = 0;
  std::map<std::pair<std::string, std::string>, int64_t> by_type_rule;
  std::vector<std::string> released;  // hashes no current document refers to any more
  std::string next_cursor;
};

// Audit detail {"rule":..,"type":..,"id":..}: the resource id is the audit's business (it
// names what went); logs never carry it.
std::string Detail(std::string_view rule, const store::ResourceRow& row) {
  return json::Serialize(json::object{{"rule", rule}, {"type", row.type}, {"id", row.id}});
}

Result<bool> StillReferenced(store::Transaction& tx, const std::string& hash) {
  store::SearchQuery q;
  q.type = std::string(kDocumentBundleType);
  store::Criterion c;
  c.param = "attachment";
  c.values.push_back(hash);
  q.criteria.push_back(std::move(c));
  q.count = 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  return !page.rows.empty();
}

// One batch of one pass: the next page of candidates after cursor, each judged by the rules
// and, when expired, given a deleted version with its audit entry, all in tx.
Status RunBatch(store::Transaction& tx, audit::AuditLog& audit, const internal::Pass& pass,
                const std::string& cursor, const SweepOptions& options, TimePoint now,
                BatchOutcome& out) {
  out = BatchOutcome{};
  store::SearchQuery q;
  q.type = pass.type;
  q.criteria = pass.criteria;
  q.count = options.batch_size == 0 ? 1 : options.batch_size;
  q.after = cursor;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  out.examined = static_cast<int64_t>(page.rows.size());
  out.next_cursor = std::move(page.next_cursor);

  internal::RankCache ranks;
  ranks.max_ranked = options.max_ranked;
  std::vector<audit::AuditEntry> entries;
  std::set<std::string> hashes;
  for (const store::ResourceRow& row : page.rows) {
    RK_ASSIGN_OR_RETURN(RecordFacts facts, internal::FactsOf(tx, pass, row, ranks));
    const Verdict verdict = Evaluate(facts, now);
    if (!verdict.expired) continue;
    if (row.type == kDocumentBundleType) {
      if (auto doc = json::Parse(row.json, Limits{}); doc.ok()) {
        for (auto& h : internal::AttachmentHashes(*doc)) hashes.insert(std::move(h));
      }
    }
    // A deleted version, as a FHIR delete writes it: reads answer 410 Gone. The expected
    // version makes a concurrent change of the same record fail this batch (and the retry
    // judges it again) instead of deleting what was just written.
    store::ResourceRow tombstone;
    tombstone.type = row.type;
    tombstone.id = row.id;
    tombstone.last_updated = now;
    tombstone.deleted = true;
    tombstone.patient_id = row.patient_id;
    // A document's tombstone keeps what its attachments' readers need for 410 Gone
    // (clinical/document_read.h); any other tombstone keeps nothing.
    auto written = tx.WriteResource(tombstone, clinical::DocumentTombstoneTerms(row), row.version);
    if (!written.ok() && written.error().code() == ErrorCode::kConflict) {
      // Changed since this transaction's search (another server's sweep, a re-sent bundle):
      // judge the batch again on a fresh snapshot.
      return Error(ErrorCode::kRetryable, "a candidate changed during the sweep");
    }
    if (!written.ok()) return std::move(written).error();
    // Retention deletes the content, not only the current view of it: the earlier versions go.
    RK_TRY(tx.EraseHistory(row.type, row.id));
    const std::string_view rule_id = InfoOf(verdict.rule).id;
    audit::AuditEntry entry =
        audit::EntryFor(options.principal, row.patient_id, "delete", row.type, "HOPERAT");
    entry.detail = Detail(rule_id, row);
    entries.push_back(std::move(entry));
    ++out.deleted;
    ++out.by_type_rule[{row.type, std::string(rule_id)}];
  }
  if (!entries.empty()) RK_TRY(audit.AppendInTransaction(tx, entries));
  // The deleted versions carry no terms, so only other documents still count here.
  for (const std::string& hash : hashes) {
    RK_ASSIGN_OR_RETURN(bool referenced, StillReferenced(tx, hash));
    if (!referenced) out.released.push_back(hash);
  }
  return Ok();
}

}  // namespace

int64_t SweepReport::Deleted(std::string_view type, Rule rule) const {
  auto it = by_type_rule.find({std::string(type), std::string(InfoOf(rule).id)});
  return it == by_type_rule.end() ? 0 : it->second;
}

json::object ToJson(const SweepReport& report) {
  json::array by_rule;
  for (const auto& [key, n] : report.by_type_rule) {
    by_rule.push_back(json::object{{"type", key.first}, {"rule", key.second}, {"deleted", n}});
  }
  return json::object{{"deleted", report.deleted},   {"examined", report.examined},
                      {"batches", report.batches},   {"blobsReleased", report.blobs_released},
                      {"complete", report.complete}, {"byRule", std::move(by_rule)}};
}

Principal RetentionPrincipal() {
  Principal p;
  p.kind = PrincipalKind::kSystem;
  p.subject = "retention";
  return p;
}

Result<SweepReport> Sweep(store::Store& store, audit::AuditLog& audit, TimePoint now,
                          const SweepOptions& options) {
  SweepReport report;
  for (const internal::Pass& pass : internal::Passes(now)) {
    std::string cursor;
    while (true) {
      if (report.batches >= static_cast<int64_t>(options.max_batches)) {
        report.complete = false;
        log::Info("retention.sweep", {{"deleted", static_cast<long long>(report.deleted)},
                                      {"batches", static_cast<long long>(report.batches)},
                                      {"complete", false}});
        return report;
      }
      BatchOutcome out;
      Status s = store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) {
        return RunBatch(tx, audit, pass, cursor, options, now, out);
      });
      if (!s.ok()) {
        log::Error(
            "retention.batch_failed",
            {{"type", pass.type}, {"code", std::string(renkei::InfoOf(s.error().code()).name)}});
        return std::move(s).error();
      }
      ++report.batches;
      report.examined += out.examined;
      report.deleted += out.deleted;
      for (const auto& [key, n] : out.by_type_rule) report.by_type_rule[key] += n;
      // Only after the commit: a rolled-back batch must not lose files still referenced.
      for (const std::string& hash : out.released) {
        if (options.release_blob) options.release_blob(hash);
        ++report.blobs_released;
      }
      if (out.next_cursor.empty()) break;
      cursor = std::move(out.next_cursor);
    }
  }
  log::Info("retention.sweep", {{"deleted", static_cast<long long>(report.deleted)},
                                {"batches", static_cast<long long>(report.batches)},
                                {"complete", true}});
  return report;
}

}  // namespace renkei::retention
