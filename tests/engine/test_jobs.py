"""Background jobs 后台作业 (app/engine/jobs.py): several workers never run a job twice
(PostgreSQL, SKIP LOCKED), a worker whose lease ran out loses the job to another and cannot
write to it any more, a job that keeps killing its worker is failed, a refusal is a failed
job with the clerk's words."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import sessionmaker

from app.common.clock import utcnow
from app.engine import jobs
from app.engine.db import make_engine
from app.engine.jobs import BackgroundJob, JobContext, JobFailed, JobLost
from tests.cards.helpers import pg_engine  # noqa: F401  (fixture)

# what the test handlers did: one row per run (a table, so that several threads and a real
# database count the runs, not a Python list)
runs_meta = MetaData()
RUNS = Table("test_job_runs", runs_meta, Column("id", Integer, primary_key=True),
             Column("job_id", Integer), Column("worker", String(80)))


@jobs.handler("test.count")
def _count(ctx: JobContext) -> dict:
    with ctx.session_factory() as s, s.begin():
        s.execute(insert(RUNS).values(job_id=ctx.job_id, worker=ctx.owner))
    ctx.progress(1, 1, "done")
    return {"n": ctx.params["n"]}


@jobs.handler("test.refuse")
def _refuse(ctx: JobContext) -> dict:
    raise JobFailed("文件为空", "The file is empty")


@jobs.handler("test.bug")
def _bug(ctx: JobContext) -> dict:
    raise ZeroDivisionError


def _factory(engine) -> sessionmaker:
    jobs.BackgroundJob.__table__.create(engine, checkfirst=True)
    runs_meta.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield _factory(engine)
    engine.dispose()


def _enqueue(factory, kind: str, n: int) -> list[int]:
    with factory() as s, s.begin():
        return [jobs.enqueue(s, kind, {"n": i}, "tester").id for i in range(n)]


@pytest.mark.postgres
def test_three_workers_run_every_job_exactly_once(pg_engine):  # noqa: F811
    factory = _factory(pg_engine)
    ids = _enqueue(factory, "test.count", 30)
    threads = [threading.Thread(target=jobs.work, args=(factory,), kwargs={"once": True})
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with factory() as s:
        per_job = dict(s.execute(select(RUNS.c.job_id, func.count()).group_by(RUNS.c.job_id)).all())
        assert per_job == {i: 1 for i in ids}
        assert {j.state for j in s.scalars(select(BackgroundJob))} == {"done"}
        assert len(set(s.scalars(select(RUNS.c.worker)))) >= 2  # the work was shared


def test_a_stale_lease_is_taken_over_and_the_old_worker_cannot_write(sqlite):
    [job_id] = _enqueue(sqlite, "test.count", 1)
    assert jobs.claim(sqlite, "worker-a") == job_id
    assert jobs.claim(sqlite, "worker-b") is None  # leased to a
    with sqlite() as s, s.begin():
        s.get(BackgroundJob, job_id).lease_until = utcnow() - timedelta(seconds=1)  # a died
    assert jobs.claim(sqlite, "worker-b") == job_id
    old = JobContext(job_id, {}, {}, sqlite, "worker-a")
    with pytest.raises(JobLost):
        old.progress(5, 10)
    assert jobs.run(sqlite, job_id, "worker-b") == "done"
    with sqlite() as s:
        job = s.get(BackgroundJob, job_id)
        assert (job.state, job.attempts, job.result, job.percent) == ("done", 2, {"n": 0}, 100)


def test_a_job_that_keeps_killing_its_worker_is_failed(sqlite):
    [job_id] = _enqueue(sqlite, "test.count", 1)
    for n in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim(sqlite, f"w{n}") == job_id
        with sqlite() as s, s.begin():
            s.get(BackgroundJob, job_id).lease_until = utcnow() - timedelta(seconds=1)
    assert jobs.claim(sqlite, "last") is None
    with sqlite() as s:
        job = s.get(BackgroundJob, job_id)
        assert job.state == "failed" and "不再自动重试" in job.error_zh


def test_refusals_and_bugs_fail_the_job_with_words(sqlite):
    refused, bug = _enqueue(sqlite, "test.refuse", 1) + _enqueue(sqlite, "test.bug", 1)
    assert jobs.run_now(sqlite, refused) == "failed" and jobs.run_now(sqlite, bug) == "failed"
    with sqlite() as s:
        assert s.get(BackgroundJob, refused).error_zh == "文件为空"
        assert "联系系统管理员" in s.get(BackgroundJob, bug).error_zh


def test_unknown_kinds_are_refused_when_queued(sqlite):
    with sqlite() as s, pytest.raises(KeyError):
        jobs.enqueue(s, "no.such.kind", {}, "tester")
