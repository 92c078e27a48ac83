-- A patient's accesses are indexed behind the audit log instead of inside every append
-- (audit/patient_index.h): the (patient_id, seq) index put one random page into every group
-- commit of audited reads, the largest single cost of an audited read (docs/PERFORMANCE.md).
-- audit_patient holds the entries up to audit_patient_mark.seq, written in batches sorted by
-- patient; FindAudit reads it and the few entries after the mark from audit_log itself.
CREATE TABLE audit_patient (
  patient_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (patient_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_patient_mark (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);

INSERT INTO audit_patient (patient_id, seq)
SELECT patient_id, seq FROM audit_log WHERE patient_id <> '' ORDER BY patient_id, seq;
INSERT INTO audit_patient_mark (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;
DROP INDEX audit_log_patient;
