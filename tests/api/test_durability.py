"""Acknowledged writes survive kill -9 of the server (DESIGN.md §3.3): many rounds of writes in
flight, a SIGKILL at a random moment, a restart, and every acknowledged write is there."""

import json
import random
import signal
import threading
import time
import unittest

from harness import Server

ROUNDS = 12
WRITERS = 4
MEMBER = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"


class KillNineTest(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        server = Server(patients=10)
        try:
            server.start()
            insurer = server.facility("insurer")["code"]
            acknowledged = []
            lock = threading.Lock()
            rng = random.Random(20261121)
            serial = [0]

            for round_no in range(ROUNDS):
                token = server.token_for("clerk", "insurer") if round_no == 0 else server.token(
                    server.practitioner("clerk", "insurer")["id"], fresh=True)
                stop = threading.Event()

                def writer():
                    while not stop.is_set():
                        with lock:
                            serial[0] += 1
                            n = serial[0]
                        doc = {"resourceType": "Patient",
                               "identifier": [{"system": MEMBER, "value": f"{insurer}::9{n:07d}:01"}],
                               "name": [{"family": "耐久", "given": [str(n)]}],
                               "gender": "other", "birthDate": "2000-01-01"}
                        try:
                            r = server.post("/fhir/Patient", doc, token=token)
                        except Exception:
                            return  # connection cut by the kill: not acknowledged
                        if r.status == 201:
                            with lock:
                                acknowledged.append(json.loads(r.body)["id"])

                threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
                for t in threads:
                    t.start()
                time.sleep(0.2 + rng.random() * 0.6)
                server.proc.send_signal(signal.SIGKILL)
                server.proc.wait()
                stop.set()
                for t in threads:
                    t.join(timeout=60)
                server.start(seed=False)

            self.assertGreater(len(acknowledged), ROUNDS, "too few writes were acknowledged to test anything")
            token = server.token_for("clerk", "ministry")  # the registry's own reads (HOPERAT)
            missing = [pid for pid in acknowledged
                       if server.get("/fhir/Patient/" + pid, token=token).status != 200]
            self.assertEqual(missing, [], f"{len(missing)} of {len(acknowledged)} acknowledged writes lost")
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
