#include "access/access_routes.h"

namespace renkei::access {

RouteTable AccessRoutes(ConsentService& consents, FactsService& facts,
                        AccessHistoryService& history) {
  RouteTable routes = consents.Routes();
  for (RouteTable part : {facts.Routes(), history.Routes()}) {
    for (Route& r : part) routes.push_back(std::move(r));
  }
  return routes;
}

}  // namespace renkei::access
