// The subcommands of the renkei binary. Each returns a process exit code and prints errors
// to stderr; they are thin shells over the services.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.h"

namespace renkei::app {

struct ServeOptions {
  std::string db_url = "sqlite:renkei.db";
  std::string listen = "127.0.0.1:8080";
  std::string public_url;  // "" = derived from requests
  // Load balancers / reverse proxies whose X-Forwarded-For names the client
  // (http/trusted_proxies.h).
  std::vector<std::string> trusted_proxies;
  int io_threads = 2;
  // Handler threads; 0 = chosen for the engine (WorkerThreadsFor in server_app.cpp).
  int worker_threads = 0;
  int db_pool = 16;
  std::string tls_cert, tls_key, tls_client_ca;
  std::string port_file;  // written with the bound port once listening (tests, port 0)
  // Patients' rest-hook notifications of emergency and disaster accesses (this node delivers;
  // a lease in the store keeps it to one node at a time).
  bool notify = true;
  // Development and tests only: plain http and private / loopback endpoints are allowed.
  bool notify_insecure_endpoints = false;
  // The drug master used until one is loaded into the store (`renkei load-master`).
  std::string data_dir = RENKEI_DEFAULT_DATA_DIR;
  // Document attachments (clinical/blob_store.h); "" = beside a SQLite file (required for
  // PostgreSQL).
  std::string blob_dir;
  // How often the server runs the retention sweeper (0 = never; `renkei retention run`).
  int retention_interval_s = 3600;
  Limits limits;
};
int Serve(const ServeOptions& options);

int Migrate(const std::string& db_url);

// `renkei retention run`: one sweep of every retention rule at `now` (an ISO instant; empty =
// the system clock), printing the report as JSON.
struct RetentionOptions {
  std::string db_url;
  std::string now;
  std::string blob_dir;
};
int RetentionRun(const RetentionOptions& options);

struct SeedOptions {
  std::string db_url;
  std::string out_dir;
  int patients = 1000;
  int card_keys = -1;  // patients that get a card key pair written to disk; -1 = all
};
int Seed(const SeedOptions& options);

// `renkei seed-history`: medication histories (prescribed drugs of the last 100 days) for
// every patient of a seeded database, drawn from the drug master in force; for the
// prescription check benchmark. Not audited: benchmark data, not care.
struct SeedHistoryOptions {
  std::string db_url;
  std::string data_dir;  // where the default master files are
  double mean_drugs = 5;
  int heavy_percent = 3;  // patients on 10 to 15 drugs
  uint64_t random_seed = 1;
  // Start after this patient id ("" = after where the last run stopped, or at the first).
  std::string after_patient;
};
int SeedHistory(const SeedHistoryOptions& options);

struct TokenOptions {
  std::string keys_dir;
  std::string practitioner;
  std::string facility;  // "" = the practitioner's facility in the manifest
  std::string url;       // server base URL
  std::string ca_file;
  bool assertion_only = false;       // print the signed client assertion instead of exchanging it
  int64_t assertion_lifetime = 240;  // seconds; negative makes an expired assertion (tests)
  std::string key_file;              // sign with this JWK instead of the practitioner's own
};
int Token(const TokenOptions& options);

struct CardSignOptions {
  std::string keys_dir;
  std::string patient;
  std::string facility;
  std::string purpose = "eligibility";
  std::vector<std::string> categories;
  int64_t age_seconds = 0;  // sign as if issued this many seconds ago (tests of staleness)
};
int CardSign(const CardSignOptions& options);

// The patient portal login as a card holder's device does it: asks the server for a challenge,
// signs it with the patient's card key and prints the patient's access token.
struct CardLoginOptions {
  std::string keys_dir;
  std::string patient;
  std::string url;
  std::string ca_file;
};
int CardLogin(const CardLoginOptions& options);

int AuditVerify(const std::string& db_url);

// Validates a national drug price list ("drugs") or contraindication rule file
// ("contraindications") against the other file in force and stores it as the master in force
// for every server on the database (atomically; a bad file changes nothing).
int LoadMaster(const std::string& db_url, const std::string& kind, const std::string& file,
               const std::string& data_dir);

}  // namespace renkei::app
