"""Black-box harness: runs the real renkei binary (seed, serve, token, card sign) against a real
database and talks HTTP to it on 127.0.0.1. Engine from RENKEI_ENGINE (sqlite|postgres); for
postgres a fresh database is created on the throwaway server named by RENKEI_TEST_PG_URL."""

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

RENKEI = os.environ.get("RENKEI_BIN", "renkei")
ENGINE = os.environ.get("RENKEI_ENGINE", "sqlite")


def run(args, check=True, timeout=600):
    proc = subprocess.run([RENKEI] + args, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"renkei {' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr}")
    return proc


def _pg_url_with_db(base_url, dbname):
    # urlunsplit would drop the empty authority of "postgresql:///db?host=/socket/dir".
    parts = urllib.parse.urlsplit(base_url)
    query = ("?" + parts.query) if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{dbname}{query}"


class Database:
    """A fresh database of the chosen engine, removed afterwards."""

    def __init__(self, workdir):
        self.engine = ENGINE
        if ENGINE == "sqlite":
            self.path = os.path.join(workdir, "renkei.db")
            self.url = "sqlite:" + self.path
        elif ENGINE == "postgres":
            base = os.environ.get("RENKEI_TEST_PG_URL")
            if not base:
                raise AssertionError("RENKEI_TEST_PG_URL is not set: run through ctest (fixture postgres)")
            self.base = base
            self.name = "api_" + secrets.token_hex(6)
            subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {self.name}"], check=True,
                           capture_output=True)
            self.url = _pg_url_with_db(base, self.name)
        else:
            raise AssertionError("unknown RENKEI_ENGINE " + ENGINE)

    def sql(self, statement):
        """Runs SQL through the engine's own client (used to tamper with data in tests)."""
        if self.engine == "sqlite":
            return subprocess.run(["sqlite3", self.path, statement], check=True,
                                  capture_output=True, text=True).stdout
        return subprocess.run(["psql", self.url, "-qAtc", statement], check=True,
                              capture_output=True, text=True).stdout

    def drop(self):
        if self.engine == "postgres":
            subprocess.run(["psql", self.base, "-qc", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                           capture_output=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def issues(self):
        doc = self.json()
        assert doc.get("resourceType") == "OperationOutcome", doc
        return doc["issue"]


class Server:
    """A seeded database and a running server. Use as a context manager or call start/stop."""

    def __init__(self, patients=60, extra_args=()):
        self.workdir = tempfile.mkdtemp(prefix="renkei-api-")
        self.db = Database(self.workdir)
        self.keys = os.path.join(self.workdir, "keys")
        self.patients = patients
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self._tokens = {}

    # --- lifecycle -------------------------------------------------------------------
    @property
    def blob_dir(self):
        return os.path.join(self.workdir, "blobs")

    def retention(self, now):
        """`renkei retention run` at the instant now (ISO) on this server's database; returns
        its report."""
        out = run(["retention", "run", "--db", self.db.url, "--now", now, "--blob-dir", self.blob_dir])
        return json.loads(out.stdout)

    def seed(self):
        run(["seed", "--db", self.db.url, "--out", self.keys, "--patients", str(self.patients)])
        with open(os.path.join(self.keys, "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)

    def start(self, seed=True):
        if seed:
            self.seed()
        port_file = os.path.join(self.workdir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [RENKEI, "serve", "--db", self.db.url, "--listen", "127.0.0.1:0", "--port-file", port_file,
             "--blob-dir", self.blob_dir] + self.extra_args, stdout=self.log, stderr=self.log)
        for _ in range(600):  # bounded: 60 s
            if self.proc.poll() is not None:
                raise AssertionError("server exited early; log: " + self.server_log())
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read().strip())
                if self.get("/readyz").status == 200:
                    return self
            time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        self.db.drop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def server_log(self):
        try:
            with open(os.path.join(self.workdir, "server.log"), encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- manifest helpers ------------------------------------------------------------------
    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def practitioner(self, qualification, facility_type=None):
        types = {f["code"]: f["type"] for f in self.manifest["facilities"]}
        for p in self.manifest["practitioners"]:
            if p["qualification"] == qualification and (facility_type is None or types[p["facility"]] == facility_type):
                return p
        raise AssertionError(f"no {qualification} at a {facility_type} in the manifest")

    def facility(self, facility_type):
        return next(f for f in self.manifest["facilities"] if f["type"] == facility_type)

    # --- HTTP --------------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, token=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None and not (headers and "Content-Type" in headers):
            req.add_header("Content-Type", "application/fhir+json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return Response(resp.status, dict(resp.headers), resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read().decode("utf-8", errors="replace"))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def token(self, practitioner_id, fresh=False):
        if fresh or practitioner_id not in self._tokens:
            out = run(["token", "--keys", self.keys, "--practitioner", practitioner_id, "--url", self.base_url])
            self._tokens[practitioner_id] = out.stdout.strip()
        return self._tokens[practitioner_id]

    def token_for(self, qualification, facility_type=None):
        return self.token(self.practitioner(qualification, facility_type)["id"])

    def card(self, patient_id, facility_code, purpose="eligibility", age=0, categories=()):
        args = ["card", "sign", "--keys", self.keys, "--patient", patient_id, "--facility", facility_code,
                "--purpose", purpose]
        if age:
            args += ["--age", str(age)]
        for c in categories:
            args += ["--categories", c]
        return run(args).stdout.strip()

    def consent(self, patient_id, token, facility_code, categories=("all",)):
        """Records a card-reader consent (TREAT) of patient_id at facility_code: the card signs,
        the facility's staff (token) posts it. Returns the stored Consent."""
        jws = self.card(patient_id, facility_code, purpose="TREAT", categories=categories)
        r = self.post("/fhir/Consent/$card",
                      {"resourceType": "Parameters", "parameter": [{"name": "card", "valueString": jws}]},
                      token=token)
        if r.status != 201:
            raise AssertionError(f"consent not recorded: {r.status} {r.body}")
        return r.json()

    def consent_for(self, patient_id, qualification, facility_type=None, categories=("all",)):
        """A consent of patient_id at the facility of the first such practitioner; returns
        that practitioner's token."""
        p = self.practitioner(qualification, facility_type)
        token = self.token(p["id"])
        self.consent(patient_id, token, p["facility"], categories)
        return token


class ServerTestCase(unittest.TestCase):
    """One seeded server per test class."""

    patients = 60
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(patients=cls.patients, extra_args=cls.extra_args)
        try:
            cls.server.start()
        except Exception:
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def patient(self, n):
        """The n-th seeded patient with an active coverage."""
        active = [p for p in self.server.manifest["patients"] if p.get("coverage") == "active"]
        return active[n]

    def at(self, qualification, facility):
        """An access token of a practitioner with this qualification at this facility code."""
        for p in self.server.manifest["practitioners"]:
            if p["qualification"] == qualification and p["facility"] == facility:
                return self.server.token(p["id"])
        self.fail(f"no {qualification} at {facility}")
