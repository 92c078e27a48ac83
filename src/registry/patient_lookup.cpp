#include "registry/patient_lookup.h"

#include "core/text.h"
#include "registry/identifiers.h"

namespace renkei::registry {

Result<std::optional<std::string>> PatientByInsuredPersonId(store::Transaction& tx,
                                                            std::string_view member_id) {
  if (member_id.empty() || member_id.size() > 200) return std::optional<std::string>();
  store::SearchQuery q;
  q.type = "Patient";
  q.criteria.push_back({"identifier",
                        store::MatchOp::kEq,
                        true,
                        std::string(kMemberIdSystem),
                        {text::SearchKey(member_id)}});
  q.count = 2;
  q.include_total = false;
  RK_ASSIGN_OR_RETURN(store::SearchPage page, tx.Search(q));
  if (page.rows.size() != 1) return std::optional<std::string>();  // none, or ambiguous
  return std::optional<std::string>(page.rows.front().id);
}

}  // namespace renkei::registry
