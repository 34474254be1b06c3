"""Starting a round 统一启用: a closed batch, the announcement's date, the round and its job;
running a failed round's job again."""
from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.common.clock import china_time, china_today, utcnow
from app.engine.jobs import BackgroundJob, enqueue
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BatchStatus
from app.procedures.lifecycle.activation.cards import CHUNK, event_mark
from app.procedures.lifecycle.activation.errors import (ActivationError, AlreadyActivated,
                                                        BadAnnouncementDate, BatchNotClosed,
                                                        RoundNotFound)
from app.procedures.lifecycle.models import ActivationRound
from app.procedures.lifecycle.states import RoundState

log = logging.getLogger(__name__)

JOB_KIND = "lifecycle.activate_round"
#: the batches whose cards may be activated (see the package docstring)
ACTIVATABLE = (BatchStatus.CLOSED,)
EARLIEST = date(2000, 1, 1)


def round_of(session: Session, batch_id: int) -> ActivationRound | None:
    return session.scalars(select(ActivationRound).where(ActivationRound.batch_id == batch_id)).first()


def check_announcement(batch: Batch, announced_on) -> date:
    if not isinstance(announced_on, date):
        raise BadAnnouncementDate("请填写启用公告日期（格式 YYYY-MM-DD）",
                                  "Give the date of the announcement (YYYY-MM-DD)")
    if isinstance(announced_on, datetime):
        announced_on = announced_on.date()
    if announced_on > china_today():
        raise BadAnnouncementDate(
            "启用公告日期不能晚于今天：先发布公告，再统一启用",
            "The announcement cannot be dated after today: it is published before the activation")
    created = china_time(batch.created_at).date() if batch.created_at else EARLIEST
    if announced_on < max(created, EARLIEST):
        raise BadAnnouncementDate(
            f"启用公告日期不能早于制卡批次建立之日（{created.isoformat()}）",
            f"The announcement cannot be dated before the batch was created ({created.isoformat()})")
    return announced_on


def start_round(session: Session, batch_id: int, announced_on: date, actor_name: str,
                office: str | None, *, chunk: int = CHUNK) -> ActivationRound:
    """统一启用 of a closed batch: the round and its job (``lifecycle.activate_round``), in the
    caller's transaction (the job runs once the caller commits). Refused, nothing written, for
    a batch not closed, a bad announcement date, or a batch activated before (the message says
    when: :class:`AlreadyActivated`)."""
    batch = session.get(Batch, int(batch_id))
    if batch is None:
        raise RoundNotFound(f"没有编号为 {batch_id} 的制卡批次", f"There is no batch number {batch_id}")
    existing = round_of(session, batch.id)
    if existing is not None:
        raise AlreadyActivated(batch.name, existing)
    if batch.status not in ACTIVATABLE:
        raise BatchNotClosed(batch)
    announced_on = check_announcement(batch, announced_on)
    now = utcnow()
    row = ActivationRound(batch_id=batch.id, office=office or batch.office, announced_on=announced_on,
                          state=RoundState.RUNNING, activated=0, waiting=0,
                          late_mark=event_mark(session, now), created_by=actor_name, created_at=now)
    try:
        with session.begin_nested():  # two managers at once: the unique batch_id decides
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = round_of(session, batch.id)
        if existing is None:
            raise
        raise AlreadyActivated(batch.name, existing) from None
    job = enqueue(session, JOB_KIND, {"round_id": row.id, "chunk": max(1, int(chunk))}, actor_name,
                  subject=subject(row.id))
    row.job_id = job.id
    session.flush()
    log.info("activation round %s of batch %s started by %s (job %s)", row.id, batch.id,
             actor_name, job.id)
    return row


def subject(round_id: int) -> str:
    return f"activation:{round_id}"


def job_of(session: Session, row: ActivationRound) -> BackgroundJob | None:
    return session.get(BackgroundJob, row.job_id) if row.job_id else None


def may_retry(row: ActivationRound, job: BackgroundJob | None) -> bool:
    """A round whose job failed (or was given up after too many interruptions) may be run again."""
    if row.state == RoundState.FAILED:
        return job is None or not job.active
    return row.state == RoundState.RUNNING and (job is None or job.state == "failed")


def retry_round(session: Session, round_id: int, actor_name: str) -> BackgroundJob:
    """Run a failed round's job again (a new job; the cards already activated are skipped)."""
    row = session.get(ActivationRound, int(round_id))
    if row is None:
        raise RoundNotFound.of(round_id)
    if not may_retry(row, job_of(session, row)):
        raise ActivationError("该批次的统一启用没有失败，无需重新执行",
                              "This activation has not failed: there is nothing to run again",
                              code="activation_not_failed")
    job = enqueue(session, JOB_KIND, {"round_id": row.id, "chunk": CHUNK}, actor_name,
                  subject=subject(row.id))
    row.state, row.job_id, row.finished_at = RoundState.RUNNING, job.id, None
    session.flush()
    return job
