"""Shared scaffolding of the card-station tests: a small platform (PROTOCOL.md's server side)
and the ways the tests run a station against it, on reader slot 1 ("Virtual PCD 00 01")."""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hardware import lab, profile, reader
from hardware.__main__ import build_parser
from hardware.card import SocialSecurityCard
from hardware.printer import PngQueuePrinter
from hardware.security import SimulatedSecurityModule
from hardware.station import PlatformClient, Spool, Station
from tests.conftest import valid_ssn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "station-token-for-tests"
BANK = "6217001234567890123"
READER = lab.VIRTUAL_READERS[1]
BANK_2 = "6217009876543210987"


# --- a small platform ---------------------------------------------------------------------------

class FakePlatform:
    """The platform side of PROTOCOL.md, just enough to drive a station.

    Claimed jobs without a final result are handed out again (the station may have crashed
    before spooling them); results are idempotent by ``result_id``.
    """

    def __init__(self, token=TOKEN):
        self.token = token
        self.jobs: list[dict] = []
        self.requests: list[tuple[str, str, dict]] = []  # (kind, job id, body) in arrival order
        self.final: dict[str, dict] = {}                 # job id -> first acknowledged result
        self.cancelled: set[str] = set()
        self.cancel_on_claim = False
        self.result_status: list[int] = []               # answers to the next result posts
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {platform.token}":
                    return self._answer(401, {"error": "bad token"})
                with platform.lock:
                    status, answer = platform.handle(self.path, body)
                self._answer(status, answer)

            def _answer(self, status, answer):
                raw = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                if raw:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, path, body):
        prefix = "/api/v1/station/jobs/"
        assert path.startswith(prefix), path
        if path == prefix + "claim":
            assert body["station"] == "S1"
            self.requests.append(("claim", "", body))
            for job in self.jobs:
                if job["id"] not in self.final and job["id"] not in self.cancelled:
                    if self.cancel_on_claim:
                        self.cancelled.add(job["id"])
                    return 200, {"job": job}
            return 204, None
        job_id, _, action = path[len(prefix):].partition("/")
        self.requests.append((action, job_id, body))
        if job_id in self.cancelled:
            return 409, {"error": "cancelled"}
        if action == "progress":
            return 200, {}
        assert action == "result", path
        if self.result_status:
            status = self.result_status.pop(0)
            if status != 200:
                return status, {"error": "try later"}
        first = self.final.setdefault(job_id, body)
        return 200, {"recorded": first["result_id"] == body["result_id"]}

    def results(self, job_id=None):
        return [b for kind, jid, b in self.requests if kind == "result" and (job_id is None or jid == job_id)]

    def progress_states(self, job_id):
        return [b["state"] for kind, jid, b in self.requests if kind == "progress" and jid == job_id]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def cli_args(platform, tmp_path, *more):
    return ["station", "--platform", platform.url, "--station-id", "S1", "--reader", READER,
            "--spool", str(tmp_path / "spool"), "--queue", str(tmp_path / "queue"), "--once", *more]


def run_station(platform, tmp_path, *more, token=TOKEN):
    """The station in this process, as ``python -m hardware station ... --once``."""
    args = build_parser().parse_args(cli_args(platform, tmp_path, *more))
    args.token = token
    from hardware.station import main
    return main(args)


def station(platform, tmp_path, client=PlatformClient, **kw):
    """A Station object (for the options the command line does not expose); ``client`` the
    platform client's class."""
    return Station(client(platform.url, TOKEN, "S1", timeout=5), Spool(str(tmp_path / "spool")),
                   PngQueuePrinter(str(tmp_path / "queue")), SimulatedSecurityModule(), READER, **kw)


def read_card():
    with reader.connect(READER) as conn:
        return SocialSecurityCard(conn).read()


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def other_holder(card_data):
    """Card data of a second person."""
    return dict(card_data, ssn=valid_ssn("11010519491231002"), birth_date="1949-12-31", name="王芳", sex="2",
                card_number=profile.new_card_number(), birthplace="110105",
                card_identifier=profile.make_card_identifier("350581", bytes.fromhex("0807060504030201")).hex())
