"""Recomputing after a calendar change (日历变更后重算时限).

When a year is entered or a day corrected, :func:`process_calendar_changes` goes through the
cases whose deadlines, task due dates or timers the change can move — those pending a year,
and those whose date falls on or after the first changed day (a count from ``start`` to
``end`` only looks at the days in between) — one case per transaction. Each is recomputed
from its facts (start, length, pauses, the calendar as it now is), so running it twice gives
the same result and a crash half-way is finished by the next run (the scheduler runs it every
round until the change is marked processed). A case whose dates moved gets one history line
per date: "法定时限由 X 调整为 Y：2027 年节假日安排录入". Timers that became due fire in the same
step.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.engine import audit, clock
from app.engine.case import load_case, lock_instance
from app.engine.errors import CaseChanged
from app.engine.execution import settle_deadlines
from app.engine.models import (ACTIVE_STATUSES, ENDED, NOT_STARTED, OPEN, TIMER_PENDING,
                               TIMER_WAITING, CalendarChange, CaseDeadline, HumanTask,
                               ProcessInstance, Timer)
from app.engine.services import Actor
from app.engine.sync import calendar, finish_step, set_task_due
from app.engine.transaction import step
from app.common.clock import CHINA_TZ
from app.common.clock import deadline_datetime

log = logging.getLogger(__name__)
CALENDAR = Actor.system("calendar")


def affected_cases(session: Session, first_day: date) -> list[int]:
    """Active cases with a deadline, due date or timer the change from ``first_day`` can move."""
    since = deadline_datetime(first_day).replace(hour=0, minute=0, second=0)
    active = ProcessInstance.status.in_(ACTIVE_STATUSES)
    deadlines = select(CaseDeadline.instance_id).where(
        CaseDeadline.state.not_in((NOT_STARTED, ENDED)),
        or_(CaseDeadline.due_on.is_(None), CaseDeadline.due_on >= first_day))
    tasks = select(HumanTask.instance_id).where(
        HumanTask.state == OPEN, HumanTask.due_working_days.is_not(None),
        or_(HumanTask.due_at.is_(None), HumanTask.due_at >= since))
    timers = select(Timer.instance_id).where(
        Timer.state.in_((TIMER_WAITING, TIMER_PENDING)),
        or_(Timer.due_at.is_(None), Timer.due_at >= since))
    ids = session.scalars(select(ProcessInstance.id).where(
        active, or_(ProcessInstance.id.in_(deadlines), ProcessInstance.id.in_(tasks),
                    ProcessInstance.id.in_(timers))).order_by(ProcessInstance.id))
    return list(ids)


def _day(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).date().isoformat() if value else "待定"


def recompute_case(session: Session, instance_id: int, reason: str,
                   now: datetime | None = None) -> bool:
    """Recompute one case in one transaction; True when something moved (then audited)."""
    with step(session, now) as moment:
        instance = lock_instance(session, instance_id, active=False)
        if instance.status not in ACTIVE_STATUSES:
            return False
        case = load_case(session, instance, CALENDAR, moment)
        lines = []
        cal = calendar(case)
        for row in session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.state == OPEN,
                HumanTask.due_working_days.is_not(None))):
            before = row.due_at
            if set_task_due(row, cal):
                old, new = _day(before), _day(row.due_at)
                lines.append(("task", row.task_name,
                              f"任务“{row.title}”到期日由 {old} 调整为 {new}：{reason}",
                              f"Task “{row.title}” now due {new} instead of {old}: {reason}"))
        for change in settle_deadlines(case, recalculate_timers=True):
            lines.append(("deadline", change.name,
                          f"{change.title}由 {change.old} 调整为 {change.new}：{reason}",
                          f"{change.title} moved from {change.old} to {change.new}: {reason}"))
        finish_step(case, CALENDAR)
        for kind, name, zh, en in lines:
            audit.record(session, "deadline", CALENDAR, instance_id=instance_id,
                         task_name=name if kind == "task" else None,
                         deadline=name if kind == "deadline" else None,
                         reason=reason, text_zh=zh, text_en=en)
        return bool(lines)


def process_calendar_changes(session_factory: Callable[[], Session],
                             now: datetime | None = None) -> int:
    """Apply every calendar change not processed yet; returns the number of cases whose dates
    moved. Safe to run in several processes (each case is its own step; recomputing twice
    changes nothing)."""
    now = clock.aware(now) if now is not None else clock.now()
    with session_factory() as session:
        pending = [(c.id, c.first_day, c.reason) for c in session.scalars(
            select(CalendarChange).where(CalendarChange.processed_at.is_(None))
            .order_by(CalendarChange.id))]
        session.rollback()
    moved_total = 0
    for change_id, first_day, reason in pending:
        with session_factory() as session:
            ids = affected_cases(session, first_day)
            session.rollback()
        moved = 0
        for instance_id in ids:
            for _attempt in range(3):
                with session_factory() as session:
                    try:
                        moved += recompute_case(session, instance_id, reason, now)
                        break
                    except CaseChanged:
                        continue  # a clerk's step got there first: recompute on its result
                    except Exception:  # one broken case must not hold up the others
                        log.exception("case %s: deadlines not recomputed", instance_id)
                        break
        with session_factory() as session:
            change = session.get(CalendarChange, change_id)
            if change is not None and change.processed_at is None:
                change.processed_at, change.cases_changed = now, moved
                session.commit()
        log.info("calendar change %s (%s): %d case(s) moved", change_id, reason, moved)
        moved_total += moved
    return moved_total
