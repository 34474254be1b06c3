"""Firing due timers (定时器触发): what the scheduler calls every few seconds.

Each due timer is fired in its own transaction:

1. lock the case row ``FOR UPDATE SKIP LOCKED`` — a case busy with a clerk's step or another
   scheduler is skipped and retried on the next round (never waiting while holding a lock, so
   no deadlock with a clerk who holds the case and updates its timer rows);
2. lock the timer row ``FOR UPDATE SKIP LOCKED`` and check it is still ``waiting`` — a second
   scheduler that gets here after the first committed sees ``fired`` and does nothing;
3. run the engine at ``now``: ``refresh_timers()`` + ``do_engine_steps()`` see the timer as
   due because the step's clock (:mod:`app.engine.clock`) is ``now``;
4. mirror rows, store state, audit ``timer``; commit.

On SQLite (no row locks) the ``lock_version`` check makes the loser of a race roll back.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.engine.case import load_case, lock_instance
from app.engine.errors import CaseChanged
from app.engine.execution import advance
from app.engine.models import (ACTIVE_STATUSES, TIMER_CANCELLED, TIMER_FIRED, TIMER_WAITING,
                               Timer)
from app.engine.services import Actor
from app.engine.sync import finish_step
from app.engine.transaction import step

log = logging.getLogger(__name__)

SCHEDULER = Actor.system("scheduler")


def due_timers(session: Session, now: datetime, limit: int = 100) -> list[tuple[int, int]]:
    """(timer id, case id) of waiting timers due at ``now``, earliest first."""
    rows = session.execute(select(Timer.id, Timer.instance_id)
                           .where(Timer.state == TIMER_WAITING, Timer.due_at <= now)
                           .order_by(Timer.due_at, Timer.id).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def fire_timer(session: Session, timer_id: int, instance_id: int, now: datetime,
               actor: Actor = SCHEDULER) -> bool:
    """Fire one timer in one transaction; False when it was not (anymore) ours to fire."""
    with step(session, now) as moment:
        instance = lock_instance(session, instance_id, skip_locked=True, active=False)
        if instance is None:
            return False  # busy: next round
        timer = session.scalars(select(Timer).where(Timer.id == timer_id,
                                                    Timer.state == TIMER_WAITING)
                                .with_for_update(skip_locked=True)
                                .execution_options(populate_existing=True)).first()
        if timer is None:
            return False  # fired or cancelled meanwhile, or being fired right now
        if instance.status not in ACTIVE_STATUSES:
            timer.state = TIMER_CANCELLED
            return False
        case = load_case(session, instance, actor, moment)
        advance(case)
        finish_step(case, actor, **case.notes)
        return timer.state == TIMER_FIRED


def fire_due_timers(session_factory: Callable[[], Session], now: datetime | None = None,
                    limit: int = 100) -> int:
    """Fire the timers due at ``now`` (default: real time), each in its own transaction.
    Returns how many fired here. Safe to run in several processes at once."""
    now = clock.aware(now) if now is not None else clock.now()
    with session_factory() as session:
        candidates = due_timers(session, now, limit)
        session.rollback()
    fired = 0
    for timer_id, instance_id in candidates:
        with session_factory() as session:
            try:
                fired += fire_timer(session, timer_id, instance_id, now)
            except CaseChanged:
                log.info("timer %s: case %s changed meanwhile; next round", timer_id,
                         instance_id)
            except Exception:  # one broken case must not stop the others' timers
                log.exception("timer %s of case %s could not be fired", timer_id, instance_id)
    return fired
