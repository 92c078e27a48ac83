// What a deleted document leaves for its attachments' readers. The retention sweeper writes a
// document's tombstone (its deleted version) with DocumentTombstoneTerms, so that a later read
// of one of its attachments (GET /fhir/Binary/{sha256}) answers 410 Gone to whoever could
// have read the document, and 404 as before to everyone else (the hash names content: its
// existence is never confirmed to a principal who could not read it).
#pragma once

#include <string_view>
#include <vector>

#include "store/store.h"

namespace renkei::clinical {

// The parameter under which a tombstone keeps the document's consent pattern.
inline constexpr std::string_view kParamTombstoneConsent = "consent";
// The token system marking a tombstone's attachment term as a discharge summary.
inline constexpr std::string_view kDischargeSummarySystem = "discharge-summary";

// The index terms to keep on the tombstone of a stored document (row: its current, not yet
// deleted version): each attachment's hash (system kDischargeSummarySystem for a discharge
// summary) and the facts the access decision on the document needs (type, author, addressee,
// insurer, consent pattern); no clinical content. Empty for a row that is not a document or
// whose JSON cannot be read.
std::vector<store::IndexTerm> DocumentTombstoneTerms(const store::ResourceRow& row);

}  // namespace renkei::clinical
