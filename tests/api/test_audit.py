"""The audit log: reads leave entries, the ministry reads them as AuditEvent, and
`renkei audit verify` catches any modified, removed or reordered entry in the database."""

from harness import Server, ServerTestCase, run


class AuditEventTest(ServerTestCase):
    def test_patient_read_is_audited_and_visible_to_the_ministry_only(self):
        patient = self.server.manifest["patients"][1]["id"]
        doctor = self.server.practitioner("physician", "hospital")
        self.server.consent_for(patient, "physician", "hospital")
        r = self.server.get("/fhir/Patient/" + patient, token=self.server.token(doctor["id"]))
        self.assertEqual(r.status, 200, r.body)

        ministry = self.server.token_for("clerk", "ministry")
        r = self.server.get(f"/fhir/AuditEvent?patient={patient}&_count=50", token=ministry)
        self.assertEqual(r.status, 200, r.body)
        events = [e["resource"] for e in r.json().get("entry", [])]
        self.assertTrue(events, "no audit entry for the read")
        text = str(events)
        self.assertIn(doctor["facility"], text)
        self.assertIn("TREAT", text)

        r = self.server.get(f"/fhir/AuditEvent?patient={patient}", token=self.server.token(doctor["id"]))
        self.assertEqual(r.status, 403)


class AuditWithheldTest(ServerTestCase):
    def test_a_read_whose_audit_entry_cannot_be_committed_releases_no_data(self):
        patient = self.server.manifest["patients"][2]["id"]
        token = self.server.token_for("physician", "hospital")
        self.server.consent_for(patient, "physician", "hospital")
        r = self.server.get("/fhir/Patient/" + patient, token=token)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(patient, r.body)

        # Without the chain head no entry can be appended: the read must fail, with an
        # OperationOutcome and without the patient's data.
        self.server.db.sql("DELETE FROM audit_head")
        r = self.server.get("/fhir/Patient/" + patient, token=token)
        self.assertGreaterEqual(r.status, 500, r.body)
        self.assertEqual(r.json()["resourceType"], "OperationOutcome")
        self.assertNotIn(patient, r.body)
        self.assertNotIn("name", r.json())
        self.assertTrue(r.headers.get("X-Request-Id"))
        self.assertIn("http.response_withheld", self.server.server_log())
        self.assertNotIn(patient, self.server.server_log())


class AuditTamperTest(ServerTestCase):
    def verify(self):
        return run(["audit", "verify", "--db", self.server.db.url], check=False)

    def test_verify_detects_modified_removed_and_reordered_entries(self):
        token = self.server.token_for("physician", "hospital")
        for p in self.server.manifest["patients"][:5]:
            self.server.consent_for(p["id"], "physician", "hospital")
            self.assertEqual(self.server.get("/fhir/Patient/" + p["id"], token=token).status, 200)
        self.server.stop()
        ok = self.verify()
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        db = self.server.db
        count = int(db.sql("SELECT COUNT(*) FROM audit_log").strip())
        self.assertGreater(count, 5)
        middle = count // 2

        # Modified: change who read.
        original = db.sql(f"SELECT facility_code FROM audit_log WHERE seq = {middle}").strip()
        db.sql(f"UPDATE audit_log SET facility_code = '9999999999' WHERE seq = {middle}")
        bad = self.verify()
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn(str(middle), bad.stdout + bad.stderr)
        db.sql(f"UPDATE audit_log SET facility_code = '{original}' WHERE seq = {middle}")
        self.assertEqual(self.verify().returncode, 0)

        # Reordered: swap the contents of two entries by exchanging their sequence numbers.
        db.sql(f"UPDATE audit_log SET seq = -1 WHERE seq = {middle}")
        db.sql(f"UPDATE audit_log SET seq = {middle} WHERE seq = {middle + 1}")
        db.sql(f"UPDATE audit_log SET seq = {middle + 1} WHERE seq = -1")
        self.assertNotEqual(self.verify().returncode, 0)
        db.sql(f"UPDATE audit_log SET seq = -1 WHERE seq = {middle}")
        db.sql(f"UPDATE audit_log SET seq = {middle} WHERE seq = {middle + 1}")
        db.sql(f"UPDATE audit_log SET seq = {middle + 1} WHERE seq = -1")
        self.assertEqual(self.verify().returncode, 0)

        # Removed: a middle entry, then (on a fresh copy of the facts) the last one.
        db.sql(f"DELETE FROM audit_log WHERE seq = {middle}")
        self.assertNotEqual(self.verify().returncode, 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
