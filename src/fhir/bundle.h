// Bundles: the ones the server answers with (searchset, history, batch-response,
// transaction-response), assembled from stored resource text so that resources leave byte for
// byte as stored, and the batch/transaction bundles clients send.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/limits.h"
#include "core/status.h"

namespace renkei::fhir {

// One entry of a bundle the server answers with. Empty strings are left out.
struct BundleEntryOut {
  std::string full_url;
  std::string resource_json;    // raw JSON text of the resource, inserted as is
  std::string search_mode;      // searchset: "match"
  std::string request_method;   // history: "POST"/"PUT"/"DELETE"
  std::string request_url;      // history: "Patient/123"
  std::string response_status;  // "201 Created", "200 OK", "400 Bad Request"...
  std::string response_location;
  std::string response_etag;
  std::string response_last_modified;  // FHIR instant
  std::string response_outcome_json;   // raw OperationOutcome JSON text
};

// The whole Bundle as JSON text. links are (relation, url) pairs.
std::string BundleJson(std::string_view type, std::optional<int64_t> total,
                       const std::vector<std::pair<std::string, std::string>>& links,
                       const std::vector<BundleEntryOut>& entries, std::string_view timestamp);

// A searchset with total (when known), a self link and a next link (when next_url is set).
std::string SearchSetBundle(std::optional<int64_t> total, std::string_view self_url,
                            std::string_view next_url, const std::vector<BundleEntryOut>& entries);

// A searchset entry (search.mode "outcome") with an informational OperationOutcome: what a
// search tells about what it did not return (items hidden at the patient's request, only the
// facility's own items...), never how many.
BundleEntryOut OutcomeEntry(std::string_view text);

// "200 OK", "201 Created", "404 Not Found"...: the status line Bundle.entry.response wants.
std::string StatusLine(int status);

// One entry of a batch or transaction bundle a client sent.
struct BundleEntryIn {
  std::string full_url;  // may be "urn:uuid:..."
  std::optional<json::object> resource;
  std::string method;         // "GET", "POST", "PUT", "DELETE"
  std::string url;            // "Patient", "Patient/123", "Patient?identifier=..."
  std::string if_none_exist;  // conditional create query
  std::string if_match;       // ETag for PUT
};

struct RequestBundle {
  bool transaction = false;  // else batch
  std::vector<BundleEntryIn> entries;
};

// Reads a batch/transaction Bundle, collecting every structural problem with its path
// (kInvalid), or kTooLarge when it has more entries than limits.max_bundle_entries.
Result<RequestBundle> ParseRequestBundle(const json::object& bundle, const Limits& limits);

// Replaces every "reference" string equal to a key of map by its value (urn:uuid fullUrls
// of a transaction becoming "Type/id", FHIR http.html#trules).
void RewriteReferences(json::value& v, const std::map<std::string, std::string, std::less<>>& map);

}  // namespace renkei::fhir
