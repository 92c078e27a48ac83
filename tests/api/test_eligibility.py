"""Online eligibility verification by card and by insurance numbers (資格確認書)."""

from harness import ServerTestCase


def params(**values):
    out = []
    for name, value in values.items():
        if value is None:
            continue
        key = "valueString" if name != "birthDate" else "valueDate"
        out.append({"name": name, key: value})
    return {"resourceType": "Parameters", "parameter": out}


def param(doc, name):
    for p in doc["parameter"]:
        if p["name"] == name:
            return p
    return None


class EligibilityTest(ServerTestCase):
    def patient_with(self, state):
        for p in self.server.manifest["patients"]:
            if p.get("coverage") == state:
                return p
        self.fail(f"seed has no patient with coverage state {state}")

    def verify(self, body, qualification="clerk", facility_type="clinic"):
        token = self.server.token_for(qualification, facility_type)
        return self.server.post("/fhir/Coverage/$verify-eligibility", body, token=token)

    def by_numbers(self, patient, **override):
        ins = dict(patient["insurance"])
        ins.update(override)
        return self.verify(params(insurer=ins["insurer"], symbol=ins["symbol"], number=ins["number"],
                                  branch=ins["branch"]))

    def test_eligible_by_numbers_as_clerk(self):
        r = self.by_numbers(self.patient_with("active"))
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertTrue(param(doc, "eligible")["valueBoolean"])
        self.assertEqual(param(doc, "reason")["valueCode"], "eligible")
        self.assertEqual(param(doc, "coverage")["resource"]["resourceType"], "Coverage")

    def test_full_width_digits_match(self):
        patient = self.patient_with("active")
        wide = patient["insurance"]["number"].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        r = self.by_numbers(patient, number=wide)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(param(r.json(), "eligible")["valueBoolean"])

    def test_lapsed(self):
        r = self.by_numbers(self.patient_with("lapsed"))
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(param(r.json(), "eligible")["valueBoolean"])
        self.assertEqual(param(r.json(), "reason")["valueCode"], "lapsed")

    def test_not_yet_valid(self):
        r = self.by_numbers(self.patient_with("future"))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(param(r.json(), "reason")["valueCode"], "not-yet-valid")

    def test_unknown_numbers(self):
        r = self.verify(params(insurer="06139999", symbol="", number="99999999", branch="01"))
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(param(r.json(), "eligible")["valueBoolean"])
        self.assertEqual(param(r.json(), "reason")["valueCode"], "unknown")

    def test_by_card(self):
        patient = self.patient_with("active")
        clinic = self.server.practitioner("clerk", "clinic")
        jws = self.server.card(patient["id"], clinic["facility"])
        r = self.verify(params(card=jws))
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(param(r.json(), "eligible")["valueBoolean"])
        self.assertEqual(param(r.json(), "patient")["resource"]["id"], patient["id"])
        # The same card assertion again is a replay.
        r = self.verify(params(card=jws))
        self.assertEqual(r.status, 401, r.body)

    def test_card_for_another_facility_or_stale_is_refused(self):
        patient = self.patient_with("active")
        pharmacy = self.server.facility("pharmacy")
        r = self.verify(params(card=self.server.card(patient["id"], pharmacy["code"])))
        self.assertEqual(r.status, 401, r.body)
        clinic = self.server.practitioner("clerk", "clinic")
        r = self.verify(params(card=self.server.card(patient["id"], clinic["facility"], age=3600)))
        self.assertEqual(r.status, 401, r.body)

    def test_malformed_request(self):
        r = self.verify({"resourceType": "Parameters", "parameter": [{"name": "insurer", "valueString": "12"}]})
        self.assertEqual(r.status, 400, r.body)
        self.assertTrue(r.issues())


if __name__ == "__main__":
    import unittest
    unittest.main()
