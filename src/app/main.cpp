// renkei: one binary for the server and its admin commands (DESIGN.md §1).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  using namespace renkei::app;
  CLI::App cli{"renkei: medical information sharing server (FHIR R4)"};
  cli.require_subcommand(1);

  ServeOptions serve;
  auto* serve_cmd = cli.add_subcommand("serve", "Run the HTTP(S) server");
  serve_cmd->add_option("--db", serve.db_url, "sqlite:PATH or postgresql://...")
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--public-url", serve.public_url,
                        "Base URL clients use (for links and token audience)");
  serve_cmd->add_option("--trusted-proxy", serve.trusted_proxies,
                        "CIDR or address of a load balancer whose X-Forwarded-For names the "
                        "client for the rate limit (repeatable)");
  serve_cmd->add_option("--io-threads", serve.io_threads, "I/O threads")->capture_default_str();
  serve_cmd
      ->add_option("--workers", serve.worker_threads,
                   "Handler (database) threads; 0 = 2 per core on SQLite, 8 per core on "
                   "PostgreSQL")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  serve_cmd->add_option("--db-pool", serve.db_pool, "Database connections")->capture_default_str();
  serve_cmd->add_option("--tls-cert", serve.tls_cert, "PEM certificate chain: enables HTTPS");
  serve_cmd->add_option("--tls-key", serve.tls_key, "PEM private key");
  serve_cmd->add_option("--tls-client-ca", serve.tls_client_ca,
                        "PEM CA: require client certificates (mutual TLS)");
  serve_cmd->add_option("--port-file", serve.port_file, "Write the bound port to this file");
  serve_cmd->add_option("--data-dir", serve.data_dir, "Default drug master files (data/drugs)")
      ->capture_default_str();
  serve_cmd->add_flag("!--no-notify", serve.notify,
                      "Do not deliver patients' notifications from this node");
  serve_cmd->add_flag("--notify-insecure-endpoints", serve.notify_insecure_endpoints,
                      "Allow http and private-network notification endpoints (tests only)");
  serve_cmd->add_option("--max-body-bytes", serve.limits.max_body_bytes)->capture_default_str();
  serve_cmd->add_option("--max-header-bytes", serve.limits.max_header_bytes)->capture_default_str();
  serve_cmd->add_option("--max-json-depth", serve.limits.max_json_depth)->capture_default_str();
  serve_cmd->add_option("--max-string-bytes", serve.limits.max_string_bytes)->capture_default_str();
  serve_cmd->add_option("--max-bundle-entries", serve.limits.max_bundle_entries)
      ->capture_default_str();
  serve_cmd
      ->add_option("--rate", serve.limits.requests_per_second, "Requests per second per client")
      ->capture_default_str();
  serve_cmd->add_option("--burst", serve.limits.burst, "Burst per client")->capture_default_str();

  serve_cmd->add_option("--blob-dir", serve.blob_dir,
                        "Document attachments (default: beside a SQLite file; required for "
                        "PostgreSQL)");
  serve_cmd
      ->add_option("--retention-interval", serve.retention_interval_s,
                   "Seconds between retention sweeps (0: none; see `renkei retention run`)")
      ->capture_default_str();

  std::string db_url;
  auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending schema migrations");
  migrate_cmd->add_option("--db", db_url, "Database URL")->required();

  SeedOptions seed;
  auto* seed_cmd =
      cli.add_subcommand("seed", "Create demo facilities, practitioners and patients with keys");
  seed_cmd->add_option("--db", seed.db_url, "Database URL")->required();
  seed_cmd->add_option("--out", seed.out_dir, "Directory for keys and manifest.json")->required();
  seed_cmd->add_option("--patients", seed.patients, "Number of patients")->capture_default_str();
  seed_cmd
      ->add_option("--card-keys", seed.card_keys, "Patients whose card keys are written (-1 = all)")
      ->capture_default_str();

  RetentionOptions retention_opts;
  auto* retention_cmd = cli.add_subcommand("retention", "Retention of patient data");
  auto* retention_run_cmd =
      retention_cmd->add_subcommand("run", "Delete what every retention rule says has expired");
  retention_run_cmd->add_option("--db", retention_opts.db_url, "Database URL")->required();
  retention_run_cmd->add_option("--now", retention_opts.now,
                                "Run as at this instant (ISO date-time; default: now)");
  retention_run_cmd->add_option("--blob-dir", retention_opts.blob_dir,
                                "Document attachments (as given to serve)");

  SeedHistoryOptions history;
  history.data_dir = RENKEI_DEFAULT_DATA_DIR;
  auto* history_cmd = cli.add_subcommand(
      "seed-history", "Add medication histories of the last 100 days to a seeded database");
  history_cmd->add_option("--db", history.db_url, "Database URL")->required();
  history_cmd->add_option("--mean", history.mean_drugs, "Mean drugs per patient")
      ->capture_default_str();
  history_cmd->add_option("--heavy-percent", history.heavy_percent, "Patients on 10-15 drugs (%)")
      ->capture_default_str();
  history_cmd->add_option("--random-seed", history.random_seed)->capture_default_str();
  history_cmd->add_option("--after-patient", history.after_patient,
                          "Start after this patient id (default: where the last run stopped)");
  history_cmd->add_option("--data-dir", history.data_dir, "Where the default master files are")
      ->capture_default_str();

  TokenOptions token;
  auto* token_cmd = cli.add_subcommand(
      "token", "Obtain an access token through /auth/token (SMART Backend Services)");
  token_cmd->add_option("--keys", token.keys_dir, "Directory written by renkei seed")->required();
  token_cmd->add_option("--practitioner", token.practitioner, "Practitioner id")->required();
  token_cmd->add_option("--url", token.url, "Server base URL, e.g. http://127.0.0.1:8080")
      ->required();
  token_cmd->add_option("--facility", token.facility,
                        "Facility code to act for (default: the practitioner's)");
  token_cmd->add_option("--cacert", token.ca_file, "CA file for https");
  token_cmd->add_flag("--assertion-only", token.assertion_only,
                      "Print the signed client assertion only");
  token_cmd
      ->add_option("--assertion-lifetime", token.assertion_lifetime,
                   "Seconds (negative: already expired)")
      ->capture_default_str();
  token_cmd->add_option("--key-file", token.key_file, "Sign with this private JWK instead");

  CardSignOptions card;
  auto* card_cmd = cli.add_subcommand("card", "Card reader tools");
  card_cmd->require_subcommand(1);
  auto* card_sign_cmd =
      card_cmd->add_subcommand("sign", "Print the JWS a card reader would produce");
  card_sign_cmd->add_option("--keys", card.keys_dir, "Directory written by renkei seed")
      ->required();
  card_sign_cmd->add_option("--patient", card.patient, "Patient id")->required();
  card_sign_cmd->add_option("--facility", card.facility, "Facility code of the reader")->required();
  card_sign_cmd->add_option("--purpose", card.purpose, "eligibility or consent")
      ->capture_default_str();
  card_sign_cmd->add_option("--categories", card.categories, "Consent categories");
  card_sign_cmd->add_option("--age", card.age_seconds, "Sign as issued this many seconds ago");
  CardLoginOptions login;
  auto* card_login_cmd = card_cmd->add_subcommand(
      "login", "Log a patient in to the portal with their card key; prints the access token");
  card_login_cmd->add_option("--keys", login.keys_dir, "Directory written by renkei seed")
      ->required();
  card_login_cmd->add_option("--patient", login.patient, "Patient id")->required();
  card_login_cmd->add_option("--url", login.url, "Server base URL")->required();
  card_login_cmd->add_option("--cacert", login.ca_file, "CA file for https");

  auto* audit_cmd = cli.add_subcommand("audit", "Audit log tools");
  audit_cmd->require_subcommand(1);
  auto* audit_verify_cmd =
      audit_cmd->add_subcommand("verify", "Verify the hash chain of the audit log");
  audit_verify_cmd->add_option("--db", db_url, "Database URL")->required();

  std::string master_kind, master_file, data_dir = RENKEI_DEFAULT_DATA_DIR;
  auto* master_cmd = cli.add_subcommand(
      "load-master", "Load a national drug price list or contraindication rule file");
  master_cmd->add_option("kind", master_kind, "drugs or contraindications")->required();
  master_cmd->add_option("file", master_file, "CSV file")->required()->check(CLI::ExistingFile);
  master_cmd->add_option("--db", db_url, "Database URL")->required();
  master_cmd->add_option("--data-dir", data_dir, "Where the default master files are")
      ->capture_default_str();

  CLI11_PARSE(cli, argc, argv);

  if (*serve_cmd) return Serve(serve);
  if (*migrate_cmd) return Migrate(db_url);
  if (*retention_run_cmd) return RetentionRun(retention_opts);
  if (*seed_cmd) return Seed(seed);
  if (*history_cmd) return SeedHistory(history);
  if (*token_cmd) return Token(token);
  if (*card_sign_cmd) return CardSign(card);
  if (*card_login_cmd) return CardLogin(login);
  if (*audit_verify_cmd) return AuditVerify(db_url);
  if (*master_cmd) return LoadMaster(db_url, master_kind, master_file, data_dir);
  std::cerr << cli.help();
  return 2;
}
