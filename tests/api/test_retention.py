"""Retention over HTTP (issue 5, "Retention" and the referral lifecycle): `renkei retention run
--now TIME` on the running server's database, with a simulated clock. A retrieved referral
letter is gone 7 days after retrieval and an unretrieved one after 180 days (410 Gone, its
attachments released); diagnoses go 5 years after registration unless flagged for long-term
storage; every deletion is in the audit log."""

import datetime
import json
import os

from harness import ServerTestCase, run
from test_clinical import load, refs, REGISTER
from test_documents import referral, SUBMIT


def later(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class RetentionTest(ServerTestCase):
    patients = 20

    def blobs(self):
        found = []
        for _, _, files in os.walk(self.server.blob_dir):
            found += [f for f in files if len(f) > 32]
        return found

    def test_referrals_and_items_expire_on_their_rules(self):
        hospital = self.at("physician", "1310000011")
        clinic = self.at("physician", "1310000029")

        # A referral the clinic retrieves (consented at the referring facility) and one it never
        # retrieves.
        retrieved_letter, _ = referral(self.patient(0))
        sent = self.server.post(SUBMIT, retrieved_letter, token=hospital,
                                headers={"X-Patient-Consent": "referring-facility"})
        self.assertEqual(sent.status, 201, sent.body)
        retrieved = sent.json()["id"]
        self.assertEqual(self.server.get(f"/fhir/Bundle/{retrieved}", token=clinic).status, 200)
        pending_letter, _ = referral(self.patient(1))
        sent = self.server.post(SUBMIT, pending_letter, token=hospital)
        self.assertEqual(sent.status, 201, sent.body)
        pending = sent.json()["id"]
        blobs_before = self.blobs()
        self.assertGreater(len(blobs_before), 0)

        # Diagnoses: one long-term, two not.
        p = self.patient(2)
        r = self.server.post(REGISTER, load("condition", p, "keep-1"), token=hospital)
        self.assertEqual(r.status, 200, r.body)
        uninformed, lts, undelivered = refs(r.json())

        # Six days after retrieval nothing has expired.
        report = self.server.retention(later(6))
        self.assertEqual(report["deleted"], 0, report)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{retrieved}", token=hospital).status, 200)

        # Eight days after: the retrieved letter is gone; the unretrieved one is kept.
        report = self.server.retention(later(8))
        self.assertEqual(report["deleted"], 1, report)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{retrieved}", token=hospital).status, 410)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{retrieved}", token=clinic).status, 410)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{pending}/$receipt", token=hospital).status,
                         200)

        # 181 days after: the unretrieved letter too, and its attachments are released (both
        # letters carried the same attachments, now referenced by no document).
        report = self.server.retention(later(181))
        self.assertEqual(report["deleted"], 1, report)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{pending}", token=hospital).status, 410)
        self.assertGreater(report["blobsReleased"], 0)
        self.assertEqual(self.blobs(), [])

        # Five years and a day: the diagnoses without LTS are gone, the long-term one stays.
        report = self.server.retention(later(5 * 366 + 1))
        self.assertGreaterEqual(report["deleted"], 2, report)
        self.assertEqual(self.server.get("/fhir/" + uninformed, token=hospital).status, 410)
        self.assertEqual(self.server.get("/fhir/" + undelivered, token=hospital).status, 410)
        self.assertEqual(self.server.get("/fhir/" + lts, token=hospital).status, 200)
        found = self.server.get(f"/fhir/Condition?patient=Patient/{p['id']}", token=hospital)
        self.assertEqual(found.json()["total"], 1)

        # A second run finds nothing more; every deletion is in the audit log.
        self.assertEqual(self.server.retention(later(5 * 366 + 1))["deleted"], 0)
        ministry = self.at("clerk", "0000000001")
        audit = self.server.get(f"/fhir/AuditEvent?patient={p['id']}&_count=100", token=ministry)
        self.assertEqual(audit.status, 200, audit.body)
        deletions = [e for e in audit.json().get("entry", [])
                     if "item-5y" in json.dumps(e["resource"])]
        self.assertEqual(len(deletions), 2)

    def test_a_bad_time_is_refused(self):
        out = run(["retention", "run", "--db", self.server.db.url, "--now", "yesterday",
                   "--blob-dir", self.server.blob_dir], check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--now", out.stderr)
