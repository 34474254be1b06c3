"""Headless Chromium (Debian's build) against the whole platform started like scripts/start."""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # playwright cannot download browsers here: use /usr/bin/chromium, headless, no network.
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started_platform(tmp_dir):
    """python -m app.run: migrations, demo data, processes, card station with virtual blank
    cards on reader 'Virtual PCD 00 00', scheduler and web server, its instance folder and
    log in ``tmp_dir``. Yields the base URL. Needs pcscd (the ``pcscd`` fixture)."""
    port = _free_port()
    env = dict(os.environ, SSCARD_INSTANCE=str(tmp_dir / "instance"), SSCARD_PORT=str(port),
               PYTHONPATH=ROOT, SSCARD_SCHEDULER_INTERVAL="1")
    env.pop("DATABASE_URL", None)
    log = open(tmp_dir / "platform.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "app.run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    pytest.fail("platform did not start:\n" + (tmp_dir / "platform.log").read_text())
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def platform(pcscd, tmp_path):
    """The whole platform for one test (see ``started_platform``). Yields the base URL."""
    with started_platform(tmp_path) as base:
        yield base
