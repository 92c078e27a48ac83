"""Japanese names are data: rare kanji and ideographic variation sequences round-trip byte for
byte; kana searches match across full/half width and hiragana/katakana (DESIGN.md §3.7)."""

import json
import urllib.parse

from harness import ServerTestCase

IDE = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
MEMBER = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"

# 𠮷 (U+20BB7, outside the BMP), 葛󠄀 (U+845B + VS17 U+E0100), 髙 and 﨑 (compatibility ideograph
# U+FA11), 邊 and 󠄂 variation: names the current national system shows as ●.
RARE_FAMILY = "𠮷田葛\U000E0100"
RARE_GIVEN = "髙﨑邊\U000E0102"


class NamesTest(ServerTestCase):
    def create(self, family, given, kana_family, kana_given, number):
        insurer = self.server.facility("insurer")["code"]
        doc = {
            "resourceType": "Patient",
            "identifier": [{"system": MEMBER, "value": f"{insurer}::{number}:01"}],
            "name": [
                {"extension": [{"url": IDE, "valueCode": "IDE"}], "text": f"{family} {given}",
                 "family": family, "given": [given]},
                {"extension": [{"url": IDE, "valueCode": "SYL"}], "text": f"{kana_family} {kana_given}",
                 "family": kana_family, "given": [kana_given]},
            ],
            "gender": "female",
            "birthDate": "1944-04-01",
        }
        r = self.server.post("/fhir/Patient", doc, token=self.server.token_for("clerk", "insurer"))
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def test_rare_kanji_and_variation_sequences_round_trip(self):
        pid = self.create(RARE_FAMILY, RARE_GIVEN, "ヨシダ", "タカサキ", "770001")
        # A person registered just now has no card yet: the ministry's registry read (HOPERAT).
        r = self.server.get("/fhir/Patient/" + pid, token=self.server.token_for("clerk", "ministry"))
        self.assertEqual(r.status, 200, r.body)
        name = r.json()["name"][0]
        self.assertEqual(name["family"].encode("utf-8"), RARE_FAMILY.encode("utf-8"))
        self.assertEqual(name["given"][0].encode("utf-8"), RARE_GIVEN.encode("utf-8"))
        self.assertIn("\U000E0100".encode("utf-8"), r.body.encode("utf-8"))

    def test_kana_search_matches_width_and_script_variants(self):
        pid = self.create("山田", "太郎", "ヤマダ", "タロウ", "770002")
        # Finding people by name across the registry is the ministry's registry work (HOPERAT).
        token = self.server.token_for("clerk", "ministry")
        for query in ["ヤマダタロウ", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞﾀﾛｳ", "やまだ　たろう", "山田太郎"]:
            r = self.server.get("/fhir/Patient?name=" + urllib.parse.quote(query) + "&_count=100", token=token)
            self.assertEqual(r.status, 200, r.body)
            ids = [e["resource"]["id"] for e in r.json().get("entry", [])]
            self.assertIn(pid, ids, f"{query!r} did not find the patient")

    def test_kana_prefix_search(self):
        pid = self.create("牧野", "爛漫", "マキノ", "ランマン", "770003")
        token = self.server.token_for("clerk", "ministry")
        r = self.server.get("/fhir/Patient?name=" + urllib.parse.quote("ﾏｷﾉ") + "&_count=100", token=token)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(pid, [e["resource"]["id"] for e in r.json().get("entry", [])])
        r = self.server.get("/fhir/Patient?name:exact=" + urllib.parse.quote("まきの") + "&_count=100", token=token)
        self.assertIn(r.status, (200, 400))

    def test_invalid_utf8_is_refused(self):
        insurer = self.server.facility("insurer")["code"]
        body = ('{"resourceType":"Patient","identifier":[{"system":"%s","value":"%s::770004:01"}],'
                '"name":[{"family":"' % (MEMBER, insurer)).encode() + b"\xff\xfe" + b'"}],"gender":"male"}'
        r = self.server.request("POST", "/fhir/Patient", raw=body, token=self.server.token_for("clerk", "insurer"))
        self.assertEqual(r.status, 400, r.body)


if __name__ == "__main__":
    import unittest
    unittest.main()
