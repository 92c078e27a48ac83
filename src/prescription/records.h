// How prescriptions and dispensings are kept in the store (store/store.h rows) and read back
// as the check's history: one MedicationRequest row per prescribed item, one
// MedicationDispense row per dispensed item, each owned by the patient and indexed by
// patient, date (the first day taken), code, facility and prescription id; and one Bundle row
// per prescription holding the document as submitted and its state (meta.extension).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "prescription/check.h"
#include "store/store.h"

namespace renkei::prescription {

// Identifier systems renkei assigns.
inline constexpr std::string_view kPrescriptionIdSystem =
    "http://renkei.jp/fhir/NamingSystem/prescription-id";
inline constexpr std::string_view kDispensingIdSystem =
    "http://renkei.jp/fhir/NamingSystem/dispensing-id";
// The 10-digit facility that registered an item (JP-FHIR.md institution number).
inline constexpr std::string_view kInstitutionExtension =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
// Store row types.
inline constexpr std::string_view kPrescriptionType = "Bundle";
inline constexpr std::string_view kRequestType = "MedicationRequest";
inline constexpr std::string_view kDispenseType = "MedicationDispense";
// Search parameters of the rows besides patient/date/code/facility.
inline constexpr std::string_view kAccessCodeParam = "access-code";
inline constexpr std::string_view kPrescriptionParam = "prescription";

// True for the YJ code systems (URL and both OIDs) and the general-name code systems.
bool IsYjSystem(std::string_view system);
bool IsGeneralNameSystem(std::string_view system);
// The YJ code system URL renkei writes.
inline constexpr std::string_view kYjSystem = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
inline constexpr std::string_view kGeneralNameSystem =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode";

// The date in Japan (UTC+9) of an instant: prescriptions and dispensings count by calendar
// day in Japan.
Date JapanDate(TimePoint t);
// A FHIR date or dateTime as the date in Japan; nullopt when malformed.
std::optional<Date> ParseJapanDate(std::string_view text);
std::string FormatDay(Date d);  // YYYY-MM-DD

// One medication item read from a MedicationRequest or MedicationDispense of a request.
struct ItemInput {
  std::string path;       // FHIR path of the resource, e.g. "Bundle.entry[11].resource"
  std::string code;       // YJ or general-name code ("" when none was found: an issue is recorded)
  std::string code_path;  // where the code is, for issues
  std::optional<Date> start;
  Usage usage = Usage::kDaysSupply;
  int days_supply = 0;  // 0 when the resource states none
};

// Reads code, days' supply (dispenseRequest.expectedSupplyDuration, the JP usage-duration
// extension or timing.repeat.boundsDuration in days), as-needed and the start
// (dosageInstruction[0].timing.repeat.boundsPeriod.start, else authoredOn) of a
// MedicationRequest; every problem is added to issues with its path.
ItemInput ReadRequestItem(const json::object& mr, std::string path, std::vector<Issue>& issues);
// Same for a MedicationDispense: daysSupply, whenHandedOver (else whenPrepared) as the start.
ItemInput ReadDispenseItem(const json::object& md, std::string path, std::vector<Issue>& issues);

// Resolves every item's code through the master and fixes usage for drugs without a
// computable days' supply (external and dental route classes count 14 days). Issues name the
// code's path; a missing days' supply of an internal or injected drug is an issue too.
void ResolveItems(const DrugMaster& master, std::vector<ItemInput>& items,
                  std::vector<Issue>& issues);

// The row and index terms of a stored prescribed item.
struct StoredRow {
  store::ResourceRow row;
  std::vector<store::IndexTerm> terms;
};
StoredRow RequestRow(json::object mr, const ItemInput& item, std::string_view id,
                     std::string_view prescription_id, std::string_view patient_id,
                     std::string_view facility, TimePoint now);
// dispensed_prescription_id: "" for a paper prescription.
StoredRow DispenseRow(json::object md, const ItemInput& item, std::string_view id,
                      std::string_view dispensing_id, std::string_view dispensed_prescription_id,
                      std::string_view patient_id, std::string_view facility, TimePoint now);

// The patient's prescriptions and dispensings whose first day taken is within the history
// window of check_date (check.h), cancelled items left out. kTooLarge beyond kMaxHistory.
Result<std::vector<HistoryItem>> LoadHistory(store::Transaction& tx, std::string_view patient_id,
                                             Date check_date, const Limits& limits);

// The stored item rows of one prescription (MedicationRequest rows, current versions).
Result<std::vector<store::ResourceRow>> PrescriptionItems(store::Transaction& tx,
                                                          std::string_view patient_id,
                                                          std::string_view prescription_id);

}  // namespace renkei::prescription
