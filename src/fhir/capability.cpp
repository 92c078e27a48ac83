#include "fhir/capability.h"

#include <map>
#include <set>
#include <string>

#include "core/clock.h"

namespace renkei::fhir {
namespace {

std::string_view InteractionCode(Interaction i) {
  switch (i) {
    case Interaction::kRead:
      return "read";
    case Interaction::kVRead:
      return "vread";
    case Interaction::kUpdate:
      return "update";
    case Interaction::kDelete:
      return "delete";
    case Interaction::kHistoryInstance:
      return "history-instance";
    case Interaction::kHistoryType:
      return "history-type";
    case Interaction::kCreate:
      return "create";
    case Interaction::kSearchType:
      return "search-type";
    default:
      return "";
  }
}

struct TypeInfo {
  std::set<std::string> interactions;  // ordered for a stable document
  std::set<std::string> operations;
  bool conditional_create = false;
};

json::object Operation(std::string_view op, std::string_view base_url) {
  std::string name(op);
  if (!name.empty() && name.front() == '$') name.erase(0, 1);
  json::object o;
  o["name"] = name;
  o["definition"] = std::string(base_url) + "/fhir/OperationDefinition/" + name;
  return o;
}

}  // namespace

json::object CapabilityStatementFrom(const RouteTable& routes, std::string_view base_url,
                                     std::string_view version) {
  std::map<std::string, TypeInfo> types;
  bool batch_transaction = false;
  std::set<std::string> system_operations;
  for (const auto& r : routes) {
    if (r.interaction == Interaction::kBatchTransaction) {
      batch_transaction = true;
      continue;
    }
    if (r.interaction == Interaction::kOperation) {
      if (r.resource_type.empty()) {
        system_operations.insert(r.operation);
      } else {
        types[r.resource_type].operations.insert(r.operation);
      }
      continue;
    }
    std::string_view code = InteractionCode(r.interaction);
    if (code.empty() || r.resource_type.empty()) continue;
    TypeInfo& t = types[r.resource_type];
    t.interactions.insert(std::string(code));
    if (r.interaction == Interaction::kCreate && r.operation == kConditionalCreateMarker) {
      t.conditional_create = true;
    }
  }

  json::array resources;
  for (const auto& [type, info] : types) {
    json::object res;
    res["type"] = type;
    json::array interactions;
    for (const auto& code : info.interactions) {
      json::object i;
      i["code"] = code;
      interactions.emplace_back(std::move(i));
    }
    if (!interactions.empty()) res["interaction"] = std::move(interactions);
    if (info.interactions.count("vread") || info.interactions.count("history-instance")) {
      res["versioning"] = "versioned";
    }
    if (info.interactions.count("update")) {
      res["readHistory"] = info.interactions.count("vread") > 0;
      res["updateCreate"] = false;
      res["conditionalUpdate"] = false;
    }
    if (info.interactions.count("create")) res["conditionalCreate"] = info.conditional_create;
    if (!info.operations.empty()) {
      json::array ops;
      for (const auto& op : info.operations) ops.emplace_back(Operation(op, base_url));
      res["operation"] = std::move(ops);
    }
    resources.emplace_back(std::move(res));
  }

  json::object rest;
  rest["mode"] = "server";
  rest["resource"] = std::move(resources);
  if (batch_transaction) {
    json::array sys;
    for (std::string_view code : {"transaction", "batch"}) {
      json::object i;
      i["code"] = code;
      sys.emplace_back(std::move(i));
    }
    rest["interaction"] = std::move(sys);
  }
  if (!system_operations.empty()) {
    json::array ops;
    for (const auto& op : system_operations) ops.emplace_back(Operation(op, base_url));
    rest["operation"] = std::move(ops);
  }

  json::object cs;
  cs["resourceType"] = "CapabilityStatement";
  cs["status"] = "active";
  cs["date"] = FormatDate(SystemClock().Now());  // generated now, so dated now
  cs["kind"] = "instance";
  cs["name"] = "RenkeiServer";
  json::object software;
  software["name"] = "renkei";
  software["version"] = version;
  cs["software"] = std::move(software);
  json::object implementation;
  implementation["description"] = "renkei medical information sharing server";
  implementation["url"] = std::string(base_url) + "/fhir";
  cs["implementation"] = std::move(implementation);
  cs["fhirVersion"] = "4.0.1";
  json::array formats;
  formats.emplace_back("json");
  formats.emplace_back("application/fhir+json");
  cs["format"] = std::move(formats);
  json::array rests;
  rests.emplace_back(std::move(rest));
  cs["rest"] = std::move(rests);
  return cs;
}

}  // namespace renkei::fhir
