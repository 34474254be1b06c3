"""Unsubmitted drafts 未提交的受理草稿: a scheduler round that withdraws them.

Clicking a procedure on 受理业务 opens the case at once (its first task, the application form,
is then in the clerk's hands and its statutory clock runs). A clerk who walks away from the
form leaves a case nobody will finish: it sits in the lists, in the clerk's tasks and, for the
outlet procedure, runs towards an overdue 15-working-day deadline.

Each scheduler round cancels (撤销办件, with the reason :data:`REASON`) the cases of this family
that are older than :data:`DRAFT_HOURS` hours and whose first task was never completed: no
task of the case completed, no application recorded. Nothing of the applicant was stored yet,
so nothing else needs ending. The check is made again on the locked case row, in the
cancelling transaction: a form submitted at the same moment wins.

``SSCARD_DRAFT_HOURS`` sets the age (default 8: a working day; 0 or less switches it off).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.cases.cancel import cancel_case
from app.common.clock import utcnow
from app.engine.case import lock_instance
from app.engine.db import immediate_transactions
from app.engine.errors import EngineError
from app.engine.models import ACTIVE_STATUSES, DONE, HumanTask, ProcessInstance
from app.engine.scheduler import ROUND_HOOKS
from app.engine.services import Actor
from app.procedures.application.models import Application

log = logging.getLogger(__name__)

REASON = "未提交的受理草稿已作废"
ACTOR = Actor.system("drafts")
PROCESSES = ("instant_issuance", "outlet_application")
#: cases the platform opened for a holder who was told to come (a replacement after a formal
#: loss, opened by the lifecycle family's job): they wait for the holder, they are no draft
OPENED_FOR_A_HOLDER = ("lifecycle",)
BATCH = 100


def draft_hours() -> float:
    try:
        return float(os.environ.get("SSCARD_DRAFT_HOURS", "8"))
    except ValueError:
        return 8.0


def _is_draft():
    """SQL: a case of this family with no task completed and no application recorded."""
    completed = exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == DONE)
    recorded = exists().where(Application.instance_id == ProcessInstance.id)
    return (ProcessInstance.process_key.in_(PROCESSES)
            & ProcessInstance.status.in_(ACTIVE_STATUSES) & ~completed & ~recorded
            & ProcessInstance.started_by.notin_(OPENED_FOR_A_HOLDER))


def stale_drafts(session: Session, now: datetime | None = None,
                 hours: float | None = None) -> list[int]:
    """Ids of the drafts started more than ``hours`` ago (oldest first)."""
    hours = draft_hours() if hours is None else hours
    if hours <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    return list(session.scalars(select(ProcessInstance.id).where(
        _is_draft(), ProcessInstance.started_at < cutoff).order_by(ProcessInstance.id).limit(BATCH)))


def discard_draft(session: Session, instance_id: int, now: datetime | None = None,
                  hours: float | None = None) -> bool:
    """Cancel one draft if it still is one once its row is locked; True when it was."""
    # the families' on_cancel, as 撤销办件 runs them
    from app.procedures import load_families
    hours = draft_hours() if hours is None else hours
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    try:
        with immediate_transactions():  # SQLite: the write lock before the check
            lock_instance(session, instance_id)  # PostgreSQL: FOR UPDATE before the check
            still = session.scalar(select(ProcessInstance.id).where(
                ProcessInstance.id == instance_id, _is_draft(), ProcessInstance.started_at < cutoff))
            if still is None:
                session.rollback()
                return False
            cancel_case(session, load_families(), instance_id, ACTOR, REASON)
    except EngineError as e:  # ended or changed meanwhile
        session.rollback()
        log.info("draft %s not discarded: %s", instance_id, e)
        return False
    log.info("draft case %s discarded (first task not completed after %s h)", instance_id, hours)
    return True


def drafts_round(session_factory: Callable[[], Session], now: datetime | None = None) -> int:
    """The scheduler's round: discard the stale drafts; returns how many."""
    with session_factory() as session:
        ids = stale_drafts(session, now)
        session.rollback()
        return sum(discard_draft(session, iid, now) for iid in ids)


ROUND_HOOKS.append(drafts_round)
