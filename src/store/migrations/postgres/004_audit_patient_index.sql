-- A patient's accesses are indexed behind the audit log instead of inside every append
-- (audit/patient_index.h); see the SQLite migration of the same number.
CREATE TABLE audit_patient (
  patient_id text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,
  PRIMARY KEY (patient_id, seq)
);

CREATE TABLE audit_patient_mark (
  id  integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);

INSERT INTO audit_patient (patient_id, seq)
SELECT patient_id, seq FROM audit_log WHERE patient_id <> '' ORDER BY patient_id, seq;
INSERT INTO audit_patient_mark (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;
DROP INDEX audit_log_patient;
