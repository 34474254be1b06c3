"""Inbox queries 待办查询. Keyset paging on (due_at, id): a page costs the same on page 1 and
page 500, with the (group, state) / (assignee, state) / due_at indexes of human_task."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.engine.models import HumanTask, ProcessInstance
from app.sla.calendar import SHANGHAI, CalendarYearMissing, WorkingDayCalendar

AT_RISK_DAYS = 3  # working days left at which a case shows amber
FAR_FUTURE = datetime(9999, 12, 31)


@dataclass
class Row:
    task: HumanTask
    instance: ProcessInstance
    days_left: int | None
    deadline_state: str  # overdue | at_risk | on_time | none | unknown


def deadline_state(days_left: int | None) -> str:
    if days_left is None:
        return "none"
    if days_left < 0:
        return "overdue"
    return "at_risk" if days_left <= AT_RISK_DAYS else "on_time"


def days_left(calendar: WorkingDayCalendar, deadline: datetime | None, today: date) -> int | None:
    if deadline is None:
        return None
    return calendar.working_days_left(deadline.astimezone(SHANGHAI).date() if deadline.tzinfo else deadline.date(), today)


def tasks(session: Session, user, scope: str, calendar: WorkingDayCalendar, today: date, *,
          process: str | None = None, deadline: str | None = None, after: str | None = None,
          limit: int = 25) -> tuple[list[Row], str | None]:
    """One page of tasks: ``scope`` "mine" (claimed by the user) or "group" (unclaimed, in
    the user's groups). Sorted by due date (no due date last), then id. Returns (rows, cursor
    of the next page)."""
    due = func.coalesce(HumanTask.due_at, FAR_FUTURE)
    q = select(HumanTask, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id) \
        .where(HumanTask.state == "open")
    if scope == "mine":
        q = q.where(HumanTask.assignee_id == user.id)
    else:
        q = q.where(HumanTask.assignee_id.is_(None), HumanTask.group.in_(sorted(user.group_names)))
    if process:
        q = q.where(ProcessInstance.process_key == process)
    if deadline in ("overdue", "at_risk", "on_time"):
        q = q.where(_deadline_filter(calendar, today, deadline))
    if after:
        due_s, _, id_s = after.partition("|")
        cursor_due, cursor_id = datetime.fromisoformat(due_s), int(id_s)
        q = q.where(or_(due > cursor_due, and_(due == cursor_due, HumanTask.id > cursor_id)))
    q = q.order_by(due, HumanTask.id).limit(limit + 1)
    found = session.execute(q).all()
    rows = []
    for task, instance in found[:limit]:
        try:
            left = days_left(calendar, instance.deadline_at or task.due_at, today)
            state = deadline_state(left)
        except CalendarYearMissing:
            left, state = None, "unknown"
        rows.append(Row(task, instance, left, state))
    cursor = None
    if len(found) > limit:
        last = found[limit - 1][0]
        cursor = f"{(last.due_at or FAR_FUTURE).replace(tzinfo=None).isoformat()}|{last.id}"
    return rows, cursor


def _deadline_filter(calendar: WorkingDayCalendar, today: date, state: str):
    """Deadline states as ranges of the deadline column (computed once per query)."""
    from app.sla.calendar import deadline_datetime
    deadline_col = func.coalesce(ProcessInstance.deadline_at, HumanTask.due_at)
    # the last deadline that is still "at risk" today: AT_RISK_DAYS working days ahead
    end_today = deadline_datetime(today)
    risk_end = deadline_datetime(calendar.add_working_days(today, AT_RISK_DAYS))
    if state == "overdue":
        return deadline_col < end_today
    if state == "at_risk":
        return and_(deadline_col >= end_today, deadline_col <= risk_end)
    return or_(deadline_col > risk_end)
