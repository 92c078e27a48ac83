#include "fhir/bundle.h"

#include <fmt/format.h>

#include "fhir/operation_outcome.h"
#include "fhir/validation.h"

namespace renkei::fhir {
namespace {

void AppendString(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

void AppendMember(std::string& out, bool& first, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (!first) out += ',';
  first = false;
  AppendString(out, key);
  out += ':';
  AppendString(out, value);
}

}  // namespace

std::string BundleJson(std::string_view type, std::optional<int64_t> total,
                       const std::vector<std::pair<std::string, std::string>>& links,
                       const std::vector<BundleEntryOut>& entries, std::string_view timestamp) {
  size_t reserve = 256;
  for (const auto& e : entries) reserve += e.resource_json.size() + e.full_url.size() + 128;
  std::string out;
  out.reserve(reserve);
  out += R"({"resourceType":"Bundle","type":)";
  AppendString(out, type);
  if (!timestamp.empty()) {
    out += R"(,"timestamp":)";
    AppendString(out, timestamp);
  }
  if (total) out += fmt::format(R"(,"total":{})", *total);
  if (!links.empty()) {
    out += R"(,"link":[)";
    for (size_t i = 0; i < links.size(); ++i) {
      if (i > 0) out += ',';
      out += R"({"relation":)";
      AppendString(out, links[i].first);
      out += R"(,"url":)";
      AppendString(out, links[i].second);
      out += '}';
    }
    out += ']';
  }
  if (!entries.empty()) {
    out += R"(,"entry":[)";
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (i > 0) out += ',';
      out += '{';
      bool first = true;
      AppendMember(out, first, "fullUrl", e.full_url);
      if (!e.resource_json.empty()) {
        if (!first) out += ',';
        first = false;
        out += R"("resource":)";
        out += e.resource_json;
      }
      if (!e.search_mode.empty()) {
        if (!first) out += ',';
        first = false;
        out += R"("search":{"mode":)";
        AppendString(out, e.search_mode);
        out += '}';
      }
      if (!e.request_method.empty()) {
        if (!first) out += ',';
        first = false;
        out += R"("request":{)";
        bool f = true;
        AppendMember(out, f, "method", e.request_method);
        AppendMember(out, f, "url", e.request_url);
        out += '}';
      }
      if (!e.response_status.empty()) {
        if (!first) out += ',';
        first = false;
        out += R"("response":{)";
        bool f = true;
        AppendMember(out, f, "status", e.response_status);
        AppendMember(out, f, "location", e.response_location);
        AppendMember(out, f, "etag", e.response_etag);
        AppendMember(out, f, "lastModified", e.response_last_modified);
        if (!e.response_outcome_json.empty()) {
          if (!f) out += ',';
          out += R"("outcome":)";
          out += e.response_outcome_json;
        }
        out += '}';
      }
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string SearchSetBundle(std::optional<int64_t> total, std::string_view self_url,
                            std::string_view next_url, const std::vector<BundleEntryOut>& entries) {
  std::vector<std::pair<std::string, std::string>> links;
  links.emplace_back("self", std::string(self_url));
  if (!next_url.empty()) links.emplace_back("next", std::string(next_url));
  return BundleJson("searchset", total, links, entries, "");
}

std::string StatusLine(int status) {
  std::string_view reason;
  switch (status) {
    case 200:
      reason = "OK";
      break;
    case 201:
      reason = "Created";
      break;
    case 204:
      reason = "No Content";
      break;
    case 400:
      reason = "Bad Request";
      break;
    case 401:
      reason = "Unauthorized";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 409:
      reason = "Conflict";
      break;
    case 410:
      reason = "Gone";
      break;
    case 412:
      reason = "Precondition Failed";
      break;
    case 413:
      reason = "Payload Too Large";
      break;
    case 422:
      reason = "Unprocessable Entity";
      break;
    case 429:
      reason = "Too Many Requests";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
    default:
      reason = status < 400 ? "OK" : "Error";
      break;
  }
  return fmt::format("{} {}", status, reason);
}

Result<RequestBundle> ParseRequestBundle(const json::object& bundle, const Limits& limits) {
  IssueCollector c;
  RequestBundle out;
  auto rt = json::GetString(bundle, "resourceType");
  if (!rt || *rt != "Bundle") c.Invalid("Bundle.resourceType", "expected Bundle");
  auto type = json::GetString(bundle, "type");
  if (type && *type == "transaction") {
    out.transaction = true;
  } else if (!type || *type != "batch") {
    c.Invalid("Bundle.type", "POST /fhir takes a Bundle of type batch or transaction");
  }
  const json::array* entries = OptionalArray(bundle, "entry", "Bundle", c);
  if (entries != nullptr && entries->size() > limits.max_bundle_entries) {
    return Error(ErrorCode::kTooLarge, fmt::format("the bundle has {} entries; the limit is {}",
                                                   entries->size(), limits.max_bundle_entries));
  }
  if (entries != nullptr) {
    out.entries.reserve(entries->size());
    for (size_t i = 0; i < entries->size(); ++i) {
      std::string path = Index("Bundle.entry", i);
      BundleEntryIn in;
      if (!(*entries)[i].is_object()) {
        c.Invalid(path, "an entry must be an object");
        continue;
      }
      const json::object& e = (*entries)[i].get_object();
      if (auto fu = OptionalString(e, "fullUrl", path, c)) in.full_url = std::string(*fu);
      if (const json::value* r = json::Find(e, "resource")) {
        if (r->is_object()) {
          in.resource = r->get_object();
        } else {
          c.Invalid(Child(path, "resource"), "resource must be an object");
        }
      }
      const json::object* req = json::GetObject(e, "request");
      if (req == nullptr) {
        c.Invalid(Child(path, "request"), "request is required in batch and transaction entries");
      } else {
        std::string rp = Child(path, "request");
        if (auto m = RequireString(*req, "method", rp, c)) in.method = std::string(*m);
        if (auto u = RequireString(*req, "url", rp, c)) in.url = std::string(*u);
        if (auto v = OptionalString(*req, "ifNoneExist", rp, c)) in.if_none_exist = std::string(*v);
        if (auto v = OptionalString(*req, "ifMatch", rp, c)) in.if_match = std::string(*v);
        if ((in.method == "POST" || in.method == "PUT") && !in.resource) {
          c.Invalid(Child(path, "resource"), fmt::format("{} entries need a resource", in.method));
        }
      }
      out.entries.push_back(std::move(in));
    }
  }
  RK_TRY(c.ToStatus("the bundle is not valid"));
  return out;
}

void RewriteReferences(json::value& v, const std::map<std::string, std::string, std::less<>>& map) {
  if (v.is_array()) {
    for (auto& e : v.get_array()) RewriteReferences(e, map);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) {
      if (kv.key() == "reference" && kv.value().is_string()) {
        auto it = map.find(std::string_view(kv.value().get_string()));
        if (it != map.end()) kv.value() = it->second;
      } else {
        RewriteReferences(kv.value(), map);
      }
    }
  }
}

BundleEntryOut OutcomeEntry(std::string_view text) {
  BundleEntryOut e;
  e.resource_json = json::Serialize(OperationOutcomeOf(
      Error(ErrorCode::kForbidden, std::string(text),
            {Issue{Issue::Severity::kInformation, "suppressed", "", std::string(text)}})));
  e.search_mode = "outcome";
  return e;
}

}  // namespace renkei::fhir
