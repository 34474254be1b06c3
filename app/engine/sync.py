"""Mirror a case's workflow into its rows after each step (同步待办、定时器与办件状态).

* READY user/manual tasks -> open ``HumanTask`` rows (group = lane, due date from
  ``dueWorkingDays``); open rows whose task is no longer READY -> cancelled (withdrawn by a
  boundary event, a cancellation...). Completion is written by ``complete_task`` itself.
* WAITING timer events -> ``Timer`` rows with their fire time; rows whose timer is gone ->
  fired (the event ran) or cancelled (its branch was cut off).
* the case row: serialized state, status, summary.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                             TimerEventDefinition)
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from app.engine import audit
from app.engine import properties as props
from app.engine.case import Case, current_data
from app.engine.db import plain
from app.engine.deadlines import PENDING_TIME, PENDING_YEAR_KEY
from app.engine.models import (COMPLETED, ERROR, OPEN, RUNNING, TIMER_CANCELLED, TIMER_FIRED,
                               TIMER_PENDING, TIMER_WAITING, WAITING, WITHDRAWN, HumanTask, Timer)
from app.engine.serialization import dump_state
from app.common.clock import deadline_datetime, to_local_date
from app.engine.ports import Calendar, YearNotEntered


def calendar(case: Case) -> Calendar:
    return case.engine.context.calendar  # shared with working_days() in this step


def _task_state(case: Case, guid: str) -> int | None:
    try:
        return case.workflow.get_task_from_id(UUID(guid)).state
    except (TaskNotFoundException, KeyError, ValueError):
        return None


def effective_lane(case: Case, task) -> str | None:
    """The task's lane, or — in a shared sub-process (``callerLane``) or an embedded one —
    the lane of the activity that runs it, outwards."""
    current = task
    while current is not None:
        if current.task_spec.lane:
            return current.task_spec.lane
        parent_id = current.workflow.parent_task_id
        current = case.workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return None


def sync_human_tasks(case: Case) -> list[HumanTask]:
    """Open rows for new READY manual tasks; withdraw rows whose task is gone. Returns the
    open rows."""
    session, instance = case.session, case.instance
    ready = {str(t.id): t for t in case.workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.state == OPEN)))
    still_open = []
    for row in rows:
        if row.task_guid in ready:
            still_open.append(row)
        else:
            row.state = WITHDRAWN
    known = {row.task_guid for row in still_open}
    cal = None
    for guid, task in ready.items():
        if guid in known:
            continue
        spec = task.task_spec
        lane = effective_lane(case, task)
        row = HumanTask(instance_id=instance.id, task_guid=guid,
                        task_name=spec.bpmn_id or spec.name, title=props.task_title(task),
                        title_en=props.task_title(task, "en"),
                        form_key=props.form_key(spec), lane=lane, group=lane,
                        state=OPEN, due_working_days=props.due_working_days(spec),
                        created_at=case.now)
        cal = cal or calendar(case)
        set_task_due(row, cal)
        session.add(row)
        still_open.append(row)
    return still_open


def set_task_due(row: HumanTask, cal: Calendar) -> bool:
    """The task's due date from ``dueWorkingDays`` counted from the day it opened; pending
    (``due_pending_year``) while that needs a year not entered. True when it changed."""
    before = (row.due_at, row.due_pending_year)
    if row.due_working_days is None:
        return False
    try:
        row.due_at = deadline_datetime(cal.add_working_days(to_local_date(row.created_at),
                                                            row.due_working_days))
        row.due_pending_year = None
    except YearNotEntered as e:
        row.due_at, row.due_pending_year = None, e.year
    return (row.due_at, row.due_pending_year) != before


PENDING = object()  # a timer waiting for its time (pending calendar year or deadline)


def _timer_due(task) -> datetime | None:
    value = task.task_spec.event_definition.details(task).value
    if isinstance(value, dict):  # cycle timer with no cycles left
        value = value.get("next")
    if not isinstance(value, str) or not value:
        return None
    if value == PENDING_TIME:
        return PENDING
    try:
        return plain(TimerEventDefinition.get_datetime(value))
    except ValueError:
        return None


def waiting_timers(case: Case) -> dict[str, tuple[object, datetime]]:
    """{task guid: (task, fire time)} of the timer events the case waits for."""
    found = {}
    for task in list(case.workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and task.state == TaskState.WAITING:
            due = _timer_due(task)
            if due is not None:
                found[str(task.id)] = (task, due)
    return found


def sync_timers(case: Case) -> list[Timer]:
    """Returns the rows of the timers that fired in this step."""
    session, instance, now = case.session, case.instance, case.now
    fired_rows = []
    waiting = waiting_timers(case)
    rows = list(session.scalars(select(Timer).where(
        Timer.instance_id == instance.id, Timer.state.in_((TIMER_WAITING, TIMER_PENDING)))))
    current = {}
    for row in rows:
        entry = waiting.get(row.task_guid)
        if entry is None:
            state = _task_state(case, row.task_guid)
            fired = state is not None and state & (TaskState.READY | TaskState.COMPLETED)
            row.state = TIMER_FIRED if fired else TIMER_CANCELLED
            row.fired_at = now if fired else None
            if fired:
                fired_rows.append(row)
            continue
        task, due = entry
        if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) \
                and row.state == TIMER_WAITING and due is not PENDING and row.due_at != due \
                and row.due_at <= now:  # a cycle timer fired; next cycle below
            row.state, row.fired_at = TIMER_FIRED, now
            fired_rows.append(row)
            continue
        _set_timer_due(row, task, due)
        current[row.task_guid] = row
    for guid, (task, due) in waiting.items():
        if guid not in current:
            spec = task.task_spec
            row = Timer(instance_id=instance.id, task_guid=guid,
                        task_name=spec.bpmn_id or spec.name,
                        event_name=spec.event_definition.name or spec.bpmn_name,
                        created_at=now)
            _set_timer_due(row, task, due)
            session.add(row)
    return fired_rows


def _set_timer_due(row: Timer, task, due) -> None:
    if due is PENDING:
        row.state, row.due_at = TIMER_PENDING, None
        row.pending_year = task._get_internal_data(PENDING_YEAR_KEY)
    else:
        row.state, row.due_at, row.pending_year = TIMER_WAITING, due, None


def summary(case: Case, open_tasks: list[HumanTask]) -> dict:
    """What lists show without loading the workflow: open task titles and the fields named in
    the process property ``summaryFields``."""
    wf = case.workflow
    data = current_data(wf)
    result = {"open_tasks": sorted({row.title for row in open_tasks})}
    for name in case.model.summary_fields:
        if name in data:
            result[name] = data[name]
    return result


def save(case: Case) -> list[Timer]:
    """Mirror the workflow into rows and store its state (one step's end). Returns the timers
    that fired during the step."""
    open_tasks = sync_human_tasks(case)
    fired = sync_timers(case)
    instance, wf = case.instance, case.workflow
    if wf.is_completed():
        instance.status, instance.ended_at = COMPLETED, case.now
    elif wf.get_tasks(state=TaskState.ERROR):
        instance.status = ERROR
    elif open_tasks:
        instance.status = RUNNING
    else:
        instance.status = WAITING
    instance.summary = summary(case, open_tasks)
    instance.state = dump_state(wf)
    instance.updated_at = case.now
    case.session.flush()
    return fired


def finish_step(case: Case, actor=None, **notes) -> list[Timer]:
    """:func:`save`, and one audit record per timer that fired during the step (every step's
    end: starts, completions, messages, timers, recomputations)."""
    fired = save(case)
    for timer in fired:
        audit.record(case.session, "timer", actor or case.actor, instance_id=case.instance.id,
                     task_name=timer.task_name, timer_id=timer.id,
                     due_at=timer.due_at.isoformat() if timer.due_at else None, **notes)
    return fired
