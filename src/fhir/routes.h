// Declaring FHIR routes: the REST interactions and operations a service serves, with what the
// CapabilityStatement and the route-table walk need to know of each.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/request.h"

namespace renkei::fhir {

struct RouteTraits {
  bool returns_patient_data = true;  // such routes must ask access/ (the route-table walk)
  size_t max_body_bytes = 0;         // 0 = Limits::max_body_bytes
  AuthRequirement auth = AuthRequirement::kToken;
};

using Handler = std::function<Response(Request&)>;

// <method> /fhir/<type>/<op>: an operation on the type ("$check").
Route TypeOperation(Method method, std::string_view type, std::string_view op, std::string summary,
                    Handler handler, RouteTraits traits = {});
// <method> /fhir/<type>/{id}/<op>: an operation on one resource ("$summary").
Route InstanceOperation(Method method, std::string_view type, std::string_view op,
                        std::string summary, Handler handler, RouteTraits traits = {});
// GET /fhir/<type>/{id}.
Route ReadRoute(std::string_view type, std::string summary, Handler handler,
                RouteTraits traits = {});
// GET /fhir/<type>.
Route SearchRoute(std::string_view type, std::string summary, Handler handler,
                  RouteTraits traits = {});

}  // namespace renkei::fhir
