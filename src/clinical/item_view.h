// Internal to clinical/: what one principal may see of one patient's items, loaded once per
// request, and how a query of one item type is narrowed to it (item_access.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "access/decision.h"
#include "access/facts_store.h"
#include "access/purpose_claim.h"
#include "clinical/item_access.h"
#include "clinical/registration_bundle.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::clinical::internal {

// The access categories a stored type can hold (bits 1 << access::Category).
uint16_t CategoriesOf(std::string_view store_type);
inline uint16_t Bit(access::Category c) {
  return static_cast<uint16_t>(1u << static_cast<int>(c));
}

// One principal's view of one patient. Not copyable: scope points into facts.
class PatientView {
 public:
  static Result<std::unique_ptr<PatientView>> Load(store::Transaction& tx, const Principal& who,
                                                   const access::ClaimedPurpose& claim,
                                                   std::string_view patient_id, TimePoint now,
                                                   access::DeclarationCache* declarations);
  PatientView(const PatientView&) = delete;
  PatientView& operator=(const PatientView&) = delete;

  // Decide for one item (a read).
  access::Decision DecideItem(access::Category category, std::string_view item_id,
                              const ItemVisibility& item) const;
  // The decision for "some item among categories" (a search or the summary): the first
  // permitted category's decision for other facilities' items, else for the principal's own
  // facility's items (others_refused then says why others' are not shown), else the first
  // category's refusal.
  struct AnyDecision {
    access::Decision decision;
    std::string_view others_refused;  // static text; empty when others' items may be shown
  };
  AnyDecision DecideAny(uint16_t categories) const;
  // Adds to q what keeps it inside the scope for store type `type`; false when the principal
  // may see nothing of it (the query must not run).
  Result<bool> Narrow(store::Transaction& tx, std::string_view type, store::SearchQuery& q) const;

  const access::SearchScope& scope() const { return scope_; }
  std::string_view patient_id() const { return patient_id_; }

 private:
  PatientView(const Principal& who, const access::ClaimedPurpose& claim, std::string patient_id)
      : who_(who), claim_(claim), patient_id_(std::move(patient_id)) {}
  const Principal& who_;
  const access::ClaimedPurpose& claim_;
  std::string patient_id_;
  access::AccessFacts facts_;
  access::SearchScope scope_;
};

// The stored item JSON with an extension giving the date of its UNINFORMED flag (what
// facilities see with the flag, access::kMaskUninformedFlag).
std::string WithUninformedDate(std::string stored_json, std::string_view date,
                               const Limits& limits);
// The item as served to a principal: practitioners get the UNINFORMED date extension (the
// patient never receives UNINFORMED items: the query leaves them out).
std::string ServedItemJson(const store::ResourceRow& row, bool practitioner, const Limits& limits);

// "Patient/x" (or a bare id) -> x; nullopt when malformed.
std::optional<std::string> PatientIdIn(std::string_view value);

}  // namespace renkei::clinical::internal
