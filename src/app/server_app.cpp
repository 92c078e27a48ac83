#include "app/server_app.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <thread>

#include "access/access_history.h"
#include "access/access_routes.h"
#include "access/consent_service.h"
#include "access/facts_service.h"
#include "access/notify_deliverer.h"
#include "access/notify_service.h"
#include "access/patient_match.h"
#include "access/privacy_review.h"
#include "app/housekeeping.h"
#include "audit/audit_log.h"
#include "audit/patient_index.h"
#include "audit/audit_routes.h"
#include "auth/card.h"
#include "auth/patient_login.h"
#include "auth/tokens.h"
#include "clinical/blob_store.h"
#include "clinical/document_service.h"
#include "clinical/item_service.h"
#include "core/json.h"
#include "core/log.h"
#include "eligibility/eligibility_service.h"
#include "fhir/capability.h"
#include "fhir/operation_outcome.h"
#include "http/server.h"
#include "prescription/prescription_service.h"
#include "registry/principal_resolver.h"
#include "registry/registry_kinds.h"
#include "registry/resource_service.h"
#include "retention/sweeper.h"
#include "store/store.h"

namespace renkei::app {

// Declaration order is construction order: each part refers only to parts above it.
struct ServerApp::Parts {
  ServeOptions options;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  access::DeclarationCache declarations;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<auth::CardVerifier> cards;
  std::unique_ptr<auth::PatientLoginService> patient_login;
  std::unique_ptr<registry::ResourceService> resources;
  std::unique_ptr<eligibility::EligibilityService> eligibility;
  prescription::MasterHolder drug_master;
  std::unique_ptr<prescription::PrescriptionService> prescriptions;
  std::unique_ptr<access::ConsentService> consents;
  std::unique_ptr<access::FactsService> facts;
  std::unique_ptr<access::AccessHistoryService> history;
  std::unique_ptr<access::SubscriptionService> subscriptions;
  std::unique_ptr<access::PrivacyReviewService> review;
  std::unique_ptr<access::PatientMatchService> match;
  std::unique_ptr<clinical::ItemService> items;
  std::unique_ptr<clinical::BlobStore> blobs;
  std::unique_ptr<clinical::DocumentService> documents;
  RouteTable routes;
};

ServerApp::ServerApp(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
ServerApp::~ServerApp() = default;

const RouteTable& ServerApp::routes() const {
  return parts_->routes;
}

namespace {

void Append(RouteTable& into, RouteTable from) {
  for (auto& r : from) into.push_back(std::move(r));
}

// GET /fhir/metadata: generated from the final route table, so it lists exactly the
// interactions that exist (STYLE.md habit 9).
Route MetadataRoute(const RouteTable* routes, std::string public_url) {
  Route r;
  r.method = Method::kGet;
  r.pattern = "/fhir/metadata";
  r.interaction = Interaction::kCapabilities;
  r.auth = AuthRequirement::kPublic;
  r.summary = "The CapabilityStatement of this server";
  r.handler = [routes, public_url](Request& req) {
    const std::string& base = public_url.empty() ? req.base_url : public_url;
    return Response::Json(200,
                          json::Serialize(fhir::CapabilityStatementFrom(*routes, base, "0.1.0")));
  };
  return r;
}

// The handler threads when --workers is 0. SQLite work is CPU and page-cache work on this
// machine: each worker beyond a couple per core only adds context switches, and each pooled
// reader connection keeps its own page cache, so more readers means more cold caches and
// more reads from the file. 2 per core served audited Patient reads with 35-45% less CPU per
// read than 16 workers did (docs/PERFORMANCE.md, "Worker threads"). A PostgreSQL handler
// waits on the network for most of its time, so it keeps more requests in flight.
int WorkerThreadsFor(const store::Capabilities& caps, int requested) {
  if (requested > 0) return requested;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return caps.engine == "sqlite" ? 2 * cores : 8 * cores;
}

}  // namespace

Result<std::unique_ptr<ServerApp>> ServerApp::Open(const ServeOptions& options) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  RK_ASSIGN_OR_RETURN(p->store, store::Open(options.db_url, options.db_pool));
  RK_ASSIGN_OR_RETURN(int version, p->store->Migrate());
  log::Info("store.ready",
            {{"engine", p->store->capabilities().engine}, {"schema_version", version}});

  p->audit = std::make_unique<audit::AuditLog>(*p->store, p->clock);
  store::Store* store = p->store.get();
  auth::TokenOptions token_options;
  token_options.public_base_url = options.public_url;
  RK_ASSIGN_OR_RETURN(p->tokens,
                      auth::TokenService::Create(
                          *p->store, *p->audit, p->clock,
                          [store](std::string_view practitioner, std::string_view facility) {
                            return registry::ResolvePrincipal(*store, practitioner, facility);
                          },
                          token_options));
  p->cards = std::make_unique<auth::CardVerifier>(*p->store, p->clock);
  RK_ASSIGN_OR_RETURN(p->patient_login, auth::PatientLoginService::Create(*p->store, *p->audit,
                                                                          p->clock, *p->tokens));
  p->resources = std::make_unique<registry::ResourceService>(
      *p->store, *p->audit, p->clock, options.limits, registry::RegistryKinds());
  p->eligibility = std::make_unique<eligibility::EligibilityService>(
      *p->store, *p->audit, *p->cards, p->clock, options.limits);

  p->prescriptions = std::make_unique<prescription::PrescriptionService>(
      *p->store, *p->audit, *p->cards, p->clock, p->drug_master,
      prescription::DefaultMasterFiles(options.data_dir), options.limits);
  RK_TRY(p->prescriptions->RefreshMaster());
  p->consents = std::make_unique<access::ConsentService>(*p->store, *p->audit, *p->cards, p->clock,
                                                         options.limits);
  p->facts = std::make_unique<access::FactsService>(*p->store, *p->audit, p->clock, options.limits);
  p->facts->SetDeclarationCache(&p->declarations);
  p->resources->SetDeclarationCache(&p->declarations);
  p->history = std::make_unique<access::AccessHistoryService>(*p->store, *p->audit, p->clock);
  access::SubscriptionOptions subscription_options;
  subscription_options.allow_http_endpoints = options.notify_insecure_endpoints;
  p->subscriptions = std::make_unique<access::SubscriptionService>(
      *p->store, *p->audit, p->clock, options.limits, subscription_options);
  p->match =
      std::make_unique<access::PatientMatchService>(*p->store, *p->audit, p->clock, options.limits);
  p->review = std::make_unique<access::PrivacyReviewService>(*p->store, *p->audit, p->clock,
                                                             options.limits);
  p->items = std::make_unique<clinical::ItemService>(*p->store, *p->audit, p->clock, options.limits,
                                                     &p->declarations);
  RK_ASSIGN_OR_RETURN(auto blob_root, clinical::BlobRootFor(options.db_url, options.blob_dir));
  RK_ASSIGN_OR_RETURN(p->blobs, clinical::BlobStore::Open(blob_root));
  p->documents = std::make_unique<clinical::DocumentService>(
      *p->store, *p->audit, *p->blobs, p->clock, options.limits, &p->declarations);

  // Operation routes ($verify-eligibility) come before the generic instance routes so the
  // literal segment is registered first; the router prefers literals either way.
  Append(p->routes, p->tokens->Routes());
  Append(p->routes, p->patient_login->Routes());
  Append(p->routes, p->eligibility->Routes());
  Append(p->routes, p->prescriptions->Routes());
  Append(p->routes, audit::AuditRoutes(*p->store, *p->audit, p->clock));
  Append(p->routes, access::AccessRoutes(*p->consents, *p->facts, *p->history));
  Append(p->routes, p->subscriptions->Routes());
  Append(p->routes, p->review->Routes());
  Append(p->routes, p->match->Routes());
  Append(p->routes, p->items->Routes());
  Append(p->routes, p->documents->Routes());
  Append(p->routes, p->resources->Routes());
  p->routes.push_back(MetadataRoute(&p->routes, options.public_url));
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(p)));
}

int ServerApp::Run() {
  Parts& p = *parts_;
  http::ServerOptions so;
  auto colon = p.options.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--listen must be HOST:PORT\n";
    return 2;
  }
  so.host = p.options.listen.substr(0, colon);
  try {
    so.port = static_cast<uint16_t>(std::stoi(p.options.listen.substr(colon + 1)));
  } catch (const std::exception&) {
    std::cerr << "--listen must be HOST:PORT\n";
    return 2;
  }
  so.io_threads = p.options.io_threads;
  so.worker_threads = WorkerThreadsFor(p.store->capabilities(), p.options.worker_threads);
  so.limits = p.options.limits;
  so.public_base_url = p.options.public_url;
  so.trusted_proxies = p.options.trusted_proxies;
  if (!p.options.tls_cert.empty() || !p.options.tls_key.empty()) {
    so.tls = http::TlsOptions{p.options.tls_cert, p.options.tls_key, p.options.tls_client_ca};
  } else if (!p.options.tls_client_ca.empty()) {
    std::cerr << "--tls-client-ca needs --tls-cert and --tls-key\n";
    return 2;
  }
  auth::TokenService* tokens = p.tokens.get();
  store::Store* store = p.store.get();
  http::Server server(
      so, p.routes, [tokens](std::string_view bearer) { return tokens->VerifyAccessToken(bearer); },
      [store]() -> Status {
        RK_ASSIGN_OR_RETURN(auto tx, store->Begin(store::TxMode::kRead));
        RK_ASSIGN_OR_RETURN(auto v, tx->GetSetting("schema_version_probe"));
        (void)v;
        return Ok();
      });
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "cannot start: " << s.error().ToString() << "\n";
    return 1;
  }
  if (!p.options.port_file.empty()) {
    // Written to a temporary name and renamed, so readers never see a partial port.
    const std::string tmp = p.options.port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), p.options.port_file.c_str());
  }
  HousekeepingOptions upkeep;
  if (p.options.retention_interval_s > 0) {
    upkeep.retention_interval = std::chrono::seconds(p.options.retention_interval_s);
    upkeep.retention = [&p](TimePoint now) -> Status {
      retention::SweepOptions o;
      clinical::BlobStore* blobs = p.blobs.get();
      o.release_blob = [blobs, now](std::string_view sha256) {
        (void)blobs->RemoveIfIdle(sha256, clinical::kBlobReleaseIdle, now);
      };
      // The sweep logs its own report (retention.sweep).
      RK_ASSIGN_OR_RETURN(retention::SweepReport report,
                          retention::Sweep(*p.store, *p.audit, now, o));
      (void)report;
      return Ok();
    };
  }
  Housekeeper housekeeper(*p.store, p.clock, upkeep);
  housekeeper.Start();
  audit::PatientIndexer patient_index(*p.store);
  patient_index.Start();
  std::unique_ptr<access::Notifier> notifier;
  if (p.options.notify) {
    access::NotifierOptions no;
    no.allow_http_endpoints = p.options.notify_insecure_endpoints;
    no.post.allow_private_addresses = p.options.notify_insecure_endpoints;
    notifier = std::make_unique<access::Notifier>(*p.store, p.clock, no);
    if (Status s = notifier->Start(); !s.ok()) {
      std::cerr << "cannot start notifications: " << s.error().ToString() << "\n";
      return 1;
    }
  }
  log::Info("server.listening", {{"host", so.host},
                                 {"port", static_cast<int>(server.port())},
                                 {"workers", so.worker_threads},
                                 {"tls", so.tls.has_value()},
                                 {"mutual_tls", so.tls && !so.tls->client_ca_file.empty()}});
  server.WaitForSignal();
  log::Info("server.stopped");
  return 0;
}

}  // namespace renkei::app
