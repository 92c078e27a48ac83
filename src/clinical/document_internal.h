// Helpers shared by the document service's files (document_service.cpp, document_read.cpp).
// Not a public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "access/decision.h"
#include "clinical/document_store.h"
#include "core/json.h"
#include "core/request.h"
#include "core/status.h"
#include "store/store.h"

namespace renkei::clinical::internal {

// The DocumentReference listing a stored document: type, subject, date, author, addressee,
// delivery state and the document's url; no clinical content. readable: whether the caller
// may retrieve it now (inbox), omitted when nullopt.
json::object DocumentReferenceOf(const store::ResourceRow& row, const DocumentState& state,
                                 bool with_subject, std::optional<bool> readable);

// The stored document by id: kNotFound when unknown, kGone once deleted (retention).
Result<store::ResourceRow> ReadDocument(store::Transaction& tx, std::string_view id);

// The item id of a document in the patient's restrictions ("DocumentBundle/<id>").
std::string DocumentItemId(std::string_view id);

}  // namespace renkei::clinical::internal
