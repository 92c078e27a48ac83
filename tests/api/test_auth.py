"""Token flow (SMART Backend Services) against the real server: valid, wrong key, expired,
replayed assertion, unknown practitioner; and bearer checks on every request."""

import os
import urllib.parse

from harness import ServerTestCase, run

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenFlowTest(ServerTestCase):
    def exchange(self, assertion):
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": "system/*.read",
        }).encode()
        return self.server.request("POST", "/auth/token", raw=body,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})

    def assertion(self, practitioner, *extra):
        return run(["token", "--keys", self.server.keys, "--practitioner", practitioner,
                    "--url", self.server.base_url, "--assertion-only", *extra]).stdout.strip()

    def test_smart_configuration_is_public(self):
        r = self.server.get("/.well-known/smart-configuration")
        self.assertEqual(r.status, 200)
        conf = r.json()
        self.assertTrue(conf["token_endpoint"].endswith("/auth/token"))
        self.assertIn("private_key_jwt", conf["token_endpoint_auth_methods_supported"])
        self.assertIn("ES384", conf["token_endpoint_auth_signing_alg_values_supported"])

    def test_valid_assertion_gives_a_working_token(self):
        doctor = self.server.practitioner("physician", "hospital")
        r = self.exchange(self.assertion(doctor["id"]))
        self.assertEqual(r.status, 200, r.body)
        token = r.json()
        self.assertEqual(token["token_type"].lower(), "bearer")
        self.assertGreater(token["expires_in"], 0)
        self.assertLessEqual(token["expires_in"], 3600)
        self.assertEqual(self.server.get("/fhir/Organization?_count=1", token=token["access_token"]).status, 200)

    def test_replayed_assertion_is_refused(self):
        doctor = self.server.practitioner("physician", "clinic")
        assertion = self.assertion(doctor["id"])
        self.assertEqual(self.exchange(assertion).status, 200)
        r = self.exchange(assertion)
        self.assertIn(r.status, (400, 401))
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_expired_assertion_is_refused(self):
        doctor = self.server.practitioner("physician", "hospital")
        r = self.exchange(self.assertion(doctor["id"], "--assertion-lifetime", "-60"))
        self.assertIn(r.status, (400, 401))
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_assertion_signed_with_another_practitioners_key_is_refused(self):
        doctor = self.server.practitioner("physician", "hospital")
        pharmacist = self.server.practitioner("pharmacist", "pharmacy")
        other_key = os.path.join(self.server.keys, "practitioners", pharmacist["id"] + ".jwk")
        r = self.exchange(self.assertion(doctor["id"], "--key-file", other_key))
        self.assertIn(r.status, (400, 401))
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_unknown_practitioner_is_refused(self):
        doctor = self.server.practitioner("physician", "hospital")
        own_key = os.path.join(self.server.keys, "practitioners", doctor["id"] + ".jwk")
        r = self.exchange(self.assertion("no-such-practitioner", "--key-file", own_key,
                                         "--facility", doctor["facility"]))
        self.assertIn(r.status, (400, 401))
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_requests_without_or_with_a_bad_token_get_401(self):
        r = self.server.get("/fhir/Organization")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.issues()[0]["code"], "login")
        r = self.server.get("/fhir/Organization", token="not-a-token")
        self.assertEqual(r.status, 401)
        good = self.server.token_for("physician", "hospital")
        tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        self.assertEqual(self.server.get("/fhir/Organization", token=tampered).status, 401)


if __name__ == "__main__":
    import unittest
    unittest.main()
