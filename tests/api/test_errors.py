"""Bad input gets a clear OperationOutcome with the right status and loses nothing; every limit
is exceeded once."""

import json

from harness import ServerTestCase


def patient(insurer_number, **override):
    doc = {
        "resourceType": "Patient",
        "identifier": [{"system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
                        "value": f"{insurer_number}::4711:01"}],
        "name": [{"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                                 "valueCode": "IDE"}], "text": "試験 太郎", "family": "試験", "given": ["太郎"]}],
        "gender": "male",
        "birthDate": "1980-01-02",
    }
    doc.update(override)
    return doc


class ErrorAnswersTest(ServerTestCase):
    extra_args = ("--max-body-bytes", "65536", "--max-json-depth", "32", "--max-string-bytes", "4096",
                  "--max-bundle-entries", "5")

    def insurer(self):
        return self.server.facility("insurer")["code"]

    def insurer_token(self):
        return self.server.token_for("clerk", "insurer")

    def test_malformed_json_is_400(self):
        r = self.server.request("POST", "/fhir/Patient", raw=b'{"resourceType": "Patient", ',
                                token=self.insurer_token())
        self.assertEqual(r.status, 400)
        self.assertEqual(r.issues()[0]["code"], "invalid")

    def test_unknown_resource_type_is_404(self):
        r = self.server.get("/fhir/Spaceship/1", token=self.insurer_token())
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["resourceType"], "OperationOutcome")

    def test_oversized_body_is_413(self):
        big = patient(self.insurer(), text={"status": "generated", "div": "<div>" + "x" * 70000 + "</div>"})
        r = self.server.post("/fhir/Patient", big, token=self.insurer_token())
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["resourceType"], "OperationOutcome")

    def test_over_deep_json_is_refused(self):
        deep = "[" * 40 + "]" * 40
        body = '{"resourceType":"Patient","extension":' + deep + "}"
        r = self.server.request("POST", "/fhir/Patient", raw=body.encode(), token=self.insurer_token())
        self.assertEqual(r.status, 413)
        self.assertIn("deep", json.dumps(r.issues()).lower())

    def test_over_long_string_is_413(self):
        doc = patient(self.insurer())
        doc["name"][0]["text"] = "長" * 2000  # 6,000 bytes of UTF-8
        r = self.server.post("/fhir/Patient", doc, token=self.insurer_token())
        self.assertEqual(r.status, 413, r.body)
        self.assertIn("string", json.dumps(r.issues(), ensure_ascii=False).lower())

    def test_bundle_over_the_entry_limit_is_413(self):
        entries = [{"resource": patient(self.insurer()), "request": {"method": "POST", "url": "Patient"}}
                   for _ in range(6)]
        r = self.server.post("/fhir", {"resourceType": "Bundle", "type": "batch", "entry": entries},
                             token=self.insurer_token())
        self.assertEqual(r.status, 413, r.body)

    def test_invalid_resource_lists_every_problem_once(self):
        bad = patient(self.insurer(), gender="unknown-gender", birthDate="1980-13-45")
        bad["identifier"][0]["value"] = "123:bad"
        r = self.server.post("/fhir/Patient", bad, token=self.insurer_token())
        self.assertIn(r.status, (400, 422))
        issues = r.issues()
        self.assertGreaterEqual(len(issues), 3, issues)
        paths = " ".join(" ".join(i.get("expression", [])) for i in issues)
        self.assertIn("gender", paths)
        self.assertIn("birthDate", paths)
        self.assertIn("identifier", paths)
        # Nothing was stored.
        search = self.server.get("/fhir/Patient?birthdate=1980-13-45", token=self.insurer_token())
        self.assertIn(search.status, (200, 400))

    def test_clerk_reading_patient_records_is_403(self):
        some_patient = self.server.manifest["patients"][0]["id"]
        r = self.server.get("/fhir/Patient/" + some_patient, token=self.server.token_for("clerk", "clinic"))
        self.assertEqual(r.status, 403)
        self.assertEqual(r.issues()[0]["code"], "forbidden")
        # Even with the patient's consent at the clinic: clerks verify eligibility only.
        self.server.consent_for(some_patient, "clerk", "clinic")
        r = self.server.get("/fhir/Patient/" + some_patient, token=self.server.token_for("clerk", "clinic"))
        self.assertEqual(r.status, 403)
        token = self.server.consent_for(some_patient, "physician", "hospital")
        r = self.server.get("/fhir/Patient/" + some_patient, token=token)
        self.assertEqual(r.status, 200, r.body)

    def test_transaction_is_all_or_nothing(self):
        good = patient(self.insurer())
        good["identifier"][0]["value"] = f"{self.insurer()}::80001:01"
        bad = patient(self.insurer(), gender="robot")
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:0d9bf1c2-8bd4-4b6c-9d5c-2f7c1f5e2a11", "resource": good,
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": bad, "request": {"method": "POST", "url": "Patient"}},
        ]}
        r = self.server.post("/fhir", bundle, token=self.insurer_token())
        self.assertIn(r.status, (400, 422), r.body)
        search = self.server.get(
            "/fhir/Patient?identifier=http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID|"
            + f"{self.insurer()}::80001:01", token=self.server.token_for("physician", "hospital"))
        self.assertEqual(search.status, 200, search.body)
        self.assertEqual(search.json().get("total", 0), 0)


class RateLimitTest(ServerTestCase):
    extra_args = ("--rate", "5", "--burst", "5")

    def test_rate_limit_is_429_with_retry_after(self):
        # /healthz, /readyz and /metrics are exempt (probes); /fhir/metadata is public and limited.
        statuses = [self.server.get("/fhir/metadata").status for _ in range(40)]
        self.assertIn(429, statuses)
        limited = next(i for i, s in enumerate(statuses) if s == 429)
        self.assertTrue(all(s == 200 for s in statuses[:limited]))
        r = None
        for _ in range(40):
            r = self.server.get("/fhir/metadata")
            if r.status == 429:
                self.assertIn("Retry-After", r.headers)
                self.assertEqual(r.json()["resourceType"], "OperationOutcome")
                break


if __name__ == "__main__":
    import unittest
    unittest.main()
