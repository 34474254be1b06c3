"""PostgreSQL for tests: the session-scoped ``pg_url`` fixture (a SQLAlchemy URL).

In this order:

1. ``$TEST_DATABASE_URL`` if set (used as is; the tests empty its tables);
2. a server on ``127.0.0.1:5432`` accepting ``postgres`` without password: a fresh database
   ``sscard_test_<random>`` is created and dropped at the end;
3. a throwaway cluster: ``initdb`` + ``pg_ctl`` of PostgreSQL 15 run as the ``postgres`` user
   (``runuser``), data directory under /tmp, trust authentication, no fsync, random port;
   stopped and removed at the end.

Tests needing it are marked ``@pytest.mark.postgres``; when none of the three is possible they
are skipped with the reason.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import closing

import pytest

PG_BIN = "/usr/lib/postgresql/15/bin"
LOCAL_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _connect(url: str, timeout: float = 3.0):
    import psycopg
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True)


def _reachable(url: str) -> bool:
    try:
        with closing(_connect(url)):
            return True
    except Exception:
        return False


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _FreshDatabase:
    """A database created on a server for this test session, dropped afterwards."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = f"sscard_test_{secrets.token_hex(4)}"
        with closing(_connect(admin_url)) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name

    def drop(self) -> None:
        with closing(_connect(self.admin_url)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class _ThrowawayCluster:
    """initdb + pg_ctl as user postgres, under /tmp, on a random port."""

    def __init__(self):
        if not os.path.exists(f"{PG_BIN}/initdb"):
            raise RuntimeError(f"no PostgreSQL server binaries in {PG_BIN}")
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="sscard-pg-")
        self.data = os.path.join(self.dir, "data")
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run = lambda *cmd: subprocess.run([*as_postgres, *cmd], check=True,
                                                capture_output=True, timeout=120)
        self._run(f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-t", "60", "-l",
                  os.path.join(self.dir, "log"), "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                  "start")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url():
    """URL of a PostgreSQL database for this test session (see module docstring)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if _reachable(LOCAL_ADMIN_URL):
        fresh = _FreshDatabase(LOCAL_ADMIN_URL)
        try:
            yield fresh.url
        finally:
            fresh.drop()
        return
    try:
        cluster = _ThrowawayCluster()
    except Exception as err:  # no binaries, no postgres user, initdb failed...
        pytest.skip(f"no PostgreSQL available: {err}")
    try:
        deadline = time.monotonic() + 30
        while not _reachable(cluster.url):
            if time.monotonic() > deadline:
                pytest.skip("throwaway PostgreSQL cluster did not come up")
            time.sleep(0.2)
        fresh = _FreshDatabase(cluster.url)
        yield fresh.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_schema_url(pg_url):
    """A URL whose connections use a schema of their own on the ``pg_url`` database (a
    migrated schema per test, dropped at the end)."""
    import uuid

    from sqlalchemy import create_engine, text
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
