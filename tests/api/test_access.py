"""The access policy end to end over HTTP, one legal basis per test: card consent (TREAT),
emergency (ETREAT), ambulance (ETREAT by a fire department), disaster (DISASTER) and the
registry's own purposes, each read checked in the audit log the patient's history is made of."""

import datetime
import http.server
import json
import threading
import time
import urllib.parse

from harness import ServerTestCase, run


def params(*pairs):
    return {"resourceType": "Parameters",
            "parameter": [{"name": n, k: v} for n, k, v in pairs]}


def instant(delta_hours):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=delta_hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


REASON = urllib.parse.quote("意識不明で搬送")


class AccessPolicyTest(ServerTestCase):
    patients = 40

    def patient(self, n):
        return self.server.manifest["patients"][n]["id"]

    def token_at(self, qualification, facility_code):
        for p in self.server.manifest["practitioners"]:
            if p["qualification"] == qualification and p["facility"] == facility_code:
                return self.server.token(p["id"])
        self.fail(f"no {qualification} at {facility_code}")

    def audit_of(self, patient):
        ministry = self.server.token_for("clerk", "ministry")
        r = self.server.get(f"/fhir/AuditEvent?patient={patient}&_count=100", token=ministry)
        self.assertEqual(r.status, 200, r.body)
        return [e["resource"] for e in r.json().get("entry", [])]

    def purposes_in_audit(self, patient, facility):
        out = []
        for event in self.audit_of(patient):
            text = str(event)
            if facility in text:
                out.append(text)
        return out

    def test_card_consent_opens_the_record_at_that_facility_only(self):
        patient = self.patient(10)
        doctor = self.token_at("physician", "1310000011")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=doctor).status, 403)
        jws = self.server.card(patient, "1310000011", purpose="TREAT", categories=["all"])
        body = params(("card", "valueString", jws))
        r = self.server.post("/fhir/Consent/$card", body, token=doctor)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["resourceType"], "Consent")
        # The same card assertion again is a replay.
        replay = self.server.post("/fhir/Consent/$card", body, token=doctor)
        self.assertEqual(replay.status, 401, replay.body)
        # A stale assertion is refused.
        stale = self.server.card(patient, "1310000011", purpose="TREAT", age=3600, categories=["all"])
        r = self.server.post("/fhir/Consent/$card", params(("card", "valueString", stale)), token=doctor)
        self.assertEqual(r.status, 401, r.body)
        # The reader of another facility cannot record it here.
        other = self.server.card(patient, "1310000029", purpose="TREAT", categories=["all"])
        r = self.server.post("/fhir/Consent/$card", params(("card", "valueString", other)), token=doctor)
        self.assertEqual(r.status, 403, r.body)

        read = self.server.get("/fhir/Patient/" + patient, token=doctor)
        self.assertEqual(read.status, 200, read.body)
        clinic = self.token_at("physician", "1310000029")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=clinic).status, 403)
        self.assertTrue(any("TREAT" in e for e in self.purposes_in_audit(patient, "1310000011")))

    def test_totals_and_paging_count_nothing_hidden(self):
        mine, hidden = self.patient(11), self.patient(12)
        doctor = self.server.consent_for(mine, "physician", "hospital")
        r = self.server.get(f"/fhir/Coverage?beneficiary=Patient/{mine}&_count=1", token=doctor)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["total"], 1)
        self.assertFalse([l for l in r.json()["link"] if l["relation"] == "next"])
        # Naming a patient without a basis refuses the whole search: no page, no total.
        mixed = self.server.get(f"/fhir/Patient?_id={mine},{hidden}", token=doctor)
        self.assertEqual(mixed.status, 403, mixed.body)
        self.assertNotIn("total", mixed.body)
        # A name search is not a care provider's: it would count people they may not see.
        vague = self.server.get("/fhir/Patient?name=" + urllib.parse.quote("やまだ"), token=doctor)
        self.assertEqual(vague.status, 400, vague.body)

    def test_emergency_viewing(self):
        patient = self.patient(13)
        er = self.token_at("physician", "1310000011")  # a hospital receiving emergency patients
        claim = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}
        r = self.server.get("/fhir/Patient/" + patient, token=er, headers=claim)
        self.assertEqual(r.status, 200, r.body)
        events = self.purposes_in_audit(patient, "1310000011")
        self.assertTrue(any("ETREAT" in e for e in events), events)
        # Without a reason; at a clinic; at a hospital that does not receive emergency patients.
        r = self.server.get("/fhir/Patient/" + patient, token=er,
                            headers={"X-Purpose-Of-Use": "ETREAT", "X-Consent": "cannot-obtain"})
        self.assertEqual(r.status, 403)
        clinic = self.token_at("physician", "1310000029")
        r = self.server.get("/fhir/Patient/" + patient, token=clinic, headers=claim)
        self.assertEqual(r.status, 403)
        self.assertIn("emergency", r.issues()[0]["diagnostics"])
        osaka = self.token_at("physician", "2710000017")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=osaka, headers=claim).status, 403)

    def test_ambulance_crew_sees_a_limited_set(self):
        patient = self.patient(14)
        crew = self.token_at("paramedic", "1700000001")
        claim = {"X-Purpose-Of-Use": "ETREAT", "X-Consent": "verbal"}
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=crew, headers=claim).status, 200)
        # Coverage is not in the crew's set; nothing without verbal consent or the declaration.
        r = self.server.get(f"/fhir/Coverage?beneficiary={patient}", token=crew, headers=claim)
        self.assertEqual(r.status, 403, r.body)
        r = self.server.get("/fhir/Patient/" + patient, token=crew, headers={"X-Purpose-Of-Use": "ETREAT"})
        self.assertEqual(r.status, 403)
        # A paramedic claiming treatment has no basis.
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=crew).status, 403)

    def test_disaster_region_and_period(self):
        patient = self.patient(15)
        ministry = self.token_at("clerk", "0000000001")
        noto = self.token_at("physician", "1710000013")
        tokyo = self.token_at("physician", "1310000011")
        claim = {"X-Purpose-Of-Use": "DISASTER", "X-Consent": "verbal"}
        # Before any declaration: refused.
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=noto, headers=claim).status, 403)
        # A declaration that has already ended opens nothing.
        ended = params(("prefecture", "valueString", "17"), ("start", "valueDateTime", instant(-48)),
                       ("end", "valueDateTime", instant(-24)))
        self.assertEqual(self.server.post("/fhir/Basic/$declare-disaster", ended, token=ministry).status, 201)
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=noto, headers=claim).status, 403)
        # Only the ministry declares.
        live = params(("prefecture", "valueString", "17"), ("start", "valueDateTime", instant(-1)),
                      ("end", "valueDateTime", instant(72)))
        self.assertEqual(self.server.post("/fhir/Basic/$declare-disaster", live, token=noto).status, 403)
        self.assertEqual(self.server.post("/fhir/Basic/$declare-disaster", live, token=ministry).status, 201)
        r = self.server.get("/fhir/Patient/" + patient, token=noto, headers=claim)
        self.assertEqual(r.status, 200, r.body)
        # One prefecture outside the region; and no consent recorded.
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=tokyo, headers=claim).status, 403)
        r = self.server.get("/fhir/Patient/" + patient, token=noto, headers={"X-Purpose-Of-Use": "DISASTER"})
        self.assertEqual(r.status, 403)
        self.assertTrue(any("DISASTER" in e for e in self.purposes_in_audit(patient, "1710000013")))

    def test_registry_purposes(self):
        patient = self.patient(16)  # insured by 01130012 (the seed pays i % 3 != 0 there)
        ministry = self.server.token_for("clerk", "ministry")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=ministry).status, 200)
        insurer = self.token_at("clerk", "01130012")
        other = self.token_at("clerk", "06270015")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=insurer).status, 200)
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=other).status, 403)
        # A bad purpose header is a clear 400.
        r = self.server.get("/fhir/Patient/" + patient, token=ministry, headers={"X-Purpose-Of-Use": "NOSY"})
        self.assertEqual(r.status, 400)


class PatientPortalTest(ServerTestCase):
    """The patient logs in with the card key, sees their own record and who looked at it,
    revokes a consent, restricts sharing and is notified of emergency accesses."""

    patients = 20
    extra_args = ("--notify-insecure-endpoints",)

    def login(self, patient):
        return run(["card", "login", "--keys", self.server.keys, "--patient", patient,
                    "--url", self.server.base_url]).stdout.strip()

    def test_own_record_and_access_history_with_emergency_marked(self):
        patient = self.server.manifest["patients"][3]["id"]
        other = self.server.manifest["patients"][4]["id"]
        doctor = self.server.consent_for(patient, "physician", "hospital")
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=doctor).status, 200)
        er = self.server.token_for("physician", "hospital")
        claim = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}
        self.assertEqual(self.server.get(f"/fhir/Coverage?beneficiary={patient}", token=er,
                                         headers=claim).status, 200)

        me = self.login(patient)
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=me).status, 200)
        self.assertEqual(self.server.get("/fhir/Patient/" + other, token=me).status, 403)
        mine = self.server.get("/fhir/Patient", token=me).json()
        self.assertEqual(mine["total"], 1)

        r = self.server.get("/fhir/AuditEvent/$access-history?_count=50", token=me)
        self.assertEqual(r.status, 200, r.body)
        events = [e["resource"] for e in r.json().get("entry", [])]
        text = json.dumps(events, ensure_ascii=False)
        self.assertIn("東京中央病院", text)  # the facility by name
        self.assertIn("TREAT", text)
        marked = [e for e in events if any(x.get("valueCode") == "emergency" for x in e.get("extension", []))]
        self.assertTrue(marked, "the emergency access is not marked")
        # Newest first: the emergency read came last.
        self.assertIs(events[0], marked[0])
        # A practitioner never sees a patient's access history.
        self.assertEqual(self.server.get("/fhir/AuditEvent/$access-history", token=doctor).status, 403)
        # A forged or replayed login fails.
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=me + "x").status, 401)

    def test_revocation_takes_effect_at_once(self):
        patient = self.server.manifest["patients"][5]["id"]
        p = self.server.practitioner("physician", "hospital")
        doctor = self.server.token(p["id"])
        consent = self.server.consent(patient, doctor, p["facility"])
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=doctor).status, 200)
        me = self.login(patient)
        r = self.server.post(f"/fhir/Consent/{consent['id']}/$revoke", None, token=me)
        self.assertEqual(r.status, 200, r.body)
        refused = self.server.get("/fhir/Patient/" + patient, token=doctor)
        self.assertEqual(refused.status, 403)
        self.assertIn("revoked", refused.issues()[0]["diagnostics"])
        # Nobody else revokes it.
        other = self.login(self.server.manifest["patients"][6]["id"])
        self.assertEqual(self.server.post(f"/fhir/Consent/{consent['id']}/$revoke", None, token=other).status, 404)

    def test_opting_out_closes_even_emergency_access(self):
        patient = self.server.manifest["patients"][7]["id"]
        me = self.login(patient)
        body = {"resourceType": "Parameters", "parameter": [{"name": "optOut", "valueBoolean": True}]}
        r = self.server.post("/fhir/Consent/$restrictions", body, token=me)
        self.assertEqual(r.status, 200, r.body)
        er = self.server.token_for("physician", "hospital")
        claim = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}
        refused = self.server.get("/fhir/Patient/" + patient, token=er, headers=claim)
        self.assertEqual(refused.status, 403)
        self.assertIn("opted out", refused.issues()[0]["diagnostics"])
        # The patient still sees their own record.
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=me).status, 200)

    def test_the_patient_is_notified_of_an_emergency_access(self):
        received = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        hook = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        try:
            patient = self.server.manifest["patients"][8]["id"]
            me = self.login(patient)
            sub = {"resourceType": "Subscription", "status": "requested",
                   "reason": "Tell me about emergency accesses",
                   "criteria": "AuditEvent?purpose=ETREAT,DISASTER",
                   "channel": {"type": "rest-hook", "payload": "application/fhir+json",
                               "endpoint": f"http://127.0.0.1:{hook.server_port}/renkei"}}
            r = self.server.post("/fhir/Subscription", sub, token=me)
            self.assertEqual(r.status, 201, r.body)
            er = self.server.token_for("physician", "hospital")
            claim = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}
            self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=er, headers=claim).status, 200)
            for _ in range(200):  # bounded: 20 s
                if received:
                    break
                time.sleep(0.1)
            self.assertEqual(len(received), 1)
            note = json.loads(received[0])
            self.assertIn("ETREAT", json.dumps(note))
            self.assertNotIn(patient, json.dumps(note))  # no identifiers in the notification
        finally:
            hook.shutdown()

    def test_privacy_officer_reviews_urgent_accesses(self):
        patient = self.server.manifest["patients"][9]["id"]
        er = self.server.token_for("physician", "hospital")
        claim = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}
        self.assertEqual(self.server.get("/fhir/Patient/" + patient, token=er, headers=claim).status, 200)
        ministry = self.server.token_for("clerk", "ministry")
        start, end = instant(-1)[:10], instant(24)[:10]
        r = self.server.get(f"/fhir/AuditEvent/$urgent-access-review?start={start}&end={end}", token=ministry)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("意識不明", r.body)  # the stated reason is there to review
        self.assertEqual(self.server.get(f"/fhir/AuditEvent/$urgent-access-review?start={start}&end={end}",
                                         token=er).status, 403)


if __name__ == "__main__":
    import unittest
    unittest.main()
