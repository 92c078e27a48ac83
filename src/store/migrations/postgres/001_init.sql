-- renkei schema 1 (PostgreSQL). Patient-owned tables key on patient_id first so they can be
-- hash-partitioned (and distributed) by patient (DESIGN.md §6). Key text columns use the "C"
-- collation: comparisons, ranges and ordering are bytewise like SQLite's, whatever the
-- database's locale. Times are int64 microseconds since the epoch; booleans are 0/1.

-- The current version of each resource; its JSON is the row in resource_versions (kept once).
CREATE TABLE resources (
  patient_id   text COLLATE "C" NOT NULL,
  type         text COLLATE "C" NOT NULL,
  id           text COLLATE "C" NOT NULL,
  version      bigint NOT NULL,
  last_updated bigint NOT NULL,
  deleted      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (patient_id, type, id)
);
CREATE INDEX resources_type_id ON resources (type, id);
CREATE INDEX resources_type_updated ON resources (type, last_updated, id);

CREATE TABLE resource_versions (
  patient_id   text COLLATE "C" NOT NULL,
  type         text COLLATE "C" NOT NULL,
  id           text COLLATE "C" NOT NULL,
  version      bigint NOT NULL,
  last_updated bigint NOT NULL,
  deleted      integer NOT NULL DEFAULT 0,
  json         text NOT NULL,
  PRIMARY KEY (patient_id, type, id, version)
);

CREATE TABLE resource_locator (
  type       text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  patient_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (type, id)
);

CREATE TABLE search_index (
  patient_id text COLLATE "C" NOT NULL,
  type       text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  param      text COLLATE "C" NOT NULL,
  system     text COLLATE "C" NOT NULL DEFAULT '',
  value      text COLLATE "C" NOT NULL,
  PRIMARY KEY (patient_id, type, id, param, system, value)
);
CREATE INDEX search_index_value ON search_index (type, param, value, system);
CREATE INDEX search_index_patient ON search_index (patient_id, type, param, value);

CREATE TABLE idempotency (
  scope   text COLLATE "C" NOT NULL,
  key     text COLLATE "C" NOT NULL,
  outcome text NOT NULL,
  created bigint NOT NULL,
  PRIMARY KEY (scope, key)
);

CREATE TABLE keys (
  owner_kind text COLLATE "C" NOT NULL,
  owner_id   text COLLATE "C" NOT NULL,
  kid        text COLLATE "C" NOT NULL,
  alg        text NOT NULL,
  public_jwk text NOT NULL,
  created    bigint NOT NULL,
  revoked    integer NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_kind, owner_id, kid)
);

CREATE TABLE nonces (
  scope   text COLLATE "C" NOT NULL,
  nonce   text COLLATE "C" NOT NULL,
  expires bigint NOT NULL,
  PRIMARY KEY (scope, nonce)
);
CREATE INDEX nonces_expires ON nonces (expires);

CREATE TABLE settings (
  key   text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE audit_log (
  seq             bigint PRIMARY KEY,
  recorded        bigint NOT NULL,
  facility_code   text COLLATE "C" NOT NULL,
  practitioner_id text NOT NULL,
  qualification   text NOT NULL,
  patient_id      text COLLATE "C" NOT NULL,
  action          text NOT NULL,
  category        text NOT NULL,
  purpose         text COLLATE "C" NOT NULL,
  outcome         text NOT NULL,
  detail          text NOT NULL,
  prev_hash       text NOT NULL,
  hash            text NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_log_recorded ON audit_log (recorded);
CREATE INDEX audit_log_facility ON audit_log (facility_code, seq);

-- The chain head: the last seq and hash. Appenders take a row lock on it (FOR UPDATE) so that
-- appends from several servers serialize.
CREATE TABLE audit_head (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
