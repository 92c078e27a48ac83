"""_sort on the clinical searches over HTTP (issue "Clinical information sharing"): lab results
newest or oldest first by their effective time, paged one at a time through the `next` links
(every result exactly once, ties broken by id, results without a date last), the order carried
in the self and next links, and orders a type does not have refused with the allowed ones."""

import os
import urllib.parse

from harness import ServerTestCase

HERE = os.path.dirname(os.path.abspath(__file__))

# The register-items helpers of the clinical scenario.
from test_clinical import REGISTER, load, refs  # noqa: E402


def links(page):
    return {l["relation"]: l["url"] for l in page.get("link", [])}


class SortTest(ServerTestCase):
    patients = 20

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        active = [p for p in cls.server.manifest["patients"] if p.get("coverage") == "active"]
        cls.patient = active[3]
        cls.doctor = cls.server.token_for("physician", "hospital")  # 1310000011, the sender
        # Two lab bundles: effective times with a tie across them and one result without any.
        first = load("observation", cls.patient, "sort-1")
        second = load("observation", cls.patient, "sort-2")
        cls.dates = {}
        plan = [(first, ["2025-05-20T09:30:00+09:00", "2025-03-01T10:00:00+09:00", None]),
                (second, ["2025-05-20T09:30:00+09:00", "2025-07-01T08:00:00+09:00",
                          "2024-12-31T23:00:00+09:00"])]
        for bundle, dates in plan:
            observations = [e["resource"] for e in bundle["entry"]
                            if e["resource"]["resourceType"] == "Observation"]
            assert len(observations) == len(dates)
            for obs, date in zip(observations, dates):
                if date is None:
                    obs.pop("effectiveDateTime", None)
                else:
                    obs["effectiveDateTime"] = date
            r = cls.server.post(REGISTER, bundle, token=cls.doctor)
            if r.status != 200:
                raise AssertionError(f"registration failed: {r.status} {r.body}")
            for ref in refs(r.json()):
                item = cls.server.get("/fhir/" + ref, token=cls.doctor)
                assert item.status == 200, item.body
                cls.dates[ref.split("/")[1]] = item.json().get("effectiveDateTime")

    def base(self):
        return f"/fhir/Observation?patient=Patient/{self.patient['id']}"

    def expected(self, descending):
        """Dated results by instant (ties by id) in the asked direction, then the undated by id
        in the same direction."""
        from datetime import datetime
        dated = [(datetime.fromisoformat(d), i) for i, d in self.dates.items() if d]
        undated = sorted((i for i, d in self.dates.items() if not d), reverse=descending)
        return [i for _, i in sorted(dated, reverse=descending)] + undated

    def page_through(self, url, count):
        seen, pages = [], 0
        while url:
            r = self.server.get(url, token=self.doctor)
            self.assertEqual(r.status, 200, r.body)
            page = r.json()
            self.assertEqual(page["total"], 6)
            matches = [e["resource"]["id"] for e in page.get("entry", [])
                       if e.get("search", {}).get("mode") == "match"]
            self.assertLessEqual(len(matches), count)
            seen += matches
            pages += 1
            self.assertLess(pages, 20, "paging does not end")
            nav = links(page)
            self.assertIn("_sort=", nav["self"])
            nxt = nav.get("next")
            if nxt:
                self.assertTrue(nxt.startswith(self.server.base_url), nxt)
                url = nxt[len(self.server.base_url):]
            else:
                url = None
        return seen

    def test_newest_first_one_per_page_through_next_links(self):
        self.assertEqual(len(self.dates), 6)
        seen = self.page_through(self.base() + "&_sort=-date&_count=1", 1)
        self.assertEqual(seen, self.expected(True))
        self.assertEqual(len(set(seen)), 6)
        # The newest is the July result, the undated one is last.
        self.assertEqual(self.dates[seen[0]], "2025-07-01T08:00:00+09:00")
        self.assertIsNone(self.dates[seen[-1]])

    def test_oldest_first_and_with_criteria(self):
        seen = self.page_through(self.base() + "&_sort=date&_count=2", 2)
        self.assertEqual(seen, self.expected(False))
        self.assertEqual(self.dates[seen[0]], "2024-12-31T23:00:00+09:00")
        self.assertIsNone(self.dates[seen[-1]])
        # With a date range the undated result is not a match at all.
        r = self.server.get(self.base() + "&date=ge2025-01-01&_sort=-date&_count=10",
                            token=self.doctor)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([e["resource"]["id"] for e in r.json().get("entry", [])
                          if e.get("search", {}).get("mode") == "match"],
                         [i for i in self.expected(True)
                          if self.dates[i] and self.dates[i] >= "2025"])

    def test_self_and_next_links_carry_the_order(self):
        r = self.server.get(self.base() + "&_sort=-date&_count=2", token=self.doctor)
        self.assertEqual(r.status, 200, r.body)
        nav = links(r.json())
        for rel in ("self", "next"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(nav[rel]).query)
            self.assertEqual(query["_sort"], ["-date"], nav[rel])
        # A cursor made under one order is refused under another, not misread.
        nxt = nav["next"][len(self.server.base_url):]
        flipped = nxt.replace("_sort=-date", "_sort=date")
        self.assertNotEqual(flipped, nxt)
        r = self.server.get(flipped, token=self.doctor)
        self.assertEqual(r.status, 400, r.body)

    def test_unknown_order_is_400_naming_the_allowed_ones(self):
        for order in ("-code", "birthdate", "date,_id", "-_id"):
            r = self.server.get(self.base() + "&_sort=" + urllib.parse.quote(order),
                                token=self.doctor)
            self.assertEqual(r.status, 400, order)
            doc = r.json()
            self.assertEqual(doc["resourceType"], "OperationOutcome")
            text = " ".join(i.get("diagnostics", "") for i in doc["issue"])
            self.assertIn("date, -date, _lastUpdated, -_lastUpdated, _id", text)
        # A type without a date parameter does not take it.
        r = self.server.get("/fhir/Patient?_sort=-date", token=self.doctor)
        self.assertEqual(r.status, 400, r.body)
        text = " ".join(i.get("diagnostics", "") for i in r.json()["issue"])
        self.assertIn("_lastUpdated, -_lastUpdated, _id", text)
        self.assertNotIn("-date,", text)

    def test_other_clinical_searches_take_the_date_order(self):
        pid = self.patient["id"]
        for path in (f"/fhir/Condition?patient=Patient/{pid}&_sort=-date",
                     f"/fhir/AllergyIntolerance?patient=Patient/{pid}&_sort=date",
                     f"/fhir/MedicationRequest?patient=Patient/{pid}&_sort=-date",
                     f"/fhir/MedicationRequest?patient=Patient/{pid}&source=document&_sort=date",
                     self.base() + "&_sort=_lastUpdated"):
            r = self.server.get(path, token=self.doctor)
            self.assertEqual(r.status, 200, f"{path}: {r.body}")
            self.assertIn("_sort=", links(r.json())["self"])
