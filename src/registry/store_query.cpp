#include "registry/store_query.h"

namespace renkei::registry {

store::MatchOp ToMatchOp(fhir::SearchOp op) {
  switch (op) {
    case fhir::SearchOp::kEq:
      return store::MatchOp::kEq;
    case fhir::SearchOp::kPrefix:
      return store::MatchOp::kPrefix;
    case fhir::SearchOp::kLt:
      return store::MatchOp::kLt;
    case fhir::SearchOp::kLe:
      return store::MatchOp::kLe;
    case fhir::SearchOp::kGt:
      return store::MatchOp::kGt;
    case fhir::SearchOp::kGe:
      return store::MatchOp::kGe;
  }
  return store::MatchOp::kEq;
}

store::SearchQuery ToStoreQuery(std::string_view type, const fhir::SearchRequest& search) {
  store::SearchQuery q;
  q.type = std::string(type);
  for (const auto& c : search.criteria) {
    q.criteria.push_back(
        store::Criterion{c.param, ToMatchOp(c.op), c.has_system, c.system, c.values});
  }
  SetPagingAndOrder(q, search);
  return q;
}

void SetPagingAndOrder(store::SearchQuery& q, const fhir::SearchRequest& search) {
  q.count = search.total_only ? 0 : search.count;
  q.after = search.cursor;
  q.include_total = search.include_total || search.total_only;
  q.newest_first = search.newest_first;
  q.sort_param = search.sort_param;
  q.sort_descending = search.sort_descending;
}

}  // namespace renkei::registry
