#include "prescription/records.h"

#include <fmt/format.h>

#include <cmath>

#include "fhir/resource.h"

namespace renkei::prescription {
namespace {

constexpr std::string_view kUsageDurationExtension =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
    "JP_MedicationRequest_DosageInstruction_UsageDuration";
constexpr std::string_view kInstitutionSystem =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  return json::GetObject(o, key);
}

const json::object* FirstObject(const json::object& o, std::string_view key) {
  const json::array* a = json::GetArray(o, key);
  if (!a || a->empty() || !a->front().is_object()) return nullptr;
  return &a->front().get_object();
}

// A whole number of days from a Duration/Quantity {value, code "d"} (UCUM); nullopt when
// absent, not in days or not a positive whole number.
std::optional<int> DaysOf(const json::object* q) {
  if (!q) return std::nullopt;
  const json::value* v = json::Find(*q, "value");
  if (!v || !v->is_number()) return std::nullopt;
  auto code = json::GetString(*q, "code");
  auto unit = json::GetString(*q, "unit");
  if (code && *code != "d") return std::nullopt;
  if (!code && unit && *unit != "d" && *unit != "日" && *unit != "day" && *unit != "days") {
    return std::nullopt;
  }
  double d = v->is_double() ? v->get_double() : static_cast<double>(v->to_number<int64_t>());
  if (d < 1 || d > 100000 || std::floor(d) != d) return std::nullopt;
  return static_cast<int>(d);
}

// The drug code of a medicationCodeableConcept: the first YJ or general-name coding.
void ReadCode(const json::object& r, ItemInput& item, std::vector<Issue>& issues) {
  const std::string base = item.path + ".medicationCodeableConcept";
  const json::object* concept_ = ObjectAt(r, "medicationCodeableConcept");
  const json::array* codings = concept_ ? json::GetArray(*concept_, "coding") : nullptr;
  if (codings) {
    for (size_t k = 0; k < codings->size(); ++k) {
      if (!(*codings)[k].is_object()) continue;
      const json::object& c = (*codings)[k].get_object();
      std::string_view system = json::GetString(c, "system").value_or("");
      if (!IsYjSystem(system) && !IsGeneralNameSystem(system)) continue;
      item.code_path = fmt::format("{}.coding[{}].code", base, k);
      auto code = json::GetString(c, "code");
      if (!code || code->empty()) {
        issues.push_back({Issue::Severity::kError, "required", item.code_path,
                          fmt::format("{}: the drug code is missing", item.code_path)});
        return;
      }
      item.code = std::string(*code);
      return;
    }
  }
  item.code_path = base;
  issues.push_back({Issue::Severity::kError, "required", base,
                    fmt::format("{}: a YJ code ({}) or a general-name code ({}) is required", base,
                                kYjSystem, kGeneralNameSystem)});
}

bool AsNeeded(const json::object& r) {
  const json::array* dosages = json::GetArray(r, "dosageInstruction");
  if (!dosages) return false;
  for (const auto& d : *dosages) {
    if (d.is_object() && json::GetBool(d.get_object(), "asNeededBoolean").value_or(false)) {
      return true;
    }
  }
  return false;
}

void ReadStart(std::optional<std::string_view> text, std::string path, ItemInput& item,
               std::vector<Issue>& issues) {
  if (!text) return;
  item.start = ParseJapanDate(*text);
  if (!item.start) {
    issues.push_back({Issue::Severity::kError, "value", path,
                      fmt::format("{}: not a FHIR date or dateTime", path)});
  }
}

std::string_view InstitutionOf(const json::object& r) {
  const json::array* exts = json::GetArray(r, "extension");
  if (!exts) return {};
  for (const auto& e : *exts) {
    if (!e.is_object() || json::GetString(e.get_object(), "url") != kInstitutionExtension) continue;
    const json::object* id = json::GetObject(e.get_object(), "valueIdentifier");
    if (id) return json::GetString(*id, "value").value_or("");
  }
  return {};
}

void SetInstitution(json::object& r, std::string_view facility) {
  json::array kept;
  if (const json::array* exts = json::GetArray(r, "extension")) {
    for (const auto& e : *exts) {
      if (e.is_object() && json::GetString(e.get_object(), "url") == kInstitutionExtension) {
        continue;
      }
      kept.push_back(e);
    }
  }
  kept.push_back(json::object{
      {"url", kInstitutionExtension},
      {"valueIdentifier", json::object{{"system", kInstitutionSystem}, {"value", facility}}}});
  r["extension"] = std::move(kept);
}

std::string DateTerm(Date d) {
  return FormatInstant(std::chrono::time_point_cast<TimePoint::duration>(d));
}

std::vector<store::IndexTerm> CommonTerms(const ItemInput& item, std::string_view patient_id,
                                          std::string_view facility,
                                          std::string_view prescription_id, TimePoint now) {
  std::vector<store::IndexTerm> terms;
  terms.push_back({"patient", "", fmt::format("Patient/{}", patient_id)});
  terms.push_back({"date", "", DateTerm(item.start.value_or(JapanDate(now)))});
  const bool general = item.code.size() == 12 && item.code.ends_with("ZZZ");
  terms.push_back(
      {"code", std::string(general ? kGeneralNameSystem : kYjSystem), std::string(item.code)});
  terms.push_back({"facility", "", std::string(facility)});
  if (!prescription_id.empty()) {
    terms.push_back({std::string(kPrescriptionParam), std::string(kPrescriptionIdSystem),
                     std::string(prescription_id)});
  }
  terms.push_back({"_lastUpdated", "", FormatInstant(now)});
  return terms;
}

}  // namespace

bool IsYjSystem(std::string_view system) {
  return system == kYjSystem || system == "urn:oid:1.2.392.100495.20.2.73" ||
         system == "urn:oid:1.2.392.100495.20.1.73";
}

bool IsGeneralNameSystem(std::string_view system) {
  return system == kGeneralNameSystem || system == "urn:oid:1.2.392.100495.20.2.81";
}

Date JapanDate(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t + std::chrono::hours(9));
}

std::optional<Date> ParseJapanDate(std::string_view text) {
  if (text.size() < 10) return std::nullopt;  // partial dates name no day
  auto t = ParseDateTime(text);
  if (!t) return std::nullopt;
  // A bare date is a calendar date as written (ParseDateTime reads it as UTC midnight).
  if (text.size() == 10) return std::chrono::floor<std::chrono::days>(*t);
  return JapanDate(*t);
}

std::string FormatDay(Date d) {
  const std::chrono::year_month_day ymd(d);
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

ItemInput ReadRequestItem(const json::object& mr, std::string path, std::vector<Issue>& issues) {
  ItemInput item;
  item.path = std::move(path);
  ReadCode(mr, item, issues);
  if (AsNeeded(mr)) item.usage = Usage::kAsNeeded;
  // Days' supply: the dispense request states it; JP Core also carries it as the usage
  // duration extension or the timing's boundsDuration of the first dosage.
  std::optional<int> days;
  if (const json::object* dr = ObjectAt(mr, "dispenseRequest")) {
    days = DaysOf(ObjectAt(*dr, "expectedSupplyDuration"));
  }
  const json::object* dosage = FirstObject(mr, "dosageInstruction");
  if (!days && dosage) {
    if (const json::array* exts = json::GetArray(*dosage, "extension")) {
      for (const auto& e : *exts) {
        if (e.is_object() && json::GetString(e.get_object(), "url") == kUsageDurationExtension) {
          days = DaysOf(json::GetObject(e.get_object(), "valueDuration"));
        }
      }
    }
  }
  const json::object* timing = dosage ? ObjectAt(*dosage, "timing") : nullptr;
  const json::object* repeat = timing ? ObjectAt(*timing, "repeat") : nullptr;
  if (!days && repeat) days = DaysOf(ObjectAt(*repeat, "boundsDuration"));
  item.days_supply = days.value_or(0);
  const json::object* bounds = repeat ? ObjectAt(*repeat, "boundsPeriod") : nullptr;
  if (bounds && json::GetString(*bounds, "start")) {
    ReadStart(json::GetString(*bounds, "start"),
              item.path + ".dosageInstruction[0].timing.repeat.boundsPeriod.start", item, issues);
  } else {
    ReadStart(json::GetString(mr, "authoredOn"), item.path + ".authoredOn", item, issues);
  }
  return item;
}

ItemInput ReadDispenseItem(const json::object& md, std::string path, std::vector<Issue>& issues) {
  ItemInput item;
  item.path = std::move(path);
  ReadCode(md, item, issues);
  if (AsNeeded(md)) item.usage = Usage::kAsNeeded;
  item.days_supply = DaysOf(ObjectAt(md, "daysSupply")).value_or(0);
  if (json::GetString(md, "whenHandedOver")) {
    ReadStart(json::GetString(md, "whenHandedOver"), item.path + ".whenHandedOver", item, issues);
  } else {
    ReadStart(json::GetString(md, "whenPrepared"), item.path + ".whenPrepared", item, issues);
  }
  return item;
}

void ResolveItems(const DrugMaster& master, std::vector<ItemInput>& items,
                  std::vector<Issue>& issues) {
  for (ItemInput& item : items) {
    if (item.code.empty()) continue;  // already reported
    auto drug = master.Resolve(item.code);
    if (!drug.ok()) {
      issues.push_back({Issue::Severity::kError,
                        drug.error().code() == ErrorCode::kInvalid ? "value" : "business-rule",
                        item.code_path,
                        fmt::format("{}: {}", item.code_path, drug.error().message())});
      continue;
    }
    if (item.usage != Usage::kDaysSupply || item.days_supply > 0) {
      if (item.days_supply > kMaxDaysSupply) {
        issues.push_back(
            {Issue::Severity::kError, "value", item.path,
             fmt::format("{}: days' supply must be 1..{}", item.path, kMaxDaysSupply)});
      }
      continue;
    }
    const RouteClass route = (*drug)->route;
    if (route == RouteClass::kExternal || route == RouteClass::kDental) {
      item.usage = Usage::kExternal;  // counts 14 days (JP-FHIR.md national check)
    } else {
      issues.push_back({Issue::Severity::kError, "required", item.path,
                        fmt::format("{}: the days' supply is required for an {} drug (or mark "
                                    "it as needed)",
                                    item.path, ToString(route))});
    }
  }
}

StoredRow RequestRow(json::object mr, const ItemInput& item, std::string_view id,
                     std::string_view prescription_id, std::string_view patient_id,
                     std::string_view facility, TimePoint now) {
  mr["resourceType"] = "MedicationRequest";
  mr["subject"] = json::object{{"reference", fmt::format("Patient/{}", patient_id)}};
  mr["groupIdentifier"] =
      json::object{{"system", kPrescriptionIdSystem}, {"value", prescription_id}};
  if (!json::GetString(mr, "status")) mr["status"] = "active";
  if (!json::GetString(mr, "intent")) mr["intent"] = "order";
  if (!json::GetString(mr, "authoredOn")) mr["authoredOn"] = FormatInstant(now);
  SetInstitution(mr, facility);
  // Served as stored: the resource carries its id and version like every other resource.
  fhir::StampMeta(mr, id, 1, now);
  StoredRow out;
  out.row.type = std::string(kRequestType);
  out.row.id = std::string(id);
  out.row.patient_id = std::string(patient_id);
  out.row.last_updated = now;
  out.terms = CommonTerms(item, patient_id, facility, prescription_id, now);
  out.terms.push_back({"_id", "", std::string(id)});
  out.row.json = json::Serialize(mr);
  return out;
}

StoredRow DispenseRow(json::object md, const ItemInput& item, std::string_view id,
                      std::string_view dispensing_id, std::string_view dispensed_prescription_id,
                      std::string_view patient_id, std::string_view facility, TimePoint now) {
  md["resourceType"] = "MedicationDispense";
  md["subject"] = json::object{{"reference", fmt::format("Patient/{}", patient_id)}};
  md["identifier"] =
      json::array{json::object{{"system", kDispensingIdSystem}, {"value", dispensing_id}}};
  if (!dispensed_prescription_id.empty()) {
    md["authorizingPrescription"] = json::array{
        json::object{{"identifier", json::object{{"system", kPrescriptionIdSystem},
                                                 {"value", dispensed_prescription_id}}}}};
  } else {
    md.erase("authorizingPrescription");
  }
  if (!json::GetString(md, "status")) md["status"] = "completed";
  if (!json::GetString(md, "whenHandedOver") && !json::GetString(md, "whenPrepared")) {
    md["whenHandedOver"] = FormatInstant(now);
  }
  SetInstitution(md, facility);
  fhir::StampMeta(md, id, 1, now);
  StoredRow out;
  out.row.type = std::string(kDispenseType);
  out.row.id = std::string(id);
  out.row.patient_id = std::string(patient_id);
  out.row.last_updated = now;
  out.terms = CommonTerms(item, patient_id, facility, dispensed_prescription_id, now);
  out.terms.push_back({"_id", "", std::string(id)});
  out.row.json = json::Serialize(md);
  return out;
}

Result<std::vector<HistoryItem>> LoadHistory(store::Transaction& tx, std::string_view patient_id,
                                             Date check_date, const Limits& limits) {
  std::vector<HistoryItem> out;
  const Date first = check_date - std::chrono::days(kHistoryWindowDays - 1);
  for (std::string_view type : {kRequestType, kDispenseType}) {
    store::SearchQuery q;
    q.type = std::string(type);
    q.patient_id = std::string(patient_id);
    q.criteria.push_back({"date", store::MatchOp::kGe, false, "", {DateTerm(first)}});
    q.count = kMaxHistory + 1;
    q.include_total = false;
    RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
    if (out.size() + page.rows.size() > kMaxHistory) {
      return Error(ErrorCode::kTooLarge,
                   fmt::format("the patient has more than {} medication records in the last {} "
                               "days",
                               kMaxHistory, kHistoryWindowDays));
    }
    for (const store::ResourceRow& row : page.rows) {
      RK_ASSIGN_OR_RETURN(json::object r, json::ParseObject(row.json, limits));
      std::string_view status = json::GetString(r, "status").value_or("");
      if (status == "cancelled" || status == "entered-in-error" || status == "stopped" ||
          status == "declined") {
        continue;
      }
      std::vector<Issue> ignored;
      const bool is_request = type == kRequestType;
      ItemInput in =
          is_request ? ReadRequestItem(r, "", ignored) : ReadDispenseItem(r, "", ignored);
      if (in.code.empty() || !in.start) continue;
      HistoryItem h;
      h.code = std::move(in.code);
      h.facility = std::string(InstitutionOf(r));
      h.kind = is_request ? RecordKind::kPrescription : RecordKind::kDispensing;
      h.start = *in.start;
      h.usage = in.usage;
      h.days_supply = in.days_supply;
      if (is_request) {
        if (const json::object* g = json::GetObject(r, "groupIdentifier")) {
          h.record_id = std::string(json::GetString(*g, "value").value_or(""));
        }
        h.prescription_id = h.record_id;
      } else {
        if (const json::object* id = FirstObject(r, "identifier")) {
          h.record_id = std::string(json::GetString(*id, "value").value_or(""));
        }
        if (const json::object* ap = FirstObject(r, "authorizingPrescription")) {
          if (const json::object* id = json::GetObject(*ap, "identifier")) {
            h.prescription_id = std::string(json::GetString(*id, "value").value_or(""));
          }
        }
      }
      out.push_back(std::move(h));
    }
  }
  return out;
}

Result<std::vector<store::ResourceRow>> PrescriptionItems(store::Transaction& tx,
                                                          std::string_view patient_id,
                                                          std::string_view prescription_id) {
  store::SearchQuery q;
  q.type = std::string(kRequestType);
  q.patient_id = std::string(patient_id);
  q.criteria.push_back({std::string(kPrescriptionParam),
                        store::MatchOp::kEq,
                        true,
                        std::string(kPrescriptionIdSystem),
                        {std::string(prescription_id)}});
  q.count = kMaxCandidates + 1;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  return std::move(page.rows);
}

}  // namespace renkei::prescription
