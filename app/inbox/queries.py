"""Inbox queries 待办查询. Keyset paging on (sort key, id): a page costs the same on page 1
and page 500, with the (group, state) / (assignee, state) / (group, state, due_at, id)
indexes of human_task.

The default order (``sort="urgent"``) puts the applicants waiting at the window first (cases
of a procedure with the process property ``applicantWaiting``, 立等可取: they have no due date,
the applicant stands at the counter), in the order they came, then the other tasks by due date
(none last). The columns sort plainly: ``due`` / ``-due`` (by due date, none last either way),
``received`` / ``-received`` (when the task arrived). Each order is a list of parts read one
after the other with a cursor "part:key|id", so every part stays one index range scan."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, literal, select, true, tuple_
from sqlalchemy.orm import Session

from app.engine import properties as props
from app.engine.errors import ModelInvalid
from app.engine.models import HumanTask, ProcessInstance
from app.engine.repository import latest_models, load
from app.common.clock import CHINA_TZ
from app.cases.access import at_offices
from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar
from app.sla.view import AT_RISK_DAYS, DeadlineView, pending_text, primary
from app.sla.view import views as deadline_views

SCOPES = ("mine", "group")
SORTS = ("urgent", "due", "-due", "received", "-received")  # "urgent" is the default


@dataclass
class Row:
    task: HumanTask
    instance: ProcessInstance
    days_left: int | None
    deadline_state: str  # overdue | at_risk | on_time | none | unknown | pending | paused
    deadline: DeadlineView | None = None  # the case's statutory (or first) deadline
    applicant_waiting: bool = False  # 立等可取: the applicant waits at the window

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


def waiting_processes(session: Session) -> list[str]:
    """Keys of the procedures whose applicant waits at the window (process property
    ``applicantWaiting`` of the latest version; parsed models are cached)."""
    keys = []
    for model in latest_models(session):
        try:
            loaded = load(session, model.id)
        except ModelInvalid:  # a model that no longer parses (e.g. a form unregistered since)
            continue
        if props.is_true(loaded.case_property(props.APPLICANT_WAITING)):
            keys.append(model.key)
    return keys


def _scoped(session: Session, user, scope: str, q):
    """``q`` (on HumanTask joined to its case) narrowed to a tab: "mine" (claimed by the
    user) or "group" (unclaimed, in the user's groups, at the user's offices)."""
    q = q.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id) \
        .where(HumanTask.state == "open")
    if scope == "mine":
        return q.where(HumanTask.assignee_id == user.id)
    return q.where(HumanTask.assignee_id.is_(None), HumanTask.group.in_(sorted(user.group_names)),
                   at_offices(session, user))  # the queue at the user's offices


def counts(session: Session, user) -> dict[str, int]:
    """{scope: number of tasks} of both tabs: the lists' conditions, counted (no filters: a
    tab link opens the whole tab). Index scans of (assignee, state) and (group, state)."""
    return {scope: session.scalar(_scoped(session, user, scope,
                                          select(func.count(HumanTask.id)).select_from(HumanTask)))
            for scope in SCOPES}


def tasks(session: Session, user, scope: str, calendar: WorkingDayCalendar, today: date, *,
          process: str | None = None, deadline: str | None = None, after: str | None = None,
          sort: str = "urgent", limit: int = 25) -> tuple[list[Row], str | None]:
    """One page of tasks: ``scope`` "mine" (claimed by the user) or "group" (unclaimed, in
    the user's groups), in the order ``sort`` (:data:`SORTS`, module docstring). Returns
    (rows, cursor of the next page)."""
    q = _scoped(session, user, scope, select(HumanTask, ProcessInstance).select_from(HumanTask))
    if process:
        q = q.where(ProcessInstance.process_key == process)
    if deadline in ("overdue", "at_risk", "on_time"):
        q = q.where(_deadline_filter(calendar, today, deadline))
    waiting = waiting_processes(session)
    parts = _order(sort if sort in SORTS else "urgent", waiting)
    found = _page(session, q, parts, after, limit + 1)
    deadlines = deadline_views(session, {i.id for _, (_, i) in found[:limit]}, calendar, today)
    rows = []
    for _, (task, instance) in found[:limit]:
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
        rows.append(Row(task, instance, left, state, deadline,
                        applicant_waiting=instance.process_key in waiting))
    cursor = None
    if len(found) > limit:
        part, (last, _) = found[limit - 1]
        key = parts[part].key
        cursor = f"{part}:{getattr(last, key.key).isoformat() if key is not None else ''}|{last.id}"
    return rows, cursor


@dataclass(frozen=True)
class _Part:
    """One part of an order: the tasks matching ``where``, by ``key`` (not null) then id, or
    by id alone (``key`` None)."""
    where: object
    key: object = None
    descending: bool = False


def _order(sort: str, waiting: list[str]) -> list[_Part]:
    """The parts of an order, read one after the other (module docstring)."""
    if sort in ("received", "-received"):
        return [_Part(true(), HumanTask.created_at, sort == "-received")]  # created_at: not null
    descending = sort == "-due"
    parts, others = [], []
    if sort == "urgent" and waiting:
        # the applicants at the window first, first come first served (their "due" is now)
        parts.append(_Part(ProcessInstance.process_key.in_(waiting)))
        others = [ProcessInstance.process_key.not_in(waiting)]
    parts.append(_Part(and_(HumanTask.due_at.is_not(None), *others), HumanTask.due_at, descending))
    parts.append(_Part(and_(HumanTask.due_at.is_(None), *others), None, descending))  # none last
    return parts


def _page(session: Session, q, parts: list[_Part], cursor: str | None, n: int) -> list:
    """Up to ``n`` (part, row) after the keyset cursor "part:key|id", in the order of
    ``parts``. Row-value comparisons keep each part an index range scan."""
    first, key_value, after_id = 0, None, None
    if cursor:
        part_s, _, rest = cursor.partition(":")
        key_s, _, id_s = rest.rpartition("|")
        try:
            first, after_id = int(part_s), int(id_s)
            if not 0 <= first < len(parts):
                return []
            if parts[first].key is not None:
                key_value = datetime.fromisoformat(key_s)
            elif key_s:
                return []
        except ValueError:
            return []  # a tampered cursor gives an empty page, not an error
    found = []
    for number in range(first, len(parts)):
        part = parts[number]
        columns = [HumanTask.id] if part.key is None else [part.key, HumanTask.id]
        sub = q.where(part.where)
        if cursor and number == first:
            mark = literal(after_id) if part.key is None else \
                tuple_(literal(key_value, part.key.type), literal(after_id))
            here = columns[0] if part.key is None else tuple_(*columns)
            sub = sub.where(here < mark if part.descending else here > mark)
        order = [c.desc() for c in columns] if part.descending else columns
        found += [(number, row) for row in
                  session.execute(sub.order_by(*order).limit(n - len(found))).all()]
        if len(found) >= n:
            break
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
