"""The three documents over HTTP (issue 5): a referral letter with a PDF and a discharge summary
attached is sent, the addressee lists it pending, cannot read it until the patient consents in
the portal, then retrieves it (marked retrieved) and its attachments by hash; the sender sees the
read receipt; a third facility is refused. A checkup report is seen by the patient, the insurer it
names and a facility under the checkup consent, and by no one else. Oversized bodies are refused."""

import base64
import copy
import hashlib
import json
import os

from harness import ServerTestCase, run

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTS = os.path.join(HERE, "..", "clinical", "documents")
CHECKUP = os.path.join(HERE, "..", "..", "data", "fhir", "examples",
                       "Bundle-Bundle-eCheckupReport-Sample-01.json")
SUBMIT = "/fhir/Bundle/$submit-document"
MEMBER = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
EXT = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPerson"
INSURER_SYSTEM = "urn:oid:1.2.392.100495.20.3.61"
FACILITY_SYSTEM = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"


def member_id(patient):
    ins = patient["insurance"]
    return f'{ins["insurer"]}:{ins["symbol"]}:{ins["number"]}:{ins["branch"]}'


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def referral(patient):
    """The referral letter test instance for a seeded patient, with the discharge summary test
    instance as its FHIR attachment."""
    b = load(os.path.join(DOCUMENTS, "referral.json"))
    b["entry"][1]["resource"]["identifier"][0]["value"] = member_id(patient)
    with open(os.path.join(DOCUMENTS, "discharge-summary.json"), "rb") as f:
        summary = f.read()
    b["entry"][9]["resource"]["content"][0]["attachment"]["data"] = base64.b64encode(summary).decode()
    return b, summary


def checkup(patient, author):
    """The checkup report example for a seeded patient (its Coverage and insurer), authored by
    a seeded facility."""
    b = load(CHECKUP)
    ins = patient["insurance"]
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Organization":
            for ident in r.get("identifier", []):
                if ident["system"] == INSURER_SYSTEM:
                    ident["value"] = ins["insurer"]
                if ident["system"] == FACILITY_SYSTEM:
                    ident["value"] = author
        if r["resourceType"] == "Coverage":
            for ext in r.get("extension", []):
                if ext["url"] == EXT + "Symbol":
                    ext["valueString"] = ins["symbol"]
                if ext["url"] == EXT + "Number":
                    ext["valueString"] = ins["number"]
                if ext["url"] == EXT + "SubNumber":
                    ext["valueString"] = ins["branch"]
    return b


def delivery(ref, url):
    for part in ref["extension"][0]["extension"]:
        if part["url"] == url:
            return part.get("valueString", part.get("valueBoolean"))
    return None


def param(params, name):
    for p in params["parameter"]:
        if p["name"] == name:
            return next(v for k, v in p.items() if k.startswith("value"))
    return None


class DocumentsTest(ServerTestCase):
    patients = 20

    def login(self, patient_id):
        return run(["card", "login", "--keys", self.server.keys, "--patient", patient_id,
                    "--url", self.server.base_url]).stdout.strip()

    def test_referral_lifecycle(self):
        p = self.patient(0)
        hospital = self.at("physician", "1310000011")
        clinic = self.at("physician", "1310000029")
        osaka = self.at("physician", "2710000017")
        letter, summary = referral(p)
        sent = self.server.post(SUBMIT, letter, token=hospital)
        self.assertEqual(sent.status, 201, sent.body)
        doc_id = sent.json()["id"]
        self.assertIn(f"/fhir/Bundle/{doc_id}", sent.headers.get("Location", ""))

        # The addressee's inbox: pending, not yet readable.
        inbox = self.server.get("/fhir/DocumentReference?addressee=1310000029&status=pending",
                                token=clinic)
        self.assertEqual(inbox.status, 200, inbox.body)
        refs = [e["resource"] for e in inbox.json().get("entry", [])]
        mine = [r for r in refs if r["id"] == doc_id]
        self.assertEqual(len(mine), 1)
        self.assertEqual(delivery(mine[0], "readable"), False)

        # Pending the patient's consent.
        r = self.server.get(f"/fhir/Bundle/{doc_id}", token=clinic)
        self.assertEqual(r.status, 403, r.body)
        self.assertIn("pending the patient's consent", r.body)
        self.assertEqual(param(self.server.get(f"/fhir/Bundle/{doc_id}/$receipt",
                                               token=hospital).json(), "status"), "pending")

        # The patient consents in the portal (pattern 2); the addressee retrieves it.
        me = self.login(p["id"])
        c = self.server.post(f"/fhir/Bundle/{doc_id}/$consent", token=me)
        self.assertEqual(c.status, 200, c.body)
        got = self.server.get(f"/fhir/Bundle/{doc_id}", token=clinic)
        self.assertEqual(got.status, 200, got.body)
        stored = got.json()
        self.assertEqual(stored["resourceType"], "Bundle")
        urls = [e["resource"]["content"][0]["attachment"]["url"] for e in stored["entry"]
                if e["resource"]["resourceType"] == "DocumentReference"]
        self.assertEqual(urls[1], "Binary/" + hashlib.sha256(summary).hexdigest())
        self.assertNotIn('"data"', json.dumps([e for e in stored["entry"]
                                               if e["resource"]["resourceType"] == "DocumentReference"]))

        # Attachments by hash, as sent.
        pdf = base64.b64decode(letter["entry"][8]["resource"]["content"][0]["attachment"]["data"])
        a = self.server.get("/fhir/" + urls[0], token=clinic)
        self.assertEqual(a.status, 200, a.body)
        self.assertTrue(a.headers.get("Content-Type", "").startswith("application/pdf"))
        b = self.server.get("/fhir/" + urls[1], token=clinic,
                            headers={"Accept": "application/fhir+json"})
        self.assertEqual(b.status, 200)
        self.assertEqual(base64.b64decode(b.json()["data"]), summary)
        self.assertEqual(a.body.encode("utf-8"), pdf)
        self.assertEqual(self.server.get("/fhir/" + urls[0], token=osaka).status, 403)

        # The read receipt.
        receipt = self.server.get(f"/fhir/Bundle/{doc_id}/$receipt", token=hospital).json()
        self.assertEqual(param(receipt, "status"), "retrieved")
        self.assertIsNotNone(param(receipt, "retrieved"))
        self.assertEqual(param(receipt, "consent"), "portal")
        sent_list = self.server.get("/fhir/DocumentReference?author=1310000011&status=retrieved",
                                    token=hospital).json()
        self.assertIn(doc_id, [e["resource"]["id"] for e in sent_list.get("entry", [])])

        # A third facility, even with a card consent, is refused; the patient's portal shows no
        # referral letters.
        self.server.consent(p["id"], osaka, "2710000017")
        r = self.server.get(f"/fhir/Bundle/{doc_id}", token=osaka)
        self.assertEqual(r.status, 403)
        self.assertIn("only the addressee", r.body)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{doc_id}", token=me).status, 403)
        self.assertEqual(self.server.get("/fhir/DocumentReference?addressee=1310000029",
                                         token=osaka).status, 403)

    def test_consent_at_the_referring_facility(self):
        p = self.patient(1)
        letter, _ = referral(p)
        sent = self.server.post(SUBMIT, letter, token=self.at("physician", "1310000011"),
                                headers={"X-Patient-Consent": "referring-facility"})
        self.assertEqual(sent.status, 201, sent.body)
        r = self.server.get(f"/fhir/Bundle/{sent.json()['id']}",
                            token=self.at("physician", "1310000029"))
        self.assertEqual(r.status, 200, r.body)

    def test_checkup_report_visibility(self):
        p = self.patient(2)
        clinic = self.at("physician", "1310000029")
        sent = self.server.post(SUBMIT, checkup(p, "1310000029"), token=clinic)
        self.assertEqual(sent.status, 201, sent.body)
        doc_id = sent.json()["id"]
        path = f"/fhir/Bundle/{doc_id}"
        listing = f"/fhir/DocumentReference?patient=Patient/{p['id']}"

        me = self.login(p["id"])
        self.assertEqual(self.server.get(path, token=me).status, 200)
        self.assertEqual(self.server.get(listing, token=me).json()["total"], 1)

        insurer = p["insurance"]["insurer"]
        other = "06270015" if insurer == "01130012" else "01130012"
        self.assertEqual(self.server.get(path, token=self.at("clerk", insurer)).status, 200)
        self.assertEqual(self.server.get(listing, token=self.at("clerk", insurer)).json()["total"], 1)
        self.assertEqual(self.server.get(path, token=self.at("clerk", other)).status, 403)

        hospital = self.at("physician", "1310000011")
        self.assertEqual(self.server.get(path, token=hospital).status, 403)
        self.assertEqual(self.server.get(listing, token=hospital).json()["total"], 0)
        self.server.consent(p["id"], hospital, "1310000011", categories=("checkup",))
        self.assertEqual(self.server.get(path, token=hospital).status, 200)
        self.assertEqual(self.server.get(listing, token=hospital).json()["total"], 1)

    def test_refusals_and_limits(self):
        p = self.patient(3)
        letter, _ = referral(p)
        # Not the author facility's practitioner; a clerk; an unknown patient.
        self.assertEqual(self.server.post(SUBMIT, letter, token=self.at("physician", "1310000029")).status,
                         403)
        self.assertEqual(self.server.post(SUBMIT, letter, token=self.at("clerk", "1310000011")).status, 403)
        unknown = copy.deepcopy(letter)
        unknown["entry"][1]["resource"]["identifier"][0]["value"] = "01130012::99999999:01"
        self.assertEqual(self.server.post(SUBMIT, unknown,
                                          token=self.at("physician", "1310000011")).status, 422)
        # A body over 10 MB is refused before it is read.
        big = self.server.request("POST", SUBMIT, raw=b"{" + b" " * (10 * 1024 * 1024 + 1) + b"}",
                                  token=self.at("physician", "1310000011"))
        self.assertEqual(big.status, 413)
        self.assertEqual(self.server.get("/fhir/Bundle/no-such-document",
                                         token=self.at("physician", "1310000029")).status, 404)


class DocumentPrescriptionsTest(ServerTestCase):
    """The 6th item, prescriptions, is taken from the medication sections of documents: found by
    MedicationRequest search with source=document and in the summary, under the access policy."""

    patients = 10

    def test_prescriptions_from_a_referral_letter(self):
        p = [x for x in self.server.manifest["patients"] if x.get("coverage") == "active"][0]
        hospital = self.server.token_for("physician", "hospital")
        letter, _ = referral(p)
        sent = self.server.post(SUBMIT, letter, token=hospital)
        self.assertEqual(sent.status, 201, sent.body)
        search = f"/fhir/MedicationRequest?patient=Patient/{p['id']}&source=document"
        # The author facility sees what it sent; another facility needs a consent.
        own = self.server.get(search, token=hospital)
        self.assertEqual(own.status, 200, own.body)
        self.assertEqual(own.json()["total"], 1)
        osaka = None
        for prac in self.server.manifest["practitioners"]:
            if prac["qualification"] == "physician" and prac["facility"] == "2710000017":
                osaka = self.server.token(prac["id"])
        # Without a consent: only its own (none).
        refused = self.server.get(search, token=osaka)
        self.assertEqual(refused.status, 200, refused.body)
        self.assertEqual(refused.json()["total"], 0)
        self.server.consent(p["id"], osaka, "2710000017")
        found = self.server.get(search, token=osaka)
        self.assertEqual(found.status, 200, found.body)
        self.assertEqual(found.json()["total"], 1)
        entry = found.json()["entry"][0]
        self.assertEqual(entry["resource"]["resourceType"], "MedicationRequest")
        self.assertTrue(entry["fullUrl"].startswith("urn:uuid:"))
        summary = self.server.get(f"/fhir/Patient/{p['id']}/$summary", token=osaka).json()
        sections = {s["code"]["coding"][0]["code"]: s for s in summary["entry"][0]["resource"]["section"]}
        self.assertEqual(len(sections["prescriptions"].get("entry", [])), 1)
        # The e-prescription search is unchanged, and a bad source is refused.
        self.assertEqual(self.server.get(f"/fhir/MedicationRequest?patient=Patient/{p['id']}",
                                         token=osaka).json()["total"], 0)
        self.assertEqual(self.server.get(search.replace("document", "fax"), token=osaka).status, 400)
