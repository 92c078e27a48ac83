-- renkei schema 1 (SQLite). Patient-owned tables key on patient_id first (DESIGN.md §6).
-- Times are int64 microseconds since the epoch; booleans are 0/1. Tables of small rows are
-- WITHOUT ROWID (clustered on their key); resource_versions, holding the JSON, keeps rowids,
-- as SQLite advises for rows larger than a small fraction of a page.

-- The current version of each resource; its JSON is the row in resource_versions (kept once).
CREATE TABLE resources (
  patient_id   TEXT NOT NULL,
  type         TEXT NOT NULL,
  id           TEXT NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (patient_id, type, id)
) WITHOUT ROWID;
CREATE INDEX resources_type_id ON resources (type, id);
CREATE INDEX resources_type_updated ON resources (type, last_updated, id);

CREATE TABLE resource_versions (
  patient_id   TEXT NOT NULL,
  type         TEXT NOT NULL,
  id           TEXT NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted      INTEGER NOT NULL DEFAULT 0,
  json         TEXT NOT NULL,
  PRIMARY KEY (patient_id, type, id, version)
);

-- (type, id) -> owning patient, so a read by id alone finds the patient-first key.
CREATE TABLE resource_locator (
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;

CREATE TABLE search_index (
  patient_id TEXT NOT NULL,
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  param      TEXT NOT NULL,
  system     TEXT NOT NULL DEFAULT '',
  value      TEXT NOT NULL,
  PRIMARY KEY (patient_id, type, id, param, system, value)
) WITHOUT ROWID;
CREATE INDEX search_index_value ON search_index (type, param, value, system);
CREATE INDEX search_index_patient ON search_index (patient_id, type, param, value);

CREATE TABLE idempotency (
  scope   TEXT NOT NULL,
  key     TEXT NOT NULL,
  outcome TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE TABLE keys (
  owner_kind TEXT NOT NULL,
  owner_id   TEXT NOT NULL,
  kid        TEXT NOT NULL,
  alg        TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created    INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_kind, owner_id, kid)
) WITHOUT ROWID;

CREATE TABLE nonces (
  scope   TEXT NOT NULL,
  nonce   TEXT NOT NULL,
  expires INTEGER NOT NULL,
  PRIMARY KEY (scope, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_expires ON nonces (expires);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
  seq             INTEGER PRIMARY KEY,
  recorded        INTEGER NOT NULL,
  facility_code   TEXT NOT NULL,
  practitioner_id TEXT NOT NULL,
  qualification   TEXT NOT NULL,
  patient_id      TEXT NOT NULL,
  action          TEXT NOT NULL,
  category        TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  detail          TEXT NOT NULL,
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_log_recorded ON audit_log (recorded);
CREATE INDEX audit_log_facility ON audit_log (facility_code, seq);

-- The chain head: the last seq and hash. Appenders lock this one row.
CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
