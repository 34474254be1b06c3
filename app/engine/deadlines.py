"""Named deadlines of a case (办件时限), kept in step with its workflow.

The diagram declares each deadline once (``deadline.NAME`` on the process) and where it
starts, is met and pauses (``deadlineStarts`` / ``deadlineMet`` / ``pausesDeadline`` on its
elements; see :mod:`app.engine.properties`). Every step:

1. elements that completed start or meet their deadlines (hook called as each task completes,
   so a timer evaluated later in the same step already sees the started deadline);
2. elements the case now waits at with ``pausesDeadline`` open a pause, those it left close it;
3. each deadline's last day is recomputed (:func:`app.engine.lengths.due_date`): running,
   paused (计时暂停), pending a calendar year (待定) or met (on time or late);
4. timers whose expression reads the calendar (``deadline()``, ``working_days()``...) are
   evaluated again when a deadline moved, and fire if they became due.

A timer whose time cannot be known (a year not entered, a paused or unstarted deadline) gets
the value :data:`PENDING_TIME` and waits as a ``pending`` timer row: it never fires on a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from app.engine import properties as props
from app.common.clock import CHINA_TZ, deadline_datetime
from app.engine.lengths import BadLength, Length, due_date
from app.engine.models import (ENDED, MET, NOT_STARTED, PAUSED, PENDING, RUNNING, CaseDeadline,
                               DeadlinePause)
from app.engine.ports import Calendar, YearNotEntered

#: The value of a timer whose fire time is not known yet (never reached).
PENDING_TIME = "9999-12-31T23:59:59+08:00"
PENDING_YEAR_KEY = "sscard_pending_year"  # task internal data: the year a timer waits for

# Timer expressions that read the calendar: evaluated again when the calendar or a deadline
# changes. Other timers ("PT72H") keep the time they got when they started.
CALENDAR_CALL = re.compile(r"\b(working_days|calendar_days|months|deadline)\s*\(")


class DeadlineUnknown(LookupError):
    """``deadline(name)`` of a deadline whose last day is not known (pending, paused, not
    started). In a timer expression it makes the timer pending; elsewhere an incident."""

    def __init__(self, name: str, year: int | None = None):
        self.name, self.year = name, year
        super().__init__(f"时限“{name}”的截止日期尚未确定 (deadline {name!r} is not known yet)")


@dataclass(frozen=True)
class Change:
    """A deadline whose last day or state a step changed (for the audit)."""
    name: str
    title: str
    old: str
    new: str


def local_day(moment) -> date:
    return moment.astimezone(CHINA_TZ).date()


def day_text(row: CaseDeadline) -> str:
    """The deadline as the history states it: its date, or why it has none."""
    if row.state == PAUSED:
        return "计时暂停"
    if row.due_on is None:
        return f"待定（{row.pending_year} 年法定节假日安排未录入）" if row.pending_year else "待定"
    return row.due_on.isoformat()


class Deadlines:
    """The deadline rows of one case during one step (loaded once, flushed with the step)."""

    def __init__(self, case):
        self.case = case
        self.session = case.session
        # a model without deadlines (most steps of most procedures) costs no query here
        self.rows: dict[str, CaseDeadline] = {} if not case.model.deadlines else {
            r.name: r for r in self.session.scalars(select(CaseDeadline).where(
                CaseDeadline.instance_id == case.instance.id).order_by(CaseDeadline.id))}
        self._pauses: dict[int, list[DeadlinePause]] | None = None
        self._unreported: list[Change] = []  # computed early (a start), reported by recompute

    @property
    def today(self) -> date:
        return local_day(self.case.now)

    @property
    def calendar(self) -> Calendar:
        return self.case.engine.context.calendar

    def pauses(self, row: CaseDeadline) -> list[DeadlinePause]:
        if self._pauses is None:
            ids = [r.id for r in self.rows.values() if r.id is not None]
            self._pauses = {}
            for p in self.session.scalars(select(DeadlinePause).where(
                    DeadlinePause.deadline_id.in_(ids)).order_by(DeadlinePause.id)):
                self._pauses.setdefault(p.deadline_id, []).append(p)
        return self._pauses.setdefault(row.id, [])

    # -- the case starts: one row per declared deadline --------------------------------------
    def create(self) -> None:
        started_elsewhere = self.case.model.deadline_roles[props.DEADLINE_STARTS]
        for name, (length, title) in self.case.model.deadlines.items():
            try:
                Length.parse(length)
            except BadLength:
                continue  # refused at deploy; an old version's typo must not stop the case
            row = CaseDeadline(instance_id=self.case.instance.id, name=name, title=title[:200],
                               length=length, state=NOT_STARTED)
            self.session.add(row)
            self.rows[name] = row
        self.session.flush()  # ids, for pauses
        for name in self.rows:
            if name not in started_elsewhere:
                self.start(name)

    def _named(self, names: list[str]) -> list[CaseDeadline]:
        if "*" in names:
            return list(self.rows.values())
        return [self.rows[n] for n in names if n in self.rows]

    def start(self, name: str) -> None:
        row = self.rows.get(name)
        if row is not None and row.state == NOT_STARTED:
            row.state, row.start_on = RUNNING, self.today
            # known at once: a timer evaluated later in this step reads it
            change = self._recompute_row(row)
            if change is not None:
                self._unreported.append(change)

    def meet(self, row: CaseDeadline) -> None:
        if row.state in (RUNNING, PAUSED, PENDING):
            self._close_pauses(row, None)
            row.state, row.met_on = MET, self.today

    # -- hook: a task completed ------------------------------------------------------------
    def task_completed(self, task) -> None:
        spec = task.task_spec
        for name in props.deadline_names(spec, props.DEADLINE_STARTS):
            self.start(name)
        for row in self._named(props.deadline_names(spec, props.DEADLINE_MET)):
            self.meet(row)

    # -- pauses --------------------------------------------------------------------------------
    def suspend(self, names: list[str] | None, reason: str, by: str | None,
                task_guid: str | None = None) -> list[CaseDeadline]:
        """Open a pause on the running deadlines named (all when None)."""
        paused = []
        for row in self._named(names or ["*"]):
            if row.state not in (RUNNING, PENDING, PAUSED):
                continue
            if any(p.resumed_on is None and p.task_guid == task_guid for p in self.pauses(row)):
                continue  # this clerk / element has paused it already
            pause = DeadlinePause(deadline_id=row.id, reason=reason[:500], task_guid=task_guid,
                                  paused_on=self.today, paused_by=by)
            self.session.add(pause)
            self.pauses(row).append(pause)
            paused.append(row)
        return paused

    def resume(self, names: list[str] | None, by: str | None) -> list[CaseDeadline]:
        """Close the pauses a clerk opened (an element's pause ends when the case leaves it)."""
        return [row for row in self._named(names or ["*"])
                if self._close_pauses(row, by, task_guid=None)]

    def _close_pauses(self, row, by, task_guid: str | None = "any") -> bool:
        closed = False
        for p in self.pauses(row):
            if p.resumed_on is None and (task_guid == "any" or p.task_guid == task_guid):
                p.resumed_on, p.resumed_by = self.today, by
                closed = True
        return closed

    def sync_waiting(self) -> None:
        """Pauses of elements with ``pausesDeadline``: open while the case waits there."""
        if not self.rows or not self.case.model.deadline_roles[props.PAUSES_DEADLINE]:
            return  # nothing in this model pauses a deadline: no walk through the task tree
        waiting = {}
        for task in self.case.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            names = props.deadline_names(task.task_spec, props.PAUSES_DEADLINE)
            if names and (task.task_spec.manual or task.state == TaskState.WAITING):
                waiting[str(task.id)] = (task, names)
        for row in self.rows.values():
            for p in self.pauses(row):
                if p.resumed_on is None and p.task_guid is not None and p.task_guid not in waiting:
                    p.resumed_on, p.resumed_by = self.today, "system"
        for guid, (task, names) in waiting.items():
            title = props.title(task.task_spec)
            self.suspend(names, f"等待申请人：{title}", "system", task_guid=guid)

    # -- recompute ---------------------------------------------------------------------------
    def recompute(self) -> list[Change]:
        """Every deadline's state and last day from its start, length and pauses."""
        changes, self._unreported = self._unreported, []
        for row in self.rows.values():
            change = self._recompute_row(row)
            if change is not None:
                changes.append(change)
        return changes

    def _recompute_row(self, row: CaseDeadline) -> Change | None:
        if row.state in (NOT_STARTED, ENDED):
            return None
        before = (row.state, row.due_on, row.pending_year, row.met_late)
        old_text = day_text(row) if row.due_on or row.state != RUNNING else "未开始"
        pauses = self.pauses(row)
        spans = [(p.paused_on, p.resumed_on) for p in pauses if p.resumed_on is not None]
        try:
            due, year = due_date(Length.parse(row.length), row.start_on, spans, self.calendar), None
        except YearNotEntered as e:
            due, year = None, e.year
        if row.state == MET:
            row.due_on, row.pending_year = due, year
            row.met_late = None if due is None else row.met_on > due
        elif any(p.resumed_on is None for p in pauses):
            row.state, row.due_on, row.pending_year = PAUSED, None, None
        elif due is None:
            row.state, row.due_on, row.pending_year = PENDING, None, year
        else:
            row.state, row.due_on, row.pending_year = RUNNING, due, None
        if (row.state, row.due_on, row.pending_year, row.met_late) == before:
            return None
        return Change(row.name, row.title, old_text, day_text(row))

    def end(self, completed: bool) -> None:
        """The case ended: deadlines no element meets are met at completion; the others end."""
        meters = self.case.model.deadline_roles[props.DEADLINE_MET]
        for row in self.rows.values():
            if row.state in (RUNNING, PAUSED, PENDING):
                if completed and row.name not in meters:
                    self.meet(row)
                else:
                    self._close_pauses(row, "system")
                    row.state = ENDED
            elif row.state == NOT_STARTED:
                row.state = ENDED

    def primary(self) -> CaseDeadline | None:
        """The deadline lists and the inbox sort by: ``statutory`` if declared, else the
        first declared."""
        return self.rows.get(props.STATUTORY) or next(iter(self.rows.values()), None)

    # -- the deadline() script function ------------------------------------------------------
    def due_iso(self, name: str) -> str:
        row = self.rows.get(name)
        if row is None:
            raise KeyError(f"流程未声明时限“{name}” (no deadline {name!r} declared)")
        if row.state == MET:
            raise DeadlineUnknown(name)  # nothing to wait for any more
        if row.state != RUNNING or row.due_on is None:
            raise DeadlineUnknown(name, row.pending_year)
        return deadline_datetime(row.due_on).isoformat()


def calendar_timers(workflow, only_deadline: bool = False) -> list:
    """Waiting date timers whose expression reads the calendar (or a deadline)."""
    found = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimeDateEventDefinition) or task.state != TaskState.WAITING:
            continue
        expression = definition.expression or ""
        if only_deadline and "deadline(" not in expression:
            continue
        if CALENDAR_CALL.search(expression):
            found.append(task)
    return found


def forget_timer_values(tasks) -> None:
    """Make these timers evaluate their expression again on the next refresh."""
    for task in tasks:
        task.internal_data.pop("event_value", None)
        task.internal_data.pop(PENDING_YEAR_KEY, None)
