"""Inbox queries 待办查询. Keyset paging on (due_at, id): a page costs the same on page 1 and
page 500, with the (group, state) / (assignee, state) / due_at indexes of human_task."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.orm import Session

from app.engine.models import HumanTask, ProcessInstance
from app.common.clock import CHINA_TZ
from app.cases.access import at_offices
from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar
from app.sla.view import AT_RISK_DAYS, DeadlineView, pending_text, primary
from app.sla.view import views as deadline_views

@dataclass
class Row:
    task: HumanTask
    instance: ProcessInstance
    days_left: int | None
    deadline_state: str  # overdue | at_risk | on_time | none | unknown | pending | paused
    deadline: DeadlineView | None = None  # the case's statutory (or first) deadline

    @property
    def due_day(self):
        """The date the row shows: the case's deadline, else the task's due date."""
        if self.deadline is not None and self.deadline.state not in ("met", "ended"):
            return self.deadline.due_on
        return self.task.due_at

    def pending_text(self, lang: str = "zh") -> str | None:
        """Why the row has no date: the calendar year is missing, or the clock is paused."""
        d = self.deadline
        if d is not None and d.state in ("pending", "paused"):
            return d.text(lang)
        if (d is None or d.state in ("met", "ended")) and self.task.due_pending_year:
            return pending_text(self.task.due_pending_year)[1 if lang.startswith("en") else 0]
        return None


def deadline_state(days_left: int | None) -> str:
    if days_left is None:
        return "none"
    if days_left < 0:
        return "overdue"
    return "at_risk" if days_left <= AT_RISK_DAYS else "on_time"


def days_left(calendar: WorkingDayCalendar, deadline: datetime | None, today: date) -> int | None:
    if deadline is None:
        return None
    return calendar.working_days_left(deadline.astimezone(CHINA_TZ).date() if deadline.tzinfo else deadline.date(), today)


def tasks(session: Session, user, scope: str, calendar: WorkingDayCalendar, today: date, *,
          process: str | None = None, deadline: str | None = None, after: str | None = None,
          limit: int = 25) -> tuple[list[Row], str | None]:
    """One page of tasks: ``scope`` "mine" (claimed by the user) or "group" (unclaimed, in
    the user's groups). Sorted by due date (no due date last), then id. Returns (rows, cursor
    of the next page)."""
    q = select(HumanTask, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id) \
        .where(HumanTask.state == "open")
    if scope == "mine":
        q = q.where(HumanTask.assignee_id == user.id)
    else:
        q = q.where(HumanTask.assignee_id.is_(None), HumanTask.group.in_(sorted(user.group_names)),
                    at_offices(session, user))  # the queue at the user's offices
    if process:
        q = q.where(ProcessInstance.process_key == process)
    if deadline in ("overdue", "at_risk", "on_time"):
        q = q.where(_deadline_filter(calendar, today, deadline))
    found = _page(session, q, after, limit + 1)
    deadlines = deadline_views(session, {i.id for _, i in found[:limit]}, calendar, today)
    rows = []
    for task, instance in found[:limit]:
        deadline = primary(deadlines.get(instance.id, []))
        if deadline is not None and deadline.state in ("pending", "paused"):
            left, state = None, deadline.state
        else:
            try:
                left = days_left(calendar, instance.deadline_at or task.due_at, today)
                state = deadline_state(left)
            except CalendarYearMissing:
                left, state = None, "unknown"
            if left is None and task.due_pending_year:
                state = "pending"
        rows.append(Row(task, instance, left, state, deadline))
    cursor = None
    if len(found) > limit:
        last = found[limit - 1][0]
        cursor = f"{last.due_at.isoformat() if last.due_at else ''}|{last.id}"
    return rows, cursor


def _page(session: Session, q, cursor: str | None, n: int) -> list:
    """Up to ``n`` rows after the keyset cursor "due|id", in (due date, id) order with tasks
    without a due date last. Row-value comparisons keep each part an index range scan."""
    due, task_id = None, 0
    in_nulls = False
    if cursor:
        due_s, _, id_s = cursor.partition("|")
        try:
            task_id = int(id_s)
            due = datetime.fromisoformat(due_s) if due_s else None
        except ValueError:
            return []  # a tampered cursor gives an empty page, not an error
        in_nulls = due is None
    found = []
    if not in_nulls:
        dated = q.where(HumanTask.due_at.is_not(None))
        if due is not None:
            dated = dated.where(tuple_(HumanTask.due_at, HumanTask.id) >
                                tuple_(literal(due, HumanTask.due_at.type), literal(task_id)))
        found = session.execute(dated.order_by(HumanTask.due_at, HumanTask.id).limit(n)).all()
        task_id = 0
    if len(found) < n:
        undated = q.where(HumanTask.due_at.is_(None), HumanTask.id > task_id)
        found += session.execute(undated.order_by(HumanTask.id).limit(n - len(found))).all()
    return found


def _deadline_filter(calendar: WorkingDayCalendar, today: date, state: str):
    """Deadline states as ranges of the deadline column (computed once per query)."""
    from app.sla.calendar import deadline_datetime
    deadline_col = func.coalesce(ProcessInstance.deadline_at, HumanTask.due_at)
    # the last deadline that is still "at risk" today: AT_RISK_DAYS working days ahead
    end_today = deadline_datetime(today)
    try:
        risk_end = deadline_datetime(calendar.add_working_days(today, AT_RISK_DAYS))
    except CalendarYearMissing as e:
        # The horizon reaches a year nobody entered (late December): every working-day deadline
        # still known falls before it (the others are pending), so "at risk" runs to the end
        # of the last entered year instead of refusing the filter.
        risk_end = deadline_datetime(date(e.year - 1, 12, 31))
    if state == "overdue":
        return deadline_col < end_today
    if state == "at_risk":
        return and_(deadline_col >= end_today, deadline_col <= risk_end)
    return deadline_col > risk_end
