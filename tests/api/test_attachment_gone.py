"""Attachments of deleted documents over HTTP (issue 5: "after deletion, 410 Gone"). Once the
retention sweeper (`renkei retention run --now TIME`) has deleted a referral letter, reading one
of its attachments by hash answers 410 Gone to those who could have read the letter (its
addressee with the patient's consent, its author) and 404, as for a hash never seen, to everyone
else: a hash names content, so its existence is never confirmed to a principal who could not
have read it. The answer does not depend on whether the file itself was released yet."""

import base64
import datetime
import hashlib
import secrets

from harness import ServerTestCase
from test_documents import referral, SUBMIT


def later(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def unique_letter(patient):
    """The referral test letter with a PDF attachment of its own (a trailing PDF comment), so
    that no other letter holds the same hash."""
    letter, _ = referral(patient)
    attachment = letter["entry"][8]["resource"]["content"][0]["attachment"]
    pdf = base64.b64decode(attachment["data"]) + b"\n%" + secrets.token_hex(8).encode() + b"\n"
    attachment["data"] = base64.b64encode(pdf).decode()
    return letter, hashlib.sha256(pdf).hexdigest()


class AttachmentGoneTest(ServerTestCase):
    patients = 20

    def send(self, patient, token, consent):
        letter, sha = unique_letter(patient)
        headers = {"X-Patient-Consent": "referring-facility"} if consent else None
        sent = self.server.post(SUBMIT, letter, token=token, headers=headers)
        self.assertEqual(sent.status, 201, sent.body)
        return sent.json()["id"], sha

    def binary(self, sha, token):
        return self.server.get("/fhir/Binary/" + sha, token=token)

    def test_attachments_of_deleted_letters(self):
        hospital = self.at("physician", "1310000011")   # the author
        clinic = self.at("physician", "1310000029")     # the addressee
        osaka = self.at("physician", "2710000017")      # never allowed
        clerk = self.at("clerk", "1310000029")          # the addressee's clerk: not a reader

        # A letter the clinic may read (consent at the referring facility) and retrieves, and one
        # pending the patient's consent, which the clinic never could read.
        readable, readable_sha = self.send(self.patient(0), hospital, consent=True)
        pending, pending_sha = self.send(self.patient(1), hospital, consent=False)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{readable}", token=clinic).status, 200)
        self.assertEqual(self.binary(readable_sha, clinic).status, 200)
        self.assertEqual(self.binary(readable_sha, osaka).status, 403)
        self.assertEqual(self.binary(pending_sha, clinic).status, 403)

        # Eight days after retrieval the retrieved letter is deleted (and its own PDF released).
        report = self.server.retention(later(8))
        self.assertEqual(report["deleted"], 1, report)
        self.assertEqual(self.server.get(f"/fhir/Bundle/{readable}", token=clinic).status, 410)
        for token in (clinic, hospital):
            r = self.binary(readable_sha, token)
            self.assertEqual(r.status, 410, r.body)
            self.assertEqual(r.json()["resourceType"], "OperationOutcome")
            self.assertNotIn(readable, r.body)
        for token in (osaka, clerk):
            r = self.binary(readable_sha, token)
            self.assertEqual(r.status, 404, r.body)
        # Exactly the answer for a hash nobody ever sent.
        never = self.binary(hashlib.sha256(b"never sent").hexdigest(), osaka)
        self.assertEqual(never.status, 404)
        self.assertEqual(self.binary(readable_sha, osaka).body, never.body)

        # The pending letter is still there: its attachment is not gone.
        self.assertEqual(self.binary(pending_sha, hospital).status, 200)

        # After 180 days the unretrieved letter goes too: its author learns it is gone, the
        # addressee (who was never let in) does not learn it existed.
        report = self.server.retention(later(181))
        self.assertEqual(report["deleted"], 1, report)
        self.assertEqual(self.binary(pending_sha, hospital).status, 410)
        self.assertEqual(self.binary(pending_sha, clinic).status, 404)
        self.assertEqual(self.binary(pending_sha, osaka).status, 404)

    def test_without_a_token_nothing_is_told(self):
        self.assertEqual(self.binary("0" * 64, None).status, 401)
