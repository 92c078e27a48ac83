"""The 5 registered items over HTTP (issue 5): registration of JP-CLINS bundles (replacement by
bundle identifier, deletion by a Patient-only bundle, all or nothing), read, search and
$summary through the access policy: undisclosed diagnoses hidden from the patient and shown to a
consented facility with the flag's date, not-to-provide items shown to no other facility, items
the patient hid absent from search, totals, paging and the summary; emergency viewing."""

import copy
import json
import os
import threading
import urllib.parse

from harness import ServerTestCase, run

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = os.path.join(HERE, "..", "clinical", "valid")
REGISTER = "/fhir/Bundle/$register-items"
MEMBER = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
REASON = urllib.parse.quote("意識障害で救急搬送")
ETREAT = {"X-Purpose-Of-Use": "ETREAT", "X-Access-Reason": REASON, "X-Consent": "cannot-obtain"}


def member_id(patient):
    ins = patient["insurance"]
    return f'{ins["insurer"]}:{ins["symbol"]}:{ins["number"]}:{ins["branch"]}'


def load(name, patient, local_id=None):
    """A bundle of tests/clinical/valid for the seeded patient (its insured-person id), under
    another bundle identifier when local_id is given."""
    bundle = json.load(open(os.path.join(VALID, name + ".json"), encoding="utf-8"))
    for ident in bundle["entry"][0]["resource"]["identifier"]:
        if ident["system"] == MEMBER:
            ident["value"] = member_id(patient)
    if local_id:
        facility, year, _ = bundle["identifier"]["value"].split("^")
        bundle["identifier"]["value"] = f"{facility}^{year}^{local_id}"
    return bundle


def refs(outcome):
    return [p["valueReference"]["reference"] for p in outcome["parameter"] if p["name"] == "item"]


def ids_of(searchset):
    return sorted(e["resource"]["id"] for e in searchset.get("entry", [])
                  if e.get("search", {}).get("mode") == "match")


def section(summary, code):
    composition = summary["entry"][0]["resource"]
    for s in composition["section"]:
        if s["code"]["coding"][0]["code"] == code:
            return [e["reference"] for e in s.get("entry", [])]
    raise AssertionError("no section " + code)


class ClinicalItemsTest(ServerTestCase):
    patients = 30

    def hospital_doctor(self):
        return self.server.token_for("physician", "hospital")  # 1310000011, the sender

    def register(self, bundle, token=None):
        return self.server.post(REGISTER, bundle, token=token or self.hospital_doctor())

    def login(self, patient_id):
        return run(["card", "login", "--keys", self.server.keys, "--patient", patient_id,
                    "--url", self.server.base_url]).stdout.strip()

    def search(self, path, token, **kw):
        r = self.server.get(path, token=token, **kw)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def assert_only_own(self, path, token):
        """A facility without a basis for other facilities' items finds none of them (here it
        registered none itself): total 0, and an outcome entry says why."""
        found = self.search(path, token)
        self.assertEqual(found["total"], 0)
        outcomes = [e["resource"] for e in found.get("entry", [])
                    if e.get("search", {}).get("mode") == "outcome"]
        self.assertEqual(len(outcomes), 1, found)
        self.assertIn("own items", outcomes[0]["issue"][0]["diagnostics"])

    # --- registration ---------------------------------------------------------------------
    def test_register_replace_and_delete_by_bundle_identifier(self):
        p = self.patient(0)
        r = self.register(load("condition", p, "replace-1"))
        self.assertEqual(r.status, 200, r.body)
        first = refs(r.json())
        self.assertEqual(len(first), 3)
        doctor = self.hospital_doctor()
        self.assertEqual(self.server.get("/fhir/" + first[1], token=doctor).status, 200)

        # The same identifier again replaces everything registered under it.
        again = load("condition", p, "replace-1")
        again["entry"] = again["entry"][:2]
        r = self.register(again)
        self.assertEqual(r.status, 200, r.body)
        removed = next(x["valueInteger"] for x in r.json()["parameter"] if x["name"] == "removed")
        self.assertEqual(removed, 3)
        second = refs(r.json())
        self.assertEqual(len(second), 1)
        for old in first:
            self.assertEqual(self.server.get("/fhir/" + old, token=doctor).status, 410)
        found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", doctor)
        self.assertEqual(found["total"], 1)

        # A Patient-only bundle deletes it.
        deletion = load("condition", p, "replace-1")
        deletion["entry"] = deletion["entry"][:1]
        r = self.register(deletion)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.server.get("/fhir/" + second[0], token=doctor).status, 410)
        found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", doctor)
        self.assertEqual(found["total"], 0)

    def test_concurrent_sends_of_one_identifier_leave_one_registration(self):
        p = self.patient(8)
        bundle = load("condition", p, "race-1")
        for _ in range(5):
            results = []
            threads = [threading.Thread(target=lambda: results.append(self.register(bundle).status))
                       for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            self.assertEqual(results, [200, 200])
            found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", self.hospital_doctor())
            self.assertEqual(found["total"], 3)

    def test_invalid_and_unknown_patient_bundles_store_nothing(self):
        p = self.patient(1)
        bad = load("condition", p, "bad-1")
        del bad["entry"][1]["resource"]["onsetDateTime"]
        bad["entry"][2]["resource"]["meta"]["tag"][0]["code"] = "SECRET"
        r = self.register(bad)
        self.assertEqual(r.status, 422, r.body)
        texts = " ".join(i["diagnostics"] for i in r.issues())
        self.assertIn("renkei:condition-onset", texts)
        self.assertIn("renkei:flag-code", texts)
        self.assertTrue(all(i.get("expression") for i in r.issues()))

        unknown = load("condition", p, "bad-2")
        for ident in unknown["entry"][0]["resource"]["identifier"]:
            if ident["system"] == MEMBER:
                ident["value"] = "01130012:ない:99999999:01"
        r = self.register(unknown)
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("no registered patient", r.body)
        found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", self.hospital_doctor())
        self.assertEqual(found["total"], 0)

    def test_who_may_register(self):
        p = self.patient(2)
        pharmacist = self.server.token_for("pharmacist", "pharmacy")
        self.assertEqual(self.register(load("allergy", p), token=pharmacist).status, 403)
        # A clinic cannot send a bundle naming the hospital as its sender.
        clinic = self.server.token_for("physician", "clinic")
        r = self.register(load("allergy", p), token=clinic)
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("renkei:sender-facility", r.body)
        r = self.server.post(REGISTER, raw=b"<Bundle/>", token=self.hospital_doctor(),
                             headers={"Content-Type": "application/xml"})
        self.assertEqual(r.status, 415, r.body)
        self.assertEqual(self.server.post(REGISTER, load("allergy", p)).status, 401)

    def test_a_bundle_over_ten_megabytes_is_refused(self):
        p = self.patient(2)
        big = load("condition", p, "big-1")
        big["entry"][1]["resource"]["note"] = [{"text": "x" * 60000}] * 180
        r = self.register(big)
        self.assertEqual(r.status, 413, r.body[:300])

    def many_conditions(self, p, local_id, n):
        bundle = load("condition", p, local_id)
        template = copy.deepcopy(bundle["entry"][2])  # the long-term one, no hiding flag
        bundle["entry"] = bundle["entry"][:1]
        for i in range(n):
            e = copy.deepcopy(template)
            e["resource"]["id"] = f"m{i}"
            e["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
            bundle["entry"].append(e)
        return bundle

    def test_a_bundle_over_the_entry_limit_is_refused(self):
        p = self.patient(9)
        r = self.register(self.many_conditions(p, "many-1", 1000))  # 1,001 entries
        self.assertEqual(r.status, 413, r.body[:300])
        self.assertIn("at most 1000 entries", r.body)

    def test_the_summary_is_bounded_and_says_so(self):
        p = self.patient(9)
        r = self.register(self.many_conditions(p, "many-2", 501))
        self.assertEqual(r.status, 200, r.body[:300])
        summary = self.search(f"/fhir/Patient/{p['id']}/$summary", self.hospital_doctor())
        self.assertEqual(len(section(summary, "diagnoses")), 500)
        notices = [e["valueString"] for e in summary["entry"][0]["resource"].get("extension", [])]
        self.assertTrue(any("more than 500 Condition items" in n for n in notices), notices)
        # The search pages through all of them.
        self.assertEqual(self.search(f"/fhir/Condition?patient=Patient/{p['id']}&_count=0",
                                     self.hospital_doctor())["total"], 501)

    # --- the access policy ----------------------------------------------------------------
    def test_flags_and_consent_in_read_search_and_summary(self):
        p = self.patient(3)
        r = self.register(load("condition", p, "flags-1"))
        self.assertEqual(r.status, 200, r.body)
        uninformed, lts, undelivered = refs(r.json())
        self.assertEqual(self.register(load("allergy", p, "flags-2")).status, 200)
        self.assertEqual(self.register(load("observation", p, "flags-3")).status, 200)

        # The registering hospital sees its own items, flags included, without a consent.
        own = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", self.hospital_doctor())
        self.assertEqual(own["total"], 3)

        # Another facility without a consent: only its own items (none), and why.
        clinic = self.server.token_for("physician", "clinic")
        self.assert_only_own(f"/fhir/Condition?patient=Patient/{p['id']}", clinic)
        self.assertEqual(self.server.get("/fhir/" + lts, token=clinic).status, 403)
        bare = self.search(f"/fhir/Patient/{p['id']}/$summary", clinic)
        self.assertEqual(len(bare["entry"]), 1)  # the Composition alone
        self.assertIn("own items", json.dumps(bare))

        clinic = self.server.consent_for(p["id"], "physician", "clinic")
        found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", clinic)
        # Not-to-provide: shown to no other facility, counted nowhere.
        self.assertEqual(found["total"], 2)
        self.assertNotIn(undelivered.split("/")[1], ids_of(found))
        self.assertEqual(self.server.get("/fhir/" + undelivered, token=clinic).status, 403)
        # Undisclosed: shown to the facility with the flag's date.
        item = self.server.get("/fhir/" + uninformed, token=clinic)
        self.assertEqual(item.status, 200, item.body)
        ext = [e for e in item.json().get("extension", []) if e["url"].endswith("uninformed-since")]
        self.assertEqual(len(ext), 1)
        self.assertTrue(ext[0]["valueDateTime"])

        summary = self.search(f"/fhir/Patient/{p['id']}/$summary", clinic)
        self.assertEqual(summary["type"], "document")
        self.assertEqual(len(section(summary, "diagnoses")), 2)
        self.assertEqual(len(section(summary, "drug_allergies")), 2)
        self.assertEqual(len(section(summary, "other_allergies")), 3)
        self.assertEqual(len(section(summary, "infections")), 1)
        self.assertEqual(len(section(summary, "lab_results")), 2)
        text = json.dumps(summary)
        self.assertNotIn(undelivered.split("/")[1], text)

        # The patient: neither the undisclosed nor the not-to-provide diagnosis.
        me = self.login(p["id"])
        mine = self.search("/fhir/Condition", me)
        self.assertEqual(mine["total"], 1)
        self.assertEqual(ids_of(mine), [lts.split("/")[1]])
        self.assertEqual(self.server.get("/fhir/" + uninformed, token=me).status, 403)
        my_summary = self.search(f"/fhir/Patient/{p['id']}/$summary", me)
        mine = section(my_summary, "diagnoses")
        self.assertEqual(len(mine), 1)
        self.assertIn(lts.split("/")[1], mine[0])
        self.assertNotIn(uninformed.split("/")[1], json.dumps(my_summary))

    def test_consent_categories_and_qualifications(self):
        p = self.patient(4)
        self.assertEqual(self.register(load("condition", p, "cat-1")).status, 200)
        self.assertEqual(self.register(load("allergy", p, "cat-2")).status, 200)
        # A consent for checkup results only opens neither diagnoses nor allergies.
        clinic = self.server.consent_for(p["id"], "physician", "clinic", categories=("checkup",))
        self.assert_only_own(f"/fhir/Condition?patient=Patient/{p['id']}", clinic)
        # Pharmacists see allergies, not diagnoses.
        pharmacist = self.server.consent_for(p["id"], "pharmacist", "pharmacy")
        self.assertEqual(self.server.get(f"/fhir/Condition?patient=Patient/{p['id']}",
                                         token=pharmacist).status, 403)
        allergies = self.search(f"/fhir/AllergyIntolerance?patient=Patient/{p['id']}", pharmacist)
        self.assertEqual(allergies["total"], 5)
        summary = self.search(f"/fhir/Patient/{p['id']}/$summary", pharmacist)
        self.assertEqual(section(summary, "diagnoses"), [])
        self.assertEqual(len(section(summary, "drug_allergies")), 2)
        # Clerks never view clinical information.
        clerk = self.server.token_for("clerk", "hospital")
        self.assertEqual(self.server.get(f"/fhir/AllergyIntolerance?patient=Patient/{p['id']}",
                                         token=clerk).status, 403)

    def test_hidden_item_absent_from_search_totals_paging_and_summary(self):
        p = self.patient(5)
        r = self.register(load("allergy", p, "hide-1"))
        self.assertEqual(r.status, 200, r.body)
        items = refs(r.json())
        hidden = items[2]
        me = self.login(p["id"])
        body = {"resourceType": "Parameters", "parameter": [{"name": "hide", "valueString": hidden}]}
        r = self.server.post("/fhir/Consent/$restrictions", body, token=me)
        self.assertEqual(r.status, 200, r.body)

        clinic = self.server.consent_for(p["id"], "physician", "clinic")
        found = self.search(f"/fhir/AllergyIntolerance?patient=Patient/{p['id']}", clinic)
        self.assertEqual(found["total"], 4)
        seen, url = [], f"/fhir/AllergyIntolerance?patient=Patient/{p['id']}&_count=1"
        for _ in range(10):
            page = self.search(url, clinic)
            self.assertEqual(page["total"], 4)
            seen += ids_of(page)
            nxt = [l["url"] for l in page.get("link", []) if l["relation"] == "next"]
            if not nxt:
                break
            url = nxt[0][len(self.server.base_url):]
        self.assertEqual(len(seen), 4)
        self.assertNotIn(hidden.split("/")[1], seen)
        summary = self.search(f"/fhir/Patient/{p['id']}/$summary", clinic)
        self.assertNotIn(hidden.split("/")[1], json.dumps(summary))
        self.assertEqual(self.server.get("/fhir/" + hidden, token=clinic).status, 403)
        # The registering facility still sees its own item.
        own = self.search(f"/fhir/AllergyIntolerance?patient=Patient/{p['id']}",
                          self.hospital_doctor())
        self.assertEqual(own["total"], 5)

    def test_emergency_viewing_sees_what_it_may(self):
        p = self.patient(6)
        self.assertEqual(self.register(load("condition", p, "er-1")).status, 200)
        # The Ishikawa emergency hospital, without a consent, on the emergency basis.
        er = None
        for prac in self.server.manifest["practitioners"]:
            if prac["qualification"] == "physician" and prac["facility"] == "1710000013":
                er = self.server.token(prac["id"])
        self.assertIsNotNone(er)
        self.assert_only_own(f"/fhir/Condition?patient=Patient/{p['id']}", er)
        found = self.search(f"/fhir/Condition?patient=Patient/{p['id']}", er, headers=ETREAT)
        self.assertEqual(found["total"], 2)  # not the not-to-provide one
        summary = self.search(f"/fhir/Patient/{p['id']}/$summary", er, headers=ETREAT)
        self.assertEqual(len(section(summary, "diagnoses")), 2)
        # A clinic has no emergency basis.
        clinic = self.server.token_for("physician", "clinic")
        self.assertEqual(self.server.get(f"/fhir/Patient/{p['id']}/$summary", token=clinic,
                                         headers=ETREAT).status, 403)
        # The emergency read is in the audit log with its basis.
        ministry = self.server.token_for("clerk", "ministry")
        audit = self.search(f"/fhir/AuditEvent?patient={p['id']}&_count=100", ministry)
        self.assertIn("ETREAT", json.dumps(audit))

    def test_search_parameters(self):
        p = self.patient(7)
        self.assertEqual(self.register(load("observation", p, "params-1")).status, 200)
        doctor = self.hospital_doctor()
        base = f"/fhir/Observation?patient=Patient/{p['id']}"
        self.assertEqual(self.search(base, doctor)["total"], 3)
        coded = self.search(base + "&code=3A015000001827101", doctor)
        self.assertEqual(coded["total"], 1)
        self.assertEqual(self.search(base + "&facility=1310000011", doctor)["total"], 3)
        self.assertEqual(self.search(base + "&facility=2710000017", doctor)["total"], 0)
        self.assertEqual(self.search(base + "&_count=0", doctor)["total"], 3)
        # Effective time 2025-05-20 (Japan): day precision and ranges.
        self.assertEqual(self.search(base + "&date=2025-05-20", doctor)["total"], 3)
        self.assertEqual(self.search(base + "&date=lt2025-05-20", doctor)["total"], 0)
        self.assertEqual(self.search(base + "&date=ge2025-01-01&date=lt2026-01-01", doctor)["total"], 3)
        conditions = f"/fhir/Condition?patient=Patient/{p['id']}"
        self.assertEqual(self.register(load("condition", p, "params-2")).status, 200)
        # Onsets 2023-03-01, 2024-01-10, 2025-05-01.
        self.assertEqual(self.search(conditions + "&date=ge2024-01-01", doctor)["total"], 2)
        self.assertEqual(self.search(conditions + "&date=2023", doctor)["total"], 1)
        newest = self.search(conditions + "&_sort=-_lastUpdated&_count=1", doctor)
        self.assertEqual(len(ids_of(newest)), 1)
        self.assertEqual(self.server.get(base + "&colour=red", token=doctor).status, 400)
        # A search names its patient.
        self.assertEqual(self.server.get("/fhir/Observation", token=doctor).status, 400)
        self.assertEqual(self.server.get("/fhir/Observation/unknown-id", token=doctor).status, 404)
