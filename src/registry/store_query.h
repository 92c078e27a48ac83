// The store query of a parsed FHIR search: the one translation from fhir/search_params.h
// criteria to store/store.h criteria, shared by every service that serves a search.
#pragma once

#include <string_view>

#include "fhir/search_params.h"
#include "store/store.h"

namespace renkei::registry {

store::MatchOp ToMatchOp(fhir::SearchOp op);
// type, the criteria (AND), page size (_count; 0 when only the total is asked), cursor,
// total and order of search.
store::SearchQuery ToStoreQuery(std::string_view type, const fhir::SearchRequest& search);
// Page size (0 when only the total is asked), cursor, total and order of search, for services
// that build their criteria themselves.
void SetPagingAndOrder(store::SearchQuery& q, const fhir::SearchRequest& search);

}  // namespace renkei::registry
