#include "fhir/capability.h"

#include <gtest/gtest.h>

#include <set>

namespace renkei::fhir {
namespace {

Route R(Method m, std::string pattern, Interaction i, std::string type, std::string op = "") {
  Route r;
  r.method = m;
  r.pattern = std::move(pattern);
  r.interaction = i;
  r.resource_type = std::move(type);
  r.operation = std::move(op);
  r.handler = [](Request&) { return Response{}; };
  return r;
}

std::set<std::string> Interactions(const json::object& cs, std::string_view type) {
  std::set<std::string> out;
  for (const auto& res : cs.at("rest").at(0).at("resource").as_array()) {
    if (res.at("type").as_string() != type) continue;
    if (const auto* i = res.as_object().if_contains("interaction")) {
      for (const auto& x : i->as_array()) out.insert(std::string(x.at("code").as_string()));
    }
  }
  return out;
}

TEST(CapabilityStatementTest, ListsExactlyTheRoutesInteractions) {
  RouteTable routes = {
      R(Method::kGet, "/fhir/Patient/{id}", Interaction::kRead, "Patient"),
      R(Method::kGet, "/fhir/Patient/{id}/_history/{vid}", Interaction::kVRead, "Patient"),
      R(Method::kPost, "/fhir/Patient", Interaction::kCreate, "Patient",
        std::string(kConditionalCreateMarker)),
      R(Method::kGet, "/fhir/Patient", Interaction::kSearchType, "Patient"),
      R(Method::kGet, "/fhir/Organization/{id}", Interaction::kRead, "Organization"),
      R(Method::kPost, "/fhir/Organization", Interaction::kCreate, "Organization"),
      R(Method::kPost, "/fhir/Coverage/$verify-eligibility", Interaction::kOperation, "Coverage",
        "$verify-eligibility"),
      R(Method::kGet, "/healthz", Interaction::kNone, ""),
  };
  json::object cs = CapabilityStatementFrom(routes, "http://h", "0.1.0");
  EXPECT_EQ(cs.at("fhirVersion").as_string(), "4.0.1");
  EXPECT_EQ(cs.at("format").at(0).as_string(), "json");
  EXPECT_EQ(cs.at("software").at("version").as_string(), "0.1.0");
  EXPECT_EQ(Interactions(cs, "Patient"),
            (std::set<std::string>{"read", "vread", "create", "search-type"}));
  EXPECT_EQ(Interactions(cs, "Organization"), (std::set<std::string>{"read", "create"}));
  EXPECT_TRUE(Interactions(cs, "Coverage").empty());
  const auto& resources = cs.at("rest").at(0).at("resource").as_array();
  EXPECT_EQ(resources.size(), 3u);  // Coverage (operation only), Organization, Patient
  for (const auto& res : resources) {
    const auto& o = res.as_object();
    if (o.at("type").as_string() == "Patient") {
      EXPECT_TRUE(o.at("conditionalCreate").as_bool());
    }
    if (o.at("type").as_string() == "Organization") {
      EXPECT_FALSE(o.at("conditionalCreate").as_bool());
    }
    if (o.at("type").as_string() == "Coverage") {
      EXPECT_EQ(o.at("operation").at(0).at("name").as_string(), "verify-eligibility");
    }
  }
  // No POST /fhir: no system interactions.
  EXPECT_EQ(cs.at("rest").at(0).as_object().if_contains("interaction"), nullptr);
}

TEST(CapabilityStatementTest, BatchAndTransactionWhenPostFhirExists) {
  RouteTable routes = {R(Method::kPost, "/fhir", Interaction::kBatchTransaction, "")};
  json::object cs = CapabilityStatementFrom(routes, "http://h", "1");
  std::set<std::string> sys;
  for (const auto& i : cs.at("rest").at(0).at("interaction").as_array()) {
    sys.insert(std::string(i.at("code").as_string()));
  }
  EXPECT_EQ(sys, (std::set<std::string>{"transaction", "batch"}));
  EXPECT_TRUE(cs.at("rest").at(0).at("resource").as_array().empty());
}

}  // namespace
}  // namespace renkei::fhir
