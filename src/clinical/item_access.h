// How stored clinical items meet the access policy (issue "Access policy": consent is enforced
// inside queries). Every clinical item carries, besides its search terms, "visibility" terms
// that encode its access category, its registering facility and its flags; a search turns the
// principal's access::SearchScope into ONE criterion over those terms, so that totals, `_count`
// and paging count only what the principal may see.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/decision.h"
#include "clinical/registration_bundle.h"
#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::clinical {

// The index parameter holding the visibility terms.
inline constexpr std::string_view kParamVisibility = "visibility";

// The access category of a registered item (DOMAIN.md §2 "Six items"): Condition → diagnoses;
// Observation → infections when coded with a JP-CLINS infection code system, else lab results;
// AllergyIntolerance → drug allergies when category is "medication" or the code is a YCM/GCM
// (or D9M placeholder) drug code, else other allergies.
access::Category CategoryOf(ItemType type, const json::object& resource);

// The facility number of a clinical resource's JP_eCS_InstitutionNumber extension ("" when
// absent): the facility that registered it.
std::string_view InstitutionNumberOf(const json::object& resource);

// The "item" of a lab result, for "the latest result per item" (summary) and "the last 3
// results per item" (retention): "system|code" of its JLAC10/11 coding (JP-CLINS core or
// infection systems, the JLAC10 master by URL or OID), else of its first coding; "" when
// it has no coding.
std::string LabItemKey(const json::object& observation);

// What the access decision needs to know of one stored item.
struct ItemVisibility {
  access::Category category = access::Category::kDiagnoses;
  std::string registering_facility;  // 10-digit facility code
  bool uninformed = false;
  std::string uninformed_date;  // the UNINFORMED flag's date (meta.lastUpdated when none)
  bool undelivered = false;
};

// The facts above read back from a stored item (its JP_eCS_InstitutionNumber extension and
// meta.tag flags) and its category.
ItemVisibility VisibilityOf(ItemType type, const json::object& stored);

// The visibility terms of an item (param kParamVisibility). Indexed with every stored item.
std::vector<store::IndexTerm> VisibilityTerms(const ItemVisibility& item);

// The one criterion a search adds so that it returns exactly the items InScope accepts,
// restricted to the categories in `categories_of_type` (bits 1 << access::Category; the
// categories the searched resource type can hold). nullopt when the scope admits nothing of
// them: the search then matches nothing. Hidden items (scope.hidden_item_ids) are not covered
// here: HiddenItemCriterion adds them.
std::optional<store::Criterion> ScopeCriterion(const access::SearchScope& scope,
                                               std::string_view actor_facility,
                                               uint16_t categories_of_type);

// A negated `_id` criterion leaving out the items of `type` the patient hid from other
// facilities (scope.hidden_item_ids, "Type/id"), except those actor_facility registered
// itself. Reads each hidden item of this type in tx to learn its facility (a patient hides a
// handful). nullopt when nothing of this type is hidden from the actor.
Result<std::optional<store::Criterion>> HiddenItemCriterion(store::Transaction& tx,
                                                            const access::SearchScope& scope,
                                                            std::string_view type,
                                                            std::string_view actor_facility);

}  // namespace renkei::clinical
