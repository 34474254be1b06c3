"""The batch import survives its worker's death (kill -9) on PostgreSQL: a second worker takes
the job over once the lease has run out, resumes from the checkpoint, and the batch ends with
exactly the figures of a run straight through — no row lost, none stored twice.

Each test works in a database of its own, created on the server of the ``pg_url`` fixture and
dropped afterwards (the fixture's database stays untouched for the other tests). The workers
are real ``python -m app.worker`` processes with a lease of 2 seconds.
"""
from __future__ import annotations

import csv
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.common.clock import utcnow
from app.database import make_session_factory
from app.engine import jobs
from app.engine.db import make_engine
from app.procedures.batch import city
from app.procedures.batch.generate import generate, load_city

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
PERSONS = 20_000
CUTOFF = date(2026, 6, 30)
NINGBO = load_city("ningbo")
REGIONS = [r["code"] for r in NINGBO["regions"]][:-1]  # 象山 stays out of the batch
LEASE = 2


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-data")
    expected = generate(out, PERSONS, city=NINGBO, regions=REGIONS, cutoff=CUTOFF, seed=11,
                        outcomes=True)
    return out, expected


def _psycopg(url: str):
    import psycopg
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                           connect_timeout=5, autocommit=True)


@pytest.fixture
def db(pg_url, data, tmp_path):
    """A fresh, migrated database on the pg_url server with the city and the police extract
    loaded; yields (url, session factory)."""
    from app.migrate import upgrade
    from app.procedures.batch.importing.police_extract import load_extract

    name = f"sscard_crash_{secrets.token_hex(4)}"
    base, _, query = pg_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        with closing(_psycopg(base)) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as e:
        pytest.skip(f"cannot create a database on the test server: {e}")
    engine = make_engine(url)
    try:
        upgrade(url)
        factory = make_session_factory(engine)
        with factory() as s, s.begin():
            city.apply(s, NINGBO)
        result = load_extract(factory, (data[0] / "police.csv").read_bytes())
        assert result.loaded == data[1].police_rows and not result.rejected
        yield url, factory
    finally:
        engine.dispose()
        with closing(_psycopg(base)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker:
    """``python -m app.worker`` on the test database, its output in a log file."""

    def __init__(self, url: str, log: Path):
        self.log = log
        env = {**os.environ, "DATABASE_URL": url, "SSCARD_JOB_LEASE_SECONDS": str(LEASE),
               "SSCARD_JOB_POLL_SECONDS": "0.2", "SSCARD_INSTANCE": str(log.parent),
               "PYTHONUNBUFFERED": "1"}
        env.pop("TEST_DATABASE_URL", None)
        self.fh = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.worker"], cwd=ROOT, env=env,
                                     stdout=self.fh, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """kill -9: no cleanup, no lease given back."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.fh.close()

    def tail(self, n: int = 40) -> str:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])


def enqueue(factory, data) -> tuple[int, int]:
    from app.procedures.batch.importing import service
    content = Path(data[1].contribution).read_bytes()
    with factory() as s, s.begin():
        batch = service.create_batch(s, "崩溃恢复测试", CUTOFF, REGIONS, "tester")
        upload = service.store_upload(s, batch, "contribution.csv", content, "tester")
        job = service.enqueue_import(s, batch, upload, "tester")
        return batch.id, job.id


def job_row(factory, job_id) -> jobs.BackgroundJob:
    with factory() as s:
        job = s.get(jobs.BackgroundJob, job_id)
        s.expunge(job)
        return job


def check_outcome(factory, batch_id: int, job_id: int, data) -> None:
    """Figures, persons and rows exactly as the generator planned them."""
    from app.procedures.batch.importing import service
    from app.procedures.batch.models import ContributionRecord, Person, RejectedRow
    out, expected = data
    want = {"batch": batch_id, **expected.counts()}
    with factory() as s:
        job = s.get(jobs.BackgroundJob, job_id)
        assert job.state == "done", (job.state, job.error_en)
        assert service.counts(s, batch_id) == want
        assert job.result == want
        n_persons, n_ids = s.execute(
            select(func.count(), func.count(func.distinct(Person.id_number)))
            .where(Person.batch_id == batch_id)).one()
        assert n_persons == n_ids == expected.persons
        dupes = s.execute(select(Person.id_number).where(Person.batch_id == batch_id)
                          .group_by(Person.id_number).having(func.count() > 1).limit(5)).all()
        assert dupes == []
        n_rows, n_lines = s.execute(
            select(func.count(), func.count(func.distinct(ContributionRecord.row_no)))
            .where(ContributionRecord.batch_id == batch_id)).one()
        assert n_rows == n_lines == expected.valid_rows
        n_rejected = s.scalar(select(func.count()).select_from(RejectedRow)
                              .where(RejectedRow.batch_id == batch_id))
        assert n_rejected == expected.rejected_rows
        got = dict(s.execute(select(Person.id_number, Person.eligibility)
                             .where(Person.batch_id == batch_id)).all())
    with open(expected.outcomes, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        planned = {idn: outcome for idn, outcome, _ in reader if outcome != "outside"}
    wrong = [(i, planned.get(i), got.get(i)) for i in planned.keys() | got.keys()
             if planned.get(i) != got.get(i)]
    assert not wrong, f"{len(wrong)} persons differ from the plan, e.g. {sorted(wrong)[:10]}"


def wait_until(predicate, timeout: float, what: str, worker: Worker | None = None):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}"
                                 + (f"\nworker log:\n{worker.tail()}" if worker else ""))
        time.sleep(0.01)


def test_import_resumes_after_the_worker_is_killed(db, data, tmp_path):
    url, factory = db
    batch_id, job_id = enqueue(factory, data)
    first = Worker(url, tmp_path / "worker-1.log")
    second = None
    try:
        def progressed():
            job = job_row(factory, job_id)
            assert job.state in ("queued", "running"), \
                f"the job ended ({job.state}) before it could be killed; worker log:\n{first.tail()}"
            if first.proc.poll() is not None:
                raise AssertionError(f"the worker died on its own:\n{first.tail()}")
            importing = job.phase == "import" and job.total and job.done * 5 > job.total
            past_first = job.phase not in (None, "import")
            return job if importing or past_first else None

        seen = wait_until(progressed, 60, "the import to make progress", first)
        first.kill()
        job = job_row(factory, job_id)
        assert job.state == "running" and job.owner, (job.state, job.owner)
        assert job.attempts == 1 and job.lease_until is not None
        # nobody renews the lease now: it runs out within LEASE seconds
        stale = wait_until(lambda: (j := job_row(factory, job_id)).lease_until < utcnow() and j,
                           LEASE + 5, "the dead worker's lease to run out")
        assert stale.state == "running" and stale.owner == job.owner  # still its, but stale
        assert (stale.done, stale.total, stale.phase) == (job.done, job.total, job.phase)

        second = Worker(url, tmp_path / "worker-2.log")
        ended = jobs.wait(factory, job_id, timeout=120)
        assert ended.state == "done", f"{ended.state}: {ended.error_en}\n{second.tail()}"
        assert ended.attempts == 2  # taken over once, by the second worker
    finally:
        first.stop()
        if second:
            second.stop()
    check_outcome(factory, batch_id, job_id, data)


def test_import_straight_through_gives_the_same_figures(db, data, tmp_path):
    url, factory = db
    batch_id, job_id = enqueue(factory, data)
    worker = Worker(url, tmp_path / "worker.log")
    try:
        ended = jobs.wait(factory, job_id, timeout=120)
        assert ended.state == "done", f"{ended.state}: {ended.error_en}\n{worker.tail()}"
        assert ended.attempts == 1
    finally:
        worker.stop()
    check_outcome(factory, batch_id, job_id, data)
