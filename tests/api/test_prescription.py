"""Electronic prescriptions over HTTP (issue 4): prescribe -> access code -> a pharmacy
receives -> dispenses -> another clinic prescribing the same ingredient gets a duplicate alert;
two pharmacies racing for one prescription; dummy codes and bad check digits refused; retries
with the same X-Request-Id create nothing new."""

import json
import threading
import uuid

from harness import ServerTestCase, run

YJ = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code"
MEMBER = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
AMLODIPINE = "2171022F2025"        # ノルバスク錠５ｍｇ
AMLODIPINE_OTHER = "2171022F2041"  # another product of the same ingredient

PRESCRIBE = "/fhir/MedicationRequest/$prescribe"
RECEIVE = "/fhir/MedicationRequest/$receive"
DISPENSE = "/fhir/MedicationDispense/$dispense"
CHECK = "/fhir/MedicationRequest/$check"


def member_id(patient):
    ins = patient["insurance"]
    return f'{ins["insurer"]}:{ins["symbol"]}:{ins["number"]}:{ins["branch"]}'


def bundle(patient, codes, days=28):
    entries = [
        {"resource": {"resourceType": "Composition", "status": "final"}},
        {"resource": {"resourceType": "Patient",
                      "identifier": [{"system": MEMBER, "value": member_id(patient)}]}},
    ]
    for code in codes:
        entries.append({"resource": {
            "resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": YJ, "code": code}]},
            "dosageInstruction": [{"text": "1日1回朝食後"}],
            "dispenseRequest": {"expectedSupplyDuration": {"value": days, "unit": "日",
                                                           "system": "http://unitsofmeasure.org",
                                                           "code": "d"}}}})
    return {"resourceType": "Bundle", "type": "document", "entry": entries}


def params(*items):
    return {"resourceType": "Parameters", "parameter": list(items)}


def value(doc, name):
    for p in doc["parameter"]:
        if p["name"] == name:
            for k, v in p.items():
                if k.startswith("value") or k == "resource":
                    return v
    return None


def alerts(doc, index=0):
    items = [p for p in doc["parameter"] if p["name"] == "item"]
    out = []
    for part in items[index]["part"]:
        if part["name"] == "alert":
            out.append({a["name"]: next(v for k, v in a.items() if k.startswith("value"))
                        for a in part["part"]})
    return out


class PrescriptionTest(ServerTestCase):
    def doctor(self, facility_type):
        return self.server.token_for("physician", facility_type)

    def pharmacist(self, facility_code):
        for p in self.server.manifest["practitioners"]:
            if p["qualification"] == "pharmacist" and p["facility"] == facility_code:
                return self.server.token(p["id"])
        self.fail("no pharmacist at " + facility_code)

    def prescribe(self, patient, codes, facility_type="hospital", headers=None):
        return self.server.post(PRESCRIBE, bundle(patient, codes), token=self.doctor(facility_type),
                                headers=headers)

    def receive(self, token, code, patient):
        return self.server.post(RECEIVE, params({"name": "accessCode", "valueString": code},
                                                {"name": "insuredNumber",
                                                 "valueString": member_id(patient)}), token=token)

    def test_prescribe_receive_dispense_then_duplicate_elsewhere(self):
        patient = self.patient(0)
        r = self.prescribe(patient, [AMLODIPINE])
        self.assertEqual(r.status, 201, r.body)
        rx = r.json()
        self.assertEqual(value(rx, "status"), "active")
        code = value(rx, "accessCode")
        self.assertEqual(len(code), 10)

        pharmacy = self.pharmacist("1340000013")
        r = self.receive(pharmacy, code, patient)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(value(r.json(), "prescription")["resourceType"], "Bundle")

        dispense = {"name": "dispense", "resource": {
            "resourceType": "MedicationDispense", "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": YJ, "code": AMLODIPINE_OTHER}]},
            "daysSupply": {"value": 28, "code": "d"}}}
        r = self.server.post(DISPENSE, params({"name": "prescriptionId",
                                               "valueString": value(rx, "prescriptionId")}, dispense),
                             token=pharmacy)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(alerts(r.json()), [])

        # Another clinic prescribes the same ingredient: one duplicate, without details (no
        # consent at that clinic), never naming the other drug or facility.
        r = self.prescribe(patient, [AMLODIPINE], facility_type="clinic")
        self.assertEqual(r.status, 201, r.body)
        found = alerts(r.json())
        self.assertEqual(found, [{"kind": "duplicate"}])
        self.assertFalse(value(r.json(), "detailsShown"))
        self.assertNotIn("1340000013", r.body)

        # The check says the same and can be repeated.
        body = params({"name": "patient", "valueReference": {"reference": "Patient/" + patient["id"]}},
                      {"name": "medication", "part": [{"name": "code", "valueCode": AMLODIPINE},
                                                      {"name": "daysSupply", "valueInteger": 7}]})
        for _ in range(2):
            r = self.server.post(CHECK, body, token=self.doctor("clinic"))
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(alerts(r.json()), [{"kind": "duplicate"}])

    def test_two_pharmacies_racing_exactly_one_wins(self):
        patient = self.patient(1)
        tokens = [self.pharmacist("1340000013"), self.pharmacist("2740000019")]
        for round_no in range(15):
            r = self.prescribe(patient, [AMLODIPINE])
            self.assertEqual(r.status, 201, r.body)
            code = value(r.json(), "accessCode")
            statuses = []
            barrier = threading.Barrier(2)

            def race(token):
                barrier.wait(timeout=30)
                statuses.append(self.receive(token, code, patient).status)

            threads = [threading.Thread(target=race, args=(t,)) for t in tokens]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            self.assertEqual(sorted(statuses), [200, 409], f"round {round_no}")

    def test_dummy_code_and_bad_check_digit_refused(self):
        patient = self.patient(2)
        r = self.prescribe(patient, [AMLODIPINE, "666660000"])
        self.assertEqual(r.status, 422, r.body)
        issues = r.issues()
        self.assertEqual(len(issues), 1)
        self.assertEqual(issues[0]["expression"],
                         ["Bundle.entry[3].resource.medicationCodeableConcept.coding[0].code"])
        r = self.prescribe(patient, ["2171022F2026"])  # the check digit of 2171022F202_ is 5
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("Bundle.entry[2]", r.body)

    def test_retry_with_same_request_id_creates_nothing_new(self):
        patient = self.patient(3)
        key = {"X-Request-Id": str(uuid.uuid4())}
        first = self.prescribe(patient, [AMLODIPINE], headers=key)
        again = self.prescribe(patient, [AMLODIPINE], headers=key)
        self.assertEqual(first.status, 201, first.body)
        self.assertEqual(again.status, 201, again.body)
        self.assertEqual(value(first.json(), "prescriptionId"), value(again.json(), "prescriptionId"))
        self.assertEqual(value(first.json(), "accessCode"), value(again.json(), "accessCode"))
        # A new request id is a new prescription.
        other = self.prescribe(patient, [AMLODIPINE], headers={"X-Request-Id": str(uuid.uuid4())})
        self.assertNotEqual(value(other.json(), "prescriptionId"), value(first.json(), "prescriptionId"))

    def test_clerk_may_not_check(self):
        patient = self.patient(0)
        body = params({"name": "patient", "valueReference": {"reference": "Patient/" + patient["id"]}},
                      {"name": "medication", "part": [{"name": "code", "valueCode": AMLODIPINE},
                                                      {"name": "daysSupply", "valueInteger": 7}]})
        r = self.server.post(CHECK, body, token=self.server.token_for("clerk", "clinic"))
        self.assertEqual(r.status, 403, r.body)

    def test_a_hidden_prescription_is_counted_nowhere(self):
        patient = self.patient(5)
        r = self.prescribe(patient, [AMLODIPINE, "2325003F2020"])
        self.assertEqual(r.status, 201, r.body)
        hospital = self.doctor("hospital")
        search = f"/fhir/MedicationRequest?patient=Patient/{patient['id']}"
        own = self.server.get(search, token=hospital).json()
        self.assertEqual(own["total"], 2)
        hidden = "MedicationRequest/" + own["entry"][0]["resource"]["id"]
        me = run(["card", "login", "--keys", self.server.keys, "--patient", patient["id"],
                  "--url", self.server.base_url]).stdout.strip()
        body = {"resourceType": "Parameters", "parameter": [{"name": "hide", "valueString": hidden}]}
        self.assertEqual(self.server.post("/fhir/Consent/$restrictions", body, token=me).status, 200)

        # Another facility with a consent: the hidden one is in neither the page nor the total.
        clinic = self.server.consent_for(patient["id"], "physician", "clinic")
        found = self.server.get(search + "&_count=1", token=clinic).json()
        self.assertEqual(found["total"], 1)
        ids = [e["resource"]["id"] for e in found.get("entry", []) if e["search"]["mode"] == "match"]
        self.assertNotIn(hidden.split("/")[1], ids)
        self.assertFalse([l for l in found.get("link", []) if l["relation"] == "next"])
        # The prescribing hospital still sees both; a facility without a basis sees only its own
        # (none) and is told why.
        self.assertEqual(self.server.get(search, token=hospital).json()["total"], 2)
        pharmacy = self.server.token_for("pharmacist", "pharmacy")
        bare = self.server.get(search, token=pharmacy).json()
        self.assertEqual(bare["total"], 0)
        self.assertIn("own items", json.dumps(bare))


if __name__ == "__main__":
    import unittest
    unittest.main()
