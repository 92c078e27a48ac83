// The composition root: opens the store, builds every service and joins their route tables.
#pragma once

#include <memory>
#include <string>

#include "app/commands.h"
#include "core/clock.h"
#include "core/request.h"
#include "core/status.h"

namespace renkei::app {

// Everything a running server holds. Built by Open(); the HTTP server is started separately so
// tests of the wiring need no sockets.
class ServerApp {
 public:
  static Result<std::unique_ptr<ServerApp>> Open(const ServeOptions& options);
  ~ServerApp();

  // Every route of every service, plus /fhir/metadata generated from them.
  const RouteTable& routes() const;
  // Runs the HTTP server until SIGTERM/SIGINT, then shuts down gracefully.
  int Run();

 private:
  struct Parts;
  explicit ServerApp(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace renkei::app
