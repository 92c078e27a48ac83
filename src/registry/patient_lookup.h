// Finding the registry Patient that other services' documents name by the insured-person
// identifier (JP-CLINS bundles, prescriptions, documents): they never create patients, the
// registry is the ministry's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace renkei::registry {

// The id of the one current Patient carrying member_id (insurer:symbol:number:branch, compared
// as text::SearchKey, so full-width digits match); nullopt when none carries it or several do,
// or when member_id is empty or longer than 200 bytes.
Result<std::optional<std::string>> PatientByInsuredPersonId(store::Transaction& tx,
                                                            std::string_view member_id);

}  // namespace renkei::registry
