#include "fhir/routes.h"

#include <fmt/format.h>

namespace renkei::fhir {
namespace {

Route Make(Method method, std::string pattern, Interaction interaction, std::string_view type,
           std::string_view op, std::string summary, Handler handler, const RouteTraits& traits) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.interaction = interaction;
  r.resource_type = std::string(type);
  r.operation = std::string(op);
  r.auth = traits.auth;
  r.returns_patient_data = traits.returns_patient_data;
  r.summary = std::move(summary);
  r.max_body_bytes = traits.max_body_bytes;
  r.handler = std::move(handler);
  return r;
}

}  // namespace

Route TypeOperation(Method method, std::string_view type, std::string_view op, std::string summary,
                    Handler handler, RouteTraits traits) {
  return Make(method, fmt::format("/fhir/{}/{}", type, op), Interaction::kOperation, type, op,
              std::move(summary), std::move(handler), traits);
}

Route InstanceOperation(Method method, std::string_view type, std::string_view op,
                        std::string summary, Handler handler, RouteTraits traits) {
  return Make(method, fmt::format("/fhir/{}/{{id}}/{}", type, op), Interaction::kOperation, type,
              op, std::move(summary), std::move(handler), traits);
}

Route ReadRoute(std::string_view type, std::string summary, Handler handler, RouteTraits traits) {
  return Make(Method::kGet, fmt::format("/fhir/{}/{{id}}", type), Interaction::kRead, type, "",
              std::move(summary), std::move(handler), traits);
}

Route SearchRoute(std::string_view type, std::string summary, Handler handler, RouteTraits traits) {
  return Make(Method::kGet, fmt::format("/fhir/{}", type), Interaction::kSearchType, type, "",
              std::move(summary), std::move(handler), traits);
}

}  // namespace renkei::fhir
