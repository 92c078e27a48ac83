// Helpers shared by the prescription service's files: FHIR Parameters reading and writing,
// the stored prescription's state, patients by insured-person number. Not a public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "prescription/check.h"
#include "prescription/records.h"
#include "store/store.h"

namespace renkei::prescription::internal {

// The parameters of a Parameters resource by name, in order, with their index.
struct Param {
  size_t index = 0;
  const json::object* p = nullptr;
};
// kInvalid when body is not a Parameters resource; names outside `known` are refused too.
Result<std::vector<Param>> ReadParameters(const json::object& body,
                                          const std::vector<std::string_view>& known);
std::vector<Param> Named(const std::vector<Param>& params, std::string_view name);
// The single value of a named parameter; kInvalid when given more than once or mistyped.
Result<std::optional<std::string>> SingleString(const std::vector<Param>& params,
                                                std::string_view name,
                                                std::string_view value_key = "valueString");
Result<std::optional<bool>> SingleBool(const std::vector<Param>& params, std::string_view name);
std::string ParamPath(size_t index);  // "Parameters.parameter[i]"

// Parameters building.
json::object StringParam(std::string_view name, std::string_view value,
                         std::string_view key = "valueString");
json::object ParametersOf(json::array params);
// The check result as parameters: masterVersion, detailsShown, unresolvedHistory and one
// "item" per candidate with its "alert" parts (details only when shown).
void AppendCheck(json::array& out, const CheckResult& result, const std::vector<ItemInput>& items);

// "Patient/<id>" -> id; nullopt otherwise.
std::optional<std::string> PatientIdOf(std::string_view reference);
// Whether the registry holds this patient (current, not deleted).
Result<bool> PatientExists(store::Transaction& tx, std::string_view patient_id);

// The state of a stored prescription (Bundle.meta.extension of the stored row).
struct RxState {
  std::string status;  // active | received | dispensed | cancelled
  std::string prescriber_facility;
  std::string prescriber;   // practitioner id
  std::string received_by;  // pharmacy facility code while received/dispensed
  std::string dispensing_id;
  std::string access_code;  // 引換番号, also the row's access-code index term
};
RxState StateOf(const json::object& bundle);
void SetState(json::object& bundle, const RxState& state);
// The index terms of the stored prescription row.
std::vector<store::IndexTerm> PrescriptionTerms(std::string_view patient_id, const RxState& state,
                                                TimePoint now);
// A fresh random access code.
std::string NewAccessCode();
// The stored prescription with this access code (any patient), or nullopt.
Result<std::optional<store::ResourceRow>> FindByAccessCode(store::Transaction& tx,
                                                           std::string_view access_code);

// Error for a list of issues: kBusinessRule when any issue is a business-rule one, else
// kInvalid.
Error IssuesError(std::string_view what, std::vector<Issue> issues);

}  // namespace renkei::prescription::internal
