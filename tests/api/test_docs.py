"""Runs every `sh` example of docs/API.md, in order and in one shell, against a freshly seeded
server, so the documentation cannot drift from what answers."""

import os
import re
import subprocess
import unittest

from harness import RENKEI, ServerTestCase

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "API.md")


class ApiDocExamplesTest(ServerTestCase):
    patients = 30

    def test_every_example_runs(self):
        with open(DOC, encoding="utf-8") as f:
            blocks = re.findall(r"```sh\n(.*?)```", f.read(), flags=re.S)
        self.assertGreater(len(blocks), 10)
        script = "set -e\n" + "\n".join(
            f"echo '=== example {i + 1}' >&2\n{block}" for i, block in enumerate(blocks))
        env = dict(os.environ, BASE=self.server.base_url, KEYS=self.server.keys,
                   DATA=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"),
                   PATH=os.path.dirname(os.path.abspath(RENKEI)) + os.pathsep + os.environ["PATH"])
        proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                              timeout=600, cwd=self.server.workdir)
        self.assertEqual(proc.returncode, 0,
                         f"an API.md example failed:\n{proc.stderr[-3000:]}\n{proc.stdout[-2000:]}")
        # The error examples show their errors.
        self.assertIn("invalid_client", proc.stdout)
        self.assertIn("forbidden", proc.stdout)


if __name__ == "__main__":
    unittest.main()
