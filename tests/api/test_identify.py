"""Identifying the patient without a practitioner's card consent: the patient's own portal login
(card challenge, PATRQT) and the emergency / disaster search by name, birth date and sex
(issue "Access policy", legal bases 3, 5 and 6), against the real server on seeded data."""

import urllib.parse

from harness import ServerTestCase, run

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EMERGENCY_HOSPITAL_PHYSICIAN = "prac-13-hosp-physician-1"
CLINIC_PHYSICIAN = "prac-13-clinic-physician-1"
OSAKA_HOSPITAL_PHYSICIAN = "prac-27-hosp-physician-1"
PATIENT = "pat-000001"


class PatientLoginTest(ServerTestCase):
    def challenge(self, patient=PATIENT):
        r = self.server.request("POST", "/auth/patient/challenge",
                                raw=urllib.parse.urlencode({"patient": patient}).encode(), headers=FORM)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["expires_in"], 120)
        return r.json()["challenge"]

    def login(self, challenge, assertion):
        body = urllib.parse.urlencode({"challenge": challenge, "card_assertion": assertion}).encode()
        return self.server.request("POST", "/auth/patient/token", raw=body, headers=FORM)

    def test_card_login_gives_a_patient_token(self):
        # The card holder's device: challenge, signature with the card key, token.
        token = run(["card", "login", "--keys", self.server.keys, "--patient", PATIENT,
                     "--url", self.server.base_url]).stdout.strip()
        history = self.server.get("/fhir/AuditEvent/$access-history", token=token)
        self.assertEqual(history.status, 200, history.body)
        self.assertEqual(history.json()["type"], "searchset")

    def test_consent_assertion_is_not_a_login(self):
        challenge = self.challenge()
        consent = self.server.card(PATIENT, "1310000011", purpose="TREAT")
        r = self.login(challenge, consent)
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_unknown_patient_gets_a_challenge_but_no_token(self):
        challenge = self.challenge("pat-999999")
        r = self.login(challenge, self.server.card(PATIENT, "1310000011", purpose="TREAT"))
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_modified_challenge_is_refused(self):
        parts = self.challenge().split(".")
        parts[2] = str(int(parts[2]) + 3600)  # a later expiry
        r = self.login(".".join(parts), self.server.card(PATIENT, "1310000011", purpose="TREAT"))
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["error"], "invalid_grant")


class UrgentSearchTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ministry = cls.server.token_for("clerk", "ministry")
        r = cls.server.get("/fhir/Patient/" + PATIENT, token=ministry)
        assert r.status == 200, r.body
        cls.patient = r.json()

    def items(self, with_address=True):
        name = self.patient["name"][0]
        query = {"name": name["family"] + " " + name["given"][0],
                 "birthdate": self.patient["birthDate"], "gender": self.patient["gender"]}
        if with_address:
            query["address"] = self.patient["address"][0]["state"]
        return query

    def find(self, practitioner, query, purpose, consent, reason=""):
        headers = {"X-Purpose-Of-Use": purpose, "X-Consent": consent}
        if reason:
            headers["X-Access-Reason"] = urllib.parse.quote(reason)
        return self.server.get("/fhir/Patient/$find-urgent?" + urllib.parse.urlencode(query),
                               headers=headers, token=self.server.token(practitioner))

    @staticmethod
    def ids(bundle):
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    def test_emergency_physician_finds_the_patient_by_four_items(self):
        r = self.find(EMERGENCY_HOSPITAL_PHYSICIAN, self.items(), "ETREAT", "cannot-obtain", "意識不明で搬送")
        self.assertEqual(r.status, 200, r.body)
        bundle = r.json()
        self.assertNotIn("total", bundle)
        self.assertIn(PATIENT, self.ids(bundle))
        self.assertLessEqual(len(self.ids(bundle)), 5)
        found = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == PATIENT)
        self.assertNotIn("identifier", found)
        self.assertEqual(set(found["address"][0]), {"state", "city"})

    def test_emergency_search_needs_the_fourth_item(self):
        r = self.find(EMERGENCY_HOSPITAL_PHYSICIAN, self.items(False), "ETREAT", "cannot-obtain", "意識不明")
        self.assertEqual(r.status, 400, r.body)

    def test_clinic_claiming_emergency_is_refused(self):
        r = self.find(CLINIC_PHYSICIAN, self.items(), "ETREAT", "cannot-obtain", "意識不明")
        self.assertEqual(r.status, 403, r.body)

    def test_disaster_search_inside_the_declared_region_only(self):
        ministry = self.server.token_for("clerk", "ministry")
        declaration = {"resourceType": "Parameters", "parameter": [
            {"name": "prefecture", "valueString": "13"},
            {"name": "start", "valueDateTime": "2020-01-01T00:00:00Z"},
            {"name": "end", "valueDateTime": "2099-01-01T00:00:00Z"}]}
        r = self.server.post("/fhir/Basic/$declare-disaster", declaration, token=ministry)
        self.assertEqual(r.status, 201, r.body)
        query = self.items(False)
        query["name"] = self.patient["name"][1]["family"] + self.patient["name"][1]["given"][0]  # kana
        r = self.find(CLINIC_PHYSICIAN, query, "DISASTER", "verbal")
        if r.status == 422:  # more than five namesakes born the same day: narrow by address
            query["address"] = self.patient["address"][0]["state"]
            r = self.find(CLINIC_PHYSICIAN, query, "DISASTER", "verbal")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(PATIENT, self.ids(r.json()))
        # Osaka (27) is outside the declared region.
        r = self.find(OSAKA_HOSPITAL_PHYSICIAN, query, "DISASTER", "verbal")
        self.assertEqual(r.status, 403, r.body)
