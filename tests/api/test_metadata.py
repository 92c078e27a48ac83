"""The CapabilityStatement lists exactly the interactions that exist; health and metrics."""

from harness import ServerTestCase


class MetadataTest(ServerTestCase):
    def test_capability_statement_matches_what_answers(self):
        r = self.server.get("/fhir/metadata")
        self.assertEqual(r.status, 200, r.body)
        cs = r.json()
        self.assertEqual(cs["resourceType"], "CapabilityStatement")
        self.assertEqual(cs["fhirVersion"], "4.0.1")
        resources = {res["type"]: res for res in cs["rest"][0]["resource"]}
        for t in ["Organization", "Practitioner", "PractitionerRole", "Patient", "Coverage", "AuditEvent"]:
            self.assertIn(t, resources)
        token = self.server.token_for("physician", "hospital")
        # Every listed read/search answers something other than 404/405.
        for t, res in resources.items():
            codes = {i["code"] for i in res.get("interaction", [])}
            if "search-type" in codes:
                status = self.server.get(f"/fhir/{t}?_count=1", token=token).status
                self.assertNotIn(status, (404, 405), t)
        # An interaction that is not listed does not exist.
        self.assertNotIn("delete", {i["code"] for i in resources["AuditEvent"].get("interaction", [])})
        self.assertIn(self.server.request("DELETE", "/fhir/AuditEvent/1", token=token).status, (404, 405))

    def test_health_and_metrics(self):
        self.assertEqual(self.server.get("/healthz").status, 200)
        self.assertEqual(self.server.get("/readyz").status, 200)
        patient = self.server.manifest["patients"][0]["id"]
        self.server.get("/fhir/Patient/" + patient, token=self.server.token_for("physician", "hospital"))
        metrics = self.server.get("/metrics")
        self.assertEqual(metrics.status, 200)
        self.assertIn("renkei_http_requests_total", metrics.body)
        self.assertIn("/fhir/Patient/{id}", metrics.body)
        self.assertNotIn(patient, metrics.body)

    def test_logs_hold_no_patient_identifiers_or_tokens(self):
        patient = self.server.manifest["patients"][2]["id"]
        token = self.server.consent_for(patient, "physician", "hospital")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=token).status, 200)
        self.assertEqual(self.server.get("/fhir/Patient?_id=" + patient, token=token).status, 200)
        ministry = self.server.token_for("clerk", "ministry")
        self.server.get("/fhir/Patient?name=" + "%E3%83%A4%E3%83%9E%E3%83%80", token=ministry)
        log = self.server.server_log()
        self.assertIn("http.request", log)
        self.assertNotIn(patient, log)
        self.assertNotIn(token, log)


if __name__ == "__main__":
    import unittest
    unittest.main()
