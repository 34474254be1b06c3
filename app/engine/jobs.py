"""Durable background jobs 后台作业: long work (an import of 100,000 rows, a comparison, a
production file) runs outside the request, shows its progress, and survives a crash.

A job is a row of ``background_job``. A worker claims it with a lease (``owner``,
``lease_until``) and renews the lease at every progress report; a worker that dies (kill -9,
power cut) stops renewing, and once the lease has run out any worker takes the job again
and the handler resumes from its last checkpoint. Handlers make that safe: each chunk of
work commits together with its checkpoint (``JobContext.checkpoint``), and their writes are
idempotent (unique keys), so a resumed job neither loses nor repeats anything.

Claiming is one short transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (several worker
processes never take the same job and never wait on each other), the write lock on SQLite
(one machine: the worker thread of the web process).

Why not a queue library: the job libraries that are well kept are tied to one backend —
procrastinate and pgqueuer to PostgreSQL, RQ, Dramatiq and Celery to Redis or RabbitMQ, huey's
SQL storage drops a task that was being worked on when the worker was killed (no lease, no
acknowledgement) — while this platform needs one mechanism on its embedded SQLite default and
on PostgreSQL, with progress and checkpoints in the same transaction as the domain rows,
which a separate broker cannot give. The lease table is small and its rules are in this file.

Handlers register by kind: ``@handler("batch.import")`` on ``fn(ctx: JobContext) -> dict``.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime, immediate_transactions

log = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "failed")
MAX_ATTEMPTS = 5  # a job that killed its worker this often is failed, not taken again


def lease_seconds() -> float:
    """How long a claimed job stays its worker's without a progress report."""
    try:
        return max(1.0, float(os.environ.get("SSCARD_JOB_LEASE_SECONDS", "60")))
    except ValueError:
        return 60.0


class BackgroundJob(Base):
    __tablename__ = "background_job"
    __table_args__ = (CheckConstraint(_in("state", STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "batch:12"
    params: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    phase: Mapped[str | None] = mapped_column(String(40))          # what it does now
    done: Mapped[int] = mapped_column(Integer, default=0)           # progress: done of total
    total: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint: Mapped[dict | None] = mapped_column(JSON)           # where to resume
    result: Mapped[dict | None] = mapped_column(JSON)
    error_zh: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class JobLost(RuntimeError):
    """This worker's lease was taken over by another worker (it was too slow to report)."""


class JobFailed(BilingualError):
    """A job that cannot go on (a bad file...): the job is failed with this message."""

    kind = "invalid"


HANDLERS: dict[str, Callable[["JobContext"], dict | None]] = {}


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


@dataclass
class JobContext:
    """What a handler gets: its job's id and params, the session factory, and the means to
    report progress and save checkpoints."""

    job_id: int
    params: dict
    checkpoint_data: dict
    session_factory: sessionmaker
    owner: str

    def progress(self, done: int, total: int | None = None, phase: str | None = None) -> None:
        """Report progress and renew the lease, in a short transaction of its own."""
        with self.session_factory() as s, s.begin():
            values = {"done": done, "lease_until": utcnow() + timedelta(seconds=lease_seconds())}
            if total is not None:
                values["total"] = total
            if phase is not None:
                values["phase"] = phase
            n = s.execute(update(BackgroundJob).where(BackgroundJob.id == self.job_id,
                                                      BackgroundJob.owner == self.owner)
                          .values(**values)).rowcount
        if n != 1:
            raise JobLost(f"job {self.job_id} is no longer ours")

    def checkpoint(self, session: Session, **data) -> None:
        """Save where to resume, in the caller's transaction (commits with its chunk)."""
        self.checkpoint_data.update(data)
        n = session.execute(update(BackgroundJob).where(BackgroundJob.id == self.job_id,
                                                        BackgroundJob.owner == self.owner)
                            .values(checkpoint=dict(self.checkpoint_data),
                                    lease_until=utcnow() + timedelta(seconds=lease_seconds()))
                            ).rowcount
        if n != 1:
            raise JobLost(f"job {self.job_id} is no longer ours")


def enqueue(session: Session, kind: str, params: dict, created_by: str,
            subject: str | None = None) -> BackgroundJob:
    """A new job in the caller's transaction (it runs once the caller commits)."""
    if kind not in HANDLERS:
        raise KeyError(f"no job handler for {kind!r}")
    job = BackgroundJob(kind=kind, params=params, subject=subject, created_by=created_by)
    session.add(job)
    session.flush()
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim(session_factory: sessionmaker, owner: str, job_id: int | None = None) -> int | None:
    """Take the oldest queued job (or one whose worker's lease ran out); its id or None."""
    now = utcnow()
    q = (select(BackgroundJob).where(
        or_(BackgroundJob.state == "queued",
            (BackgroundJob.state == "running") & (BackgroundJob.lease_until < now)))
        .order_by(BackgroundJob.id).limit(1))
    if job_id is not None:
        q = q.where(BackgroundJob.id == job_id)
    # a read first: an idle worker polling every second must not take SQLite's write lock
    # (the clerks' steps would queue behind it)
    with session_factory() as s:
        if s.scalar(q.with_only_columns(BackgroundJob.id)) is None:
            return None
    with immediate_transactions(), session_factory() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        job = s.scalars(q).first()
        if job is None:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.finished_at, job.owner = "failed", now, None
            job.error_zh = f"作业已中断 {job.attempts} 次，不再自动重试，请联系管理员"
            job.error_en = f"The job was interrupted {job.attempts} times and is not retried again"
            return None
        if job.state == "running":
            log.warning("job %s: lease of %s ran out, taking it over", job.id, job.owner)
        job.state, job.owner, job.attempts = "running", owner, job.attempts + 1
        job.lease_until = now + timedelta(seconds=lease_seconds())
        job.started_at = job.started_at or now
        return job.id


def run(session_factory: sessionmaker, job_id: int, owner: str) -> str:
    """Run a claimed job to its end; its final state ("done", "failed" or "lost")."""
    with session_factory() as s:
        job = s.get(BackgroundJob, job_id)
        kind, params, checkpoint = job.kind, dict(job.params), dict(job.checkpoint or {})
    ctx = JobContext(job_id, params, checkpoint, session_factory, owner)
    try:
        result = HANDLERS[kind](ctx) or {}
        values = {"state": "done", "result": result, "phase": None}
    except JobLost:
        log.warning("job %s was taken over by another worker", job_id)
        return "lost"
    except BilingualError as e:
        values = {"state": "failed", "error_zh": e.message_zh, "error_en": e.message_en}
    except Exception:  # a bug: the job fails visibly, the worker goes on
        log.error("job %s (%s) failed:\n%s", job_id, kind, traceback.format_exc())
        values = {"state": "failed", "error_zh": "作业执行出错，请联系系统管理员（详见日志）",
                  "error_en": "The job failed with an internal error; see the log"}
    with session_factory() as s, s.begin():
        s.execute(update(BackgroundJob).where(BackgroundJob.id == job_id,
                                              BackgroundJob.owner == owner)
                  .values(finished_at=utcnow(), lease_until=None, **values))
    return values["state"]


def run_now(session_factory: sessionmaker, job_id: int) -> str:
    """Claim and run one job in this thread (the command line, tests)."""
    owner = worker_name()
    if claim(session_factory, owner, job_id) is None:
        return "busy"
    return run(session_factory, job_id, owner)


def work(session_factory: sessionmaker, stop: threading.Event | None = None,
         poll: float = 1.0, once: bool = False) -> int:
    """The worker loop: claim and run jobs until ``stop`` is set; jobs run."""
    stop = stop or threading.Event()
    owner, count = worker_name(), 0
    while not stop.is_set():
        try:
            job_id = claim(session_factory, owner)
        except Exception:
            log.exception("claiming a job failed")
            job_id = None
        if job_id is None:
            if once:
                break
            stop.wait(poll)
            continue
        run(session_factory, job_id, owner)
        count += 1
    return count


def start_in_process(session_factory: sessionmaker, poll: float = 1.0) -> threading.Event:
    """A worker thread in this process (the embedded default); set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=work, args=(session_factory, stop, poll), daemon=True,
                     name="sscard-jobs").start()
    return stop


def wait(session_factory: sessionmaker, job_id: int, timeout: float = 60.0) -> BackgroundJob:
    """Wait until a job has ended (tests, the command line)."""
    end = time.monotonic() + timeout
    while True:
        with session_factory() as s:
            job = s.get(BackgroundJob, job_id)
            if not job.active or time.monotonic() > end:
                s.expunge(job)
                return job
        time.sleep(0.05)
