#include "eligibility/coverage_import.h"

#include <fmt/format.h>

#include <map>

#include "core/ids.h"
#include "eligibility/import_parse.h"
#include "fhir/resource.h"
#include "fhir/validation.h"
#include "registry/registry_kinds.h"

namespace renkei::eligibility {
namespace {

constexpr std::string_view kAction = "import";
constexpr std::string_view kCategory = "Patient,Coverage";
constexpr std::string_view kPurpose = "HOPERAT";

std::string LinePath(size_t line) {
  return fmt::format("line[{}]", line);
}

// The one current resource of type whose insured-person identifier has this search key.
Result<std::optional<store::ResourceRow>> FindByMember(store::Transaction& tx,
                                                       std::string_view type,
                                                       std::string_view key) {
  store::SearchQuery q;
  q.type = std::string(type);
  q.count = 2;
  q.include_total = false;
  store::Criterion c;
  c.param = "identifier";
  c.has_system = true;
  c.system = std::string(kMemberIdSystem);
  c.values = {std::string(key)};
  q.criteria.push_back(std::move(c));
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  if (page.rows.empty()) return std::optional<store::ResourceRow>();
  if (page.rows.size() > 1) {
    return Error(ErrorCode::kConflict,
                 fmt::format("several {} resources hold one insured-person identifier", type));
  }
  return std::optional<store::ResourceRow>(std::move(page.rows.front()));
}

class Loader {
 public:
  Loader(store::Transaction& tx, const Principal& who, TimePoint now, const Limits& limits)
      : ctx_{tx, who, {}},
        now_(now),
        limits_(limits),
        patient_kind_(registry::PatientKind()),
        coverage_kind_(registry::CoverageKind()) {}

  // Writes every line (skipping writes once a problem was found, but still checking the rest
  // so that all bad lines are reported). Issues land in issues().
  Status Run(std::vector<ImportLine>& lines) {
    for (ImportLine& l : lines) {
      if (l.type == "Patient") RK_TRY(Upsert(patient_kind_, l));
    }
    for (ImportLine& l : lines) {
      if (l.type != "Coverage") continue;
      if (!l.beneficiary_key.empty()) {
        std::string id;
        if (auto it = patients_by_key_.find(l.beneficiary_key); it != patients_by_key_.end()) {
          id = it->second;
        } else {
          auto found = FindByMember(ctx_.tx, "Patient", l.beneficiary_key);
          if (!found.ok() && found.error().code() != ErrorCode::kConflict) {
            return std::move(found).error();
          }
          if (found.ok() && *found) id = (*found)->id;
        }
        if (id.empty()) {
          issues_.Rule(LinePath(l.line) + ".beneficiary.identifier",
                       "no Patient with this insured-person identifier in the load or the store");
          continue;
        }
        json::object& b = l.resource["beneficiary"].as_object();
        b["reference"] = "Patient/" + id;
      }
      RK_TRY(Upsert(coverage_kind_, l));
    }
    return Ok();
  }

  const fhir::IssueCollector& issues() const { return issues_; }
  const ImportSummary& summary() const { return summary_; }

 private:
  // Validation, write policy, index and write of one line, as the registry's own writes do
  // (registry/resource_writes.cpp): meta stamped, the engine's _id/_lastUpdated terms added.
  Status Upsert(const registry::ResourceKind& kind, ImportLine& l) {
    const std::string prefix = LinePath(l.line);
    auto existing = FindByMember(ctx_.tx, kind.type, l.member_key);
    if (!existing.ok()) {
      if (existing.error().code() != ErrorCode::kConflict) return std::move(existing).error();
      issues_.Rule(prefix + ".identifier", existing.error().message());
      return Ok();
    }
    std::string id = *existing ? (*existing)->id : NewId();
    const int64_t version = *existing ? (*existing)->version + 1 : 1;
    fhir::StampMeta(l.resource, id, version, now_);

    fhir::IssueCollector local;
    kind.validate(l.resource, local);
    if (!local.empty()) {
      issues_.Merge(local, prefix);
      return Ok();
    }
    if (*existing && !(*existing)->deleted) {
      // The loader must be allowed to write what is stored now too, not only what it sends.
      auto old = json::ParseObject((*existing)->json, limits_);
      if (!old.ok()) return Error(ErrorCode::kInternal, "a stored resource is not JSON");
      RK_TRY(kind.write_policy(ctx_, *old));
    }
    RK_TRY(kind.write_policy(ctx_, l.resource));
    std::vector<store::IndexTerm> terms = kind.index(l.resource);
    if (kind.resolve) RK_TRY(kind.resolve(ctx_, l.resource, local, terms));
    std::string patient_id = kind.patient_of(l.resource);
    if (patient_id.empty()) local.Invalid(kind.type, "the resource names no patient");
    if (*existing && (*existing)->patient_id != patient_id) {
      local.Rule(kind.type + ".beneficiary", "a coverage cannot move to another patient");
    }
    if (!local.empty()) {
      issues_.Merge(local, prefix);
      return Ok();
    }
    if (kind.type == "Patient") patients_by_key_[l.member_key] = id;
    if (!issues_.empty()) return Ok();  // nothing will be kept: skip the write

    terms.push_back({"_id", "", id});
    terms.push_back({"_lastUpdated", "", FormatInstant(now_)});
    store::ResourceRow row;
    row.type = kind.type;
    row.id = id;
    row.last_updated = now_;
    row.patient_id = std::move(patient_id);
    row.json = json::Serialize(l.resource);
    RK_TRY(ctx_.tx.WriteResource(row, terms, *existing ? (*existing)->version : 0));
    int64_t& counter = kind.type == "Patient"
                           ? (*existing ? summary_.patients_updated : summary_.patients_created)
                           : (*existing ? summary_.coverages_updated : summary_.coverages_created);
    ++counter;
    return Ok();
  }

  registry::WriteContext ctx_;
  TimePoint now_;
  const Limits& limits_;
  registry::ResourceKind patient_kind_;
  registry::ResourceKind coverage_kind_;
  std::map<std::string, std::string, std::less<>> patients_by_key_;
  fhir::IssueCollector issues_;
  ImportSummary summary_;
};

std::string SummaryDetail(const ImportSummary& s) {
  return fmt::format(
      R"({{"patients_created":{},"patients_updated":{},"coverages_created":{},"coverages_updated":{}}})",
      s.patients_created, s.patients_updated, s.coverages_created, s.coverages_updated);
}

}  // namespace

Result<ImportSummary> ImportCoverages(store::Store& store, audit::AuditLog& audit,
                                      const Clock& clock, const Limits& limits,
                                      const Principal& who, std::string_view body) {
  auto run = [&]() -> Result<ImportSummary> {
    if (who.facility_type != FacilityType::kInsurer) {
      return Error(ErrorCode::kForbidden, "only insurers load coverages");
    }
    RK_ASSIGN_OR_RETURN(std::vector<ImportLine> parsed,
                        ParseImport(body, InsurerNumberOf(who.facility_code), limits));
    return store::RunInTransactionWithResult<ImportSummary>(
        store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Result<ImportSummary> {
          // A retry starts again from the parsed lines.
          std::vector<ImportLine> lines = parsed;
          Loader loader(tx, who, clock.Now(), limits);
          RK_TRY(loader.Run(lines));
          if (!loader.issues().empty()) {
            return loader.issues().ToStatus("invalid coverage load; nothing was stored").error();
          }
          audit::AuditEntry entry = audit::EntryFor(who, "", kAction, kCategory, kPurpose);
          entry.detail = SummaryDetail(loader.summary());
          RK_TRY(audit.AppendInTransaction(tx, {entry}));
          return loader.summary();
        });
  };
  Result<ImportSummary> result = run();
  if (!result.ok()) {
    // The load stored nothing; its attempt is still on record.
    audit::AuditEntry entry =
        audit::EntryFor(who, "", kAction, kCategory, kPurpose, audit::OutcomeOf(result.error()));
    RK_TRY(audit.Record(std::move(entry)));
  }
  return result;
}

}  // namespace renkei::eligibility
