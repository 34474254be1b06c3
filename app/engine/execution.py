"""Run the engine until the case waits (推进流程), turning task failures into BPMN errors or
incidents.

When a task fails:

* a service operation raised ``ServiceError`` and an error boundary event on the task (or on
  an enclosing subprocess) catches its ``code`` (or catches every error): the engine throws
  that BPMN error itself (SpiffWorkflow never turns Python exceptions into BPMN errors). The
  boundary path gets ``error_code``, ``error_message`` (Chinese) and ``error_message_en`` in
  its task data, and the bpmn:error's ``spiffworkflow:variableName`` (if any) the whole payload;
* otherwise the task stays in ERROR and an ``Incident`` records the message; the rest of the
  case goes on where it can. The failed operation's writes were undone by its savepoint.

A failure that is not a task's (the engine itself) propagates: the step rolls back.
"""
from __future__ import annotations

from typing import Callable
from uuid import UUID

from sqlalchemy import select
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine import audit
from app.engine import properties as props
from app.engine.case import Case
from app.engine.deadlines import calendar_timers, forget_timer_values
from app.engine.errors import EngineError, find_cause
from app.engine.models import INCIDENT_OPEN, Incident
from app.engine.services import ServiceError
from app.engine.transaction import is_race
from app.common.clock import deadline_datetime
from app.engine.models import RUNNING
from app.engine.ports import YearNotEntered

_MAX_ROUNDS = 500  # each round settles at least one failed task; a bound against surprises


def _error_tasks(case: Case) -> set[UUID]:
    return {t.id for t in case.workflow.get_tasks(state=TaskState.ERROR)}


def advance(case: Case, action: Callable[[], object] | None = None) -> None:
    """Run ``action`` (e.g. completing a user task), then the engine until it waits; then
    bring the case's deadlines up to date (timers that read a moved deadline are evaluated
    again and may fire, which runs the engine once more)."""
    _run(case, action)
    settle_deadlines(case)


def settle_deadlines(case: Case, *, recalculate_timers: bool = False) -> list:
    """Pauses, states and last days of the case's deadlines after the engine ran; returns
    the changes (for the audit). ``recalculate_timers``: every calendar timer is evaluated
    again (the calendar changed), not only those of a moved deadline."""
    book = case.deadlines
    changes: list = []
    forget = calendar_timers(case.workflow) if recalculate_timers else []
    for _ in range(10):  # each round follows a timer that fired; a bound against surprises
        if case.workflow.is_completed():
            book.end(completed=True)
        book.sync_waiting()
        moved = book.recompute()
        changes += moved
        if moved:
            forget += calendar_timers(case.workflow, only_deadline=True)
        if not forget:
            break
        forget_timer_values(forget)
        forget = []
        _run(case, None)
    primary = book.primary()
    case.instance.deadline_at = (deadline_datetime(primary.due_on)
                                 if primary is not None and primary.state == RUNNING else None)
    if changes:
        case.notes.setdefault("deadlines", []).extend(
            f"{c.title}：{c.old} → {c.new}" for c in changes)
    return changes


def _run(case: Case, action: Callable[[], object] | None = None) -> None:
    failed_before = _error_tasks(case)
    for _ in range(_MAX_ROUNDS):
        try:
            if action is not None:
                pending, action = action, None
                pending()
            case.workflow.refresh_timers()
            case.workflow.do_engine_steps(did_complete_task=case.deadlines.task_completed)
            return
        except Exception as exc:
            if _step_failure(case, exc):
                raise
            failed = [t for t in case.workflow.get_tasks(state=TaskState.ERROR)
                      if t.id not in failed_before]
            if not failed:
                cause = _clerk_readable(exc)
                if cause is exc:
                    raise
                raise cause from exc
            for task in failed:
                failed_before.add(task.id)
                operation, cause = case.engine.failures.pop(task.id, (None, exc))
                if isinstance(cause, ServiceError) and throw_bpmn_error(case, task, cause):
                    continue
                open_incident(case, task, operation, cause)
    raise RuntimeError("the engine did not settle")


def _step_failure(case: Case, exc: BaseException) -> bool:
    """A failure of the step itself (lost race, broken transaction), not of a task: it must
    roll the whole step back rather than open an incident."""
    if case.engine.fatal is not None or not case.session.is_active:
        return True
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_race(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _clerk_readable(exc: BaseException) -> BaseException:
    """The exception a clerk can read: SpiffWorkflow wraps e.g. ``YearNotEntered`` raised
    by ``working_days()`` in a timer expression into "Error evaluating expression"."""
    return find_cause(exc, (YearNotEntered, EngineError, ServiceError)) or exc


# -- error boundary events ---------------------------------------------------------------------

def _attached_catchers(task):
    """Waiting error boundary events attached to ``task``."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return []
    return [c for c in parent.children if c is not task and c.state == TaskState.WAITING
            and isinstance(c.task_spec, CatchingEvent)
            and isinstance(c.task_spec.event_definition, ErrorEventDefinition)]


def find_catcher(case: Case, task, event: BpmnEvent):
    """The error boundary event catching ``event`` thrown by ``task``: on the task itself,
    else on the subprocess around it, outwards."""
    current = task
    while current is not None:
        for catcher in _attached_catchers(current):
            if catcher.task_spec.catches(catcher, event):
                return catcher
        parent_id = current.workflow.parent_task_id
        current = case.workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return None


def throw_bpmn_error(case: Case, task, error: ServiceError) -> bool:
    """Throw ``error`` as a BPMN error from ``task``; False when nothing catches it."""
    payload = {"code": error.code, "message_zh": error.message_zh,
               "message_en": error.message_en, "details": error.details}
    event = BpmnEvent(ErrorEventDefinition(error.code, code=error.code), payload=payload)
    catcher = find_catcher(case, task, event)
    if catcher is None:
        return False
    task._set_state(TaskState.CANCELLED)  # interrupted by the boundary event, not failed
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)  # READY; inherits data, so set ours after
    catcher.data.update(error_code=error.code, error_message=error.message_zh,
                        error_message_en=error.message_en)
    case.notes.setdefault("errors_caught", []).append(
        {"task": task.task_spec.bpmn_id, "code": error.code,
         "caught_by": catcher.task_spec.bpmn_id})
    return True


# -- incidents ---------------------------------------------------------------------------------

def _messages(task, exc: BaseException) -> tuple[str, str, str | None]:
    if isinstance(exc, ServiceError):
        return exc.message_zh, exc.message_en, exc.code
    title = props.title(task.task_spec)
    # A script over its budget, task data that is not JSON...: the engine's own bilingual
    # words (SpiffWorkflow wraps them into "Error evaluating expression ...").
    readable = find_cause(exc, (EngineError,))
    if readable is not None:
        line = getattr(readable, "line", None) or getattr(exc, "line_number", None) or None
        zh_at, en_at = (f"（第 {line} 行）", f" (line {line})") if line else ("", "")
        return (f"步骤“{title}”执行失败：{readable.message_zh}{zh_at}",
                f"Step '{title}' failed: {readable.message_en}{en_at}", None)
    text = f"{type(exc).__name__}: {exc}"
    return f"步骤“{title}”执行失败：{text}", f"Step '{title}' failed: {text}", None


def open_incident(case: Case, task, operation: str | None, exc: BaseException) -> Incident:
    """Record (or update, on a failed retry) the open incident of a failed task."""
    session, instance = case.session, case.instance
    message_zh, message_en, code = _messages(task, exc)
    incident = session.scalars(select(Incident).where(
        Incident.instance_id == instance.id, Incident.task_guid == str(task.id),
        Incident.state == INCIDENT_OPEN)).first()
    if incident is None:
        incident = Incident(instance_id=instance.id, task_guid=str(task.id),
                            task_name=task.task_spec.bpmn_id or task.task_spec.name,
                            operation=operation, error_code=code, message_zh=message_zh,
                            message_en=message_en, created_at=case.now, attempts=1)
        session.add(incident)
    else:
        incident.attempts += 1
        incident.message_zh, incident.message_en, incident.error_code = message_zh, message_en, code
        incident.updated_at = case.now
    session.flush()
    audit.record(session, "incident", case.actor, instance_id=instance.id,
                 task_name=incident.task_name, incident_id=incident.id, operation=operation,
                 code=code, message_zh=message_zh, message_en=message_en)
    return incident
