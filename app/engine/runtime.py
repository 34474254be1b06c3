"""Runtime (流程运行): one function per step, each one database transaction.

Every step loads the case row locked (PostgreSQL ``FOR UPDATE``) and checks its
``lock_version`` at write time (optimistic, SQLite too), runs the engine until the case waits,
mirrors the workflow into human-task and timer rows, stores the state (without spec) and
appends the audit record, then commits. Any failure rolls the whole step back, so a case is
never left half-done; a failing *task* instead becomes a BPMN error or an incident
(:mod:`app.engine.execution`), committed with the rest of the step.

All step functions take ``now`` (keyword, default: real time) — the engine's clock for the
step: timers, due dates, deadlines, ``working_days()`` and ``today()`` use it.
"""
from __future__ import annotations

import json
import keyword
import math
import re
from datetime import date, datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.engine import audit, clock, ports, repository
from app.engine.case import (Case, current_data, load_case, lock_instance,
                             make_script_engine)
from app.engine.errors import (CaseChanged, EngineError, FormInvalid,  # noqa: F401  (re-exported)
                               FourEyesViolation, IncidentNotFound, IncidentNotOpen,
                               DeadlineNotPaused, DeadlineNotRunning,
                               InstanceNotActive, InstanceNotFound, ModelInvalid,
                               NoMessageReceiver, NotCandidate, ProcessNotFound, TaskAlreadyDone,
                               TaskClaimed, TaskNotFound, TaskNotOpen)
from app.common.i18n import T
from app.engine.execution import advance, settle_deadlines
from app.engine.functions import script_functions
from app.engine.scripting import DATE_HELPERS, sandbox_builtins
from app.engine.models import (ACTIVE_STATUSES, CANCELLED, DONE, INCIDENT_OPEN,
                               INCIDENT_RESOLVED, OPEN, RUNNING, TIMER_CANCELLED, TIMER_PENDING,
                               TIMER_WAITING,
                               WITHDRAWN, HumanTask, Incident, ProcessInstance, Timer)
from app.engine.repository import latest_models  # noqa: F401  (part of the runtime API)
from app.engine.serialization import dump_state
from app.engine.services import Actor
from app.engine.sync import finish_step
from app.engine.tasks import (check_four_eyes, claim, fresh_task, may_work_on,  # noqa: F401
                              reassign, release, require_candidate, require_open)
from app.engine.timers import fire_due_timers  # noqa: F401  (part of the runtime API)
from app.engine.transaction import step
from app.engine.ports import Calendar

__all__ = ["start_instance", "complete_task", "claim", "release", "reassign", "send_message",
           "fire_due_timers", "retry_incident", "cancel_instance", "task_data",
           "suspend_deadline", "resume_deadline", "may_work_on",
           "instance_data", "working_days_left", "latest_models",
           # errors, for callers that catch them from here
           "EngineError", "FormInvalid", "CaseChanged", "TaskAlreadyDone", "TaskNotOpen",
           "TaskClaimed", "NotCandidate", "FourEyesViolation", "InstanceNotActive",
           "NoMessageReceiver", "ProcessNotFound", "ModelInvalid"]

MESSAGE_ACTOR = Actor.system("message")


def _validated(form_key: str, data: dict) -> dict:
    """Cleaned form data, or ``FormInvalid`` with the per-field messages."""
    cleaned, errors = ports.forms().validate(form_key, data or {})
    if errors:
        raise FormInvalid(errors, form_key)
    return cleaned


# -- start ---------------------------------------------------------------------------------------

START_DATA_MAX_BYTES = 64 * 1024  # the start data as JSON (UTF-8)
START_DATA_MAX_DEPTH = 8  # the data object itself is level 1
_START_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def check_start_data(data) -> None:
    """Refuse start data the case's scripts cannot live with (``FormInvalid``, per field): keys
    are ASCII identifiers (no leading "_", at most 64 characters) shadowing no script function
    (``working_days``, ``today``...), builtin or keyword of the scripts; values are JSON (text,
    finite numbers, booleans, null, lists, objects), at most 8 levels deep, 64 KiB in all."""
    if not isinstance(data, dict):
        if data is not None:
            raise FormInvalid({"": [T("发起数据应为对象", "The start data must be an object")]})
        return
    reserved = script_functions.names() | set(sandbox_builtins()) | set(DATE_HELPERS) \
        | set(keyword.kwlist)
    errors, sizes = {}, {}
    for key, value in data.items():
        if not isinstance(key, str) or not _START_KEY.fullmatch(key):
            errors[str(key)[:64]] = [T("字段名应为字母开头的字母、数字或下划线（至多 64 个字符）",
                                       "A field name is a letter followed by letters, digits or "
                                       "underscores (at most 64 characters)")]
            continue
        if key in reserved:
            errors[key] = [T(f"字段名“{key}”是流程脚本的保留名称",
                             f"The field name '{key}' is reserved for process scripts")]
            continue
        problem, stack = None, [(value, 2)]  # iterative: a deep value costs no recursion
        while stack and problem is None:
            item, depth = stack.pop()
            if isinstance(item, (dict, list)) and depth > START_DATA_MAX_DEPTH:
                problem = T("嵌套过深（至多 8 层）", "Nested too deep (at most 8 levels)")
            elif isinstance(item, dict) and all(isinstance(k, str) for k in item):
                stack.extend((v, depth + 1) for v in item.values())
            elif isinstance(item, list):
                stack.extend((v, depth + 1) for v in item)
            elif not (item is None or isinstance(item, (str, int, bool)) or
                      (isinstance(item, float) and math.isfinite(item))):
                problem = T("值应为文本、数字、真假值、列表或对象（JSON）",
                            "A value must be text, a number, true/false, a list or an object (JSON)")
        if problem is not None:
            errors[key] = [problem]
        else:
            sizes[key] = len(json.dumps(value, ensure_ascii=False).encode())
    if not errors and sum(sizes.values()) + 2 * len(sizes) > START_DATA_MAX_BYTES:
        biggest = max(sizes, key=sizes.get)  # name the field that makes it too large
        errors[biggest] = [T("发起数据过大（合计至多 64 KiB）",
                             "The start data is too large (at most 64 KiB in all)")]
    if errors:
        raise FormInvalid(errors)


def start_instance(session: Session, process_key: str, data: dict | None,
                   business_key: str | None, actor: Actor, *,
                   now: datetime | None = None) -> ProcessInstance:
    """Start a case (发起办件) on the latest version of ``process_key``.

    ``data`` becomes the initial task data; when the start event has a ``formKey`` property it
    is validated with that form first (``FormInvalid``) and its cleaned values are used. The
    case's deadline is ``deadlineWorkingDays`` working days from today (process or start-event
    property). Raises ``ProcessNotFound``, ``FormInvalid`` (also for start data the scripts
    cannot live with: :func:`check_start_data`), ``CalendarYearMissing``.
    """
    check_start_data(data)  # before anything runs: a refused start leaves nothing behind
    with step(session, now) as moment:
        model_row = repository.require_latest(session, process_key)
        model = repository.load(session, model_row.id)
        data = dict(data or {})
        if model.start_form_key:
            data = _validated(model.start_form_key, data)
        json.dumps(data)  # task data must stay JSON: refuse early and clearly
        bindings = repository.bind_calls(session, model)
        instance = ProcessInstance(model_id=model.model_id, process_key=model.key,
                                   business_key=business_key, status=RUNNING, state="{}",
                                   summary={}, started_at=moment, started_by=actor.username,
                                   office=actor.office,
                                   call_bindings=bindings or None)
        session.add(instance)
        session.flush()  # the id, for service operations and rows
        engine = make_script_engine(session, actor, instance)
        workflow = BpmnWorkflow(model.spec, repository.workflow_specs(session, model, bindings),
                                script_engine=engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        case = Case(session, instance, model, engine, workflow, actor, moment)
        case.deadlines.create()
        advance(case)
        finish_step(case)
        deadline_at = instance.deadline_at
        audit.record(session, "start", actor, instance_id=instance.id,
                     process_key=model.key, version=model.version, business_key=business_key,
                     deadline_at=deadline_at.isoformat() if deadline_at else None,
                     **case.notes)
    return instance


# -- complete a human task ----------------------------------------------------------------------

def complete_task(session: Session, human_task_id: int, data: dict | None, actor: Actor,
                  expected_lock_version: int | None = None, *,
                  now: datetime | None = None) -> ProcessInstance:
    """Complete a human task (办理) with form data, then run the case on until it waits.

    Checks, in order: the task is open (``TaskAlreadyDone`` / ``TaskNotOpen``); not claimed by
    someone else (``TaskClaimed``); the actor is in the task's group or its assignee
    (``NotCandidate``); the four-eyes rule (``FourEyesViolation``); the case is still at
    ``expected_lock_version`` if given (``CaseChanged``); the form (``FormInvalid``). An
    unclaimed task is claimed by the actor on the way.

    The cleaned form data is merged into the task data at top level (or put under the task's
    ``spiffworkflow:variableName`` if it has one).
    """
    try:
        with step(session, now) as moment:
            instance_id = _task_instance_id(session, human_task_id)
            instance = lock_instance(session, instance_id)
            row = fresh_task(session, human_task_id)
            require_open(row)
            require_candidate(row, actor)
            check_four_eyes(session, row, actor.user_id, actor.username)
            if expected_lock_version is not None and instance.lock_version != expected_lock_version:
                raise CaseChanged()
            cleaned = _validated(row.form_key, data) if row.form_key else {}
            case = load_case(session, instance, actor, moment)
            task = _workflow_task(case, row)
            # a bpmn:manualTask has no add_data_from_form: its (form) data merges at top level
            getattr(task.task_spec, "add_data_from_form", lambda t, d: t.data.update(d))(task, cleaned)
            if row.assignee_id is None:  # auto-claim
                row.assignee_id, row.assignee_name = actor.user_id, \
                    actor.display_name or actor.username
                row.claimed_at = moment
            row.state, row.completed_at = DONE, moment
            row.completed_by_id, row.completed_by = actor.user_id, actor.username
            row.completed_by_name = actor.display_name or actor.username
            version_before = instance.lock_version

            def run_task():
                task.run()
                case.deadlines.task_completed(task)

            advance(case, run_task)
            finish_step(case)
            audit.record(session, "complete", actor, instance_id=instance.id,
                         task_name=row.task_name, task_id=row.id, form_key=row.form_key,
                         data=cleaned, lock_version=version_before, **case.notes)
    except CaseChanged as conflict:
        if type(conflict) is CaseChanged:
            _explain_lost_race(session, human_task_id)
        raise
    return instance


def _explain_lost_race(session: Session, human_task_id: int) -> None:
    """A race lost at write time (SQLite, or a changed ``lock_version``): if someone completed
    the task meanwhile, say who (``TaskAlreadyDone``)."""
    try:
        row = session.get(HumanTask, human_task_id, populate_existing=True)
    finally:
        session.rollback()
    if row is not None:
        require_open(row)


def _task_instance_id(session: Session, human_task_id: int) -> int:
    instance_id = session.scalar(select(HumanTask.instance_id)
                                 .where(HumanTask.id == human_task_id))
    if instance_id is None:
        raise TaskNotFound(human_task_id)
    return instance_id


def _workflow_task(case: Case, row: HumanTask):
    try:
        task = case.workflow.get_task_from_id(UUID(row.task_guid))
    except WorkflowException:
        task = None
    if task is None or task.state != TaskState.READY:
        raise CaseChanged()  # rows and workflow disagree: someone else moved the case
    return task


# -- messages ------------------------------------------------------------------------------------

def send_message(session: Session, message_name: str, payload: dict | None = None, *,
                 business_key: str | None = None, instance_id: int | None = None,
                 actor: Actor = MESSAGE_ACTOR,
                 now: datetime | None = None) -> list[ProcessInstance]:
    """Deliver a BPMN message (消息) to the active case(s) with ``instance_id`` or
    ``business_key`` that wait for it; returns those cases. ``payload`` reaches the task data
    under the catching event's ``spiffworkflow:messageVariable`` (and nowhere without one).
    Raises ``NoMessageReceiver`` when no case waits for it."""
    if instance_id is None and business_key is None:
        raise ValueError("send_message needs business_key or instance_id")
    with step(session, now) as moment:
        if instance_id is not None:
            ids = [instance_id]
        else:
            ids = list(session.scalars(select(ProcessInstance.id).where(
                ProcessInstance.business_key == business_key,
                ProcessInstance.status.in_(ACTIVE_STATUSES)).order_by(ProcessInstance.id)))
        delivered = []
        for iid in ids:
            instance = lock_instance(session, iid, active=False)
            if instance.status not in ACTIVE_STATUSES:
                continue
            case = load_case(session, instance, actor, moment)
            event = BpmnEvent(MessageEventDefinition(message_name), payload=payload or {})
            try:
                case.workflow.send_event(event)
            except WorkflowException:
                continue  # this case is not waiting for it
            advance(case)
            finish_step(case)
            audit.record(session, "message", actor, instance_id=instance.id,
                         message=message_name, payload=payload or {}, **case.notes)
            delivered.append(instance)
        if not delivered:
            raise NoMessageReceiver(message_name, business_key, instance_id)
    return delivered


# -- incidents -----------------------------------------------------------------------------------

def retry_incident(session: Session, incident_id: int, actor: Actor, *,
                   now: datetime | None = None) -> ProcessInstance:
    """Run the failed task of an incident again (重试). The incident is resolved when the task
    gets through; a new failure keeps it open with the new message and one more attempt."""
    with step(session, now) as moment:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        instance = lock_instance(session, incident.instance_id)
        session.refresh(incident)
        if incident.state != INCIDENT_OPEN:
            raise IncidentNotOpen()
        case = load_case(session, instance, actor, moment)
        task = case.workflow.get_task_from_id(UUID(incident.task_guid))
        if task.state != TaskState.ERROR:
            raise CaseChanged()
        audit.record(session, "retry", actor, instance_id=instance.id,
                     task_name=incident.task_name, incident_id=incident.id,
                     attempt=incident.attempts + 1)
        case.workflow.reset_from_task_id(task.id)
        advance(case)
        if case.workflow.get_task_from_id(task.id).state != TaskState.ERROR:
            incident.state, incident.resolved_at = INCIDENT_RESOLVED, moment
            incident.resolved_by = actor.username
        finish_step(case)
    return instance


# -- cancel --------------------------------------------------------------------------------------

def cancel_instance(session: Session, instance_id: int, actor: Actor, reason: str | None = None,
                    *, now: datetime | None = None) -> ProcessInstance:
    """Cancel a case (撤销办件): its open tasks are withdrawn, its timers cancelled, its open
    incidents resolved. Raises ``InstanceNotActive`` for a completed or cancelled case."""
    with step(session, now) as moment:
        instance = lock_instance(session, instance_id)
        case = load_case(session, instance, actor, moment)
        case.workflow.cancel()
        for row in session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.state == OPEN)):
            row.state = WITHDRAWN
        for timer in session.scalars(select(Timer).where(
                Timer.instance_id == instance_id,
                Timer.state.in_((TIMER_WAITING, TIMER_PENDING)))):
            timer.state = TIMER_CANCELLED
        case.deadlines.end(completed=False)
        instance.deadline_at = None
        for incident in session.scalars(select(Incident).where(
                Incident.instance_id == instance_id, Incident.state == INCIDENT_OPEN)):
            incident.state, incident.resolved_at = INCIDENT_RESOLVED, moment
            incident.resolved_by = actor.username
        instance.status, instance.ended_at, instance.updated_at = CANCELLED, moment, moment
        instance.state = dump_state(case.workflow)
        audit.record(session, "cancel", actor, instance_id=instance_id, reason=reason)
    return instance


# -- the legal clock: suspend and resume (时限挂起 / 恢复计时) -------------------------------------

def suspend_deadline(session: Session, instance_id: int, reason: str, actor: Actor,
                     name: str | None = None, *, now: datetime | None = None) -> list[str]:
    """Stop the clock of the case's running deadline ``name`` (all when None) from today, with
    a reason (e.g. 补正材料). Timers reading it wait as pending. Returns the names paused;
    ``DeadlineNotRunning`` when none was running."""
    return _clock_step(session, instance_id, actor, now, name, reason)


def resume_deadline(session: Session, instance_id: int, actor: Actor, name: str | None = None,
                    *, now: datetime | None = None) -> list[str]:
    """Let the clock run again: the paused working days are added to the deadline, and the
    timers that read it move. Returns the names resumed; ``DeadlineNotPaused`` when none was."""
    return _clock_step(session, instance_id, actor, now, name, None)


def _clock_step(session, instance_id, actor, now, name, reason) -> list[str]:
    with step(session, now) as moment:
        instance = lock_instance(session, instance_id)
        case = load_case(session, instance, actor, moment)
        names = [name] if name else None
        known = case.deadlines.rows.get(name) if name else None
        title = known.title if known is not None else name  # the clerk's words, not the BPMN id
        if name and known is None:
            raise DeadlineNotRunning(name, title)
        if reason is not None:
            rows = case.deadlines.suspend(names, reason, actor.username)
            if not rows:
                raise DeadlineNotRunning(name, title)
        else:
            rows = case.deadlines.resume(names, actor.username)
            if not rows:
                raise DeadlineNotPaused(name, title)
        session.flush()
        changes = settle_deadlines(case)
        finish_step(case)
        for row in rows:
            if reason is not None:
                zh, en = f"计时暂停（{row.title}）：{reason}", f"Clock paused ({row.title}): {reason}"
            else:
                zh, en = f"恢复计时（{row.title}）", f"Clock resumed ({row.title})"
            moved = [c for c in changes if c.name == row.name]
            if reason is None and moved:
                zh += f"：{row.title}由 {moved[-1].old} 调整为 {moved[-1].new}"
                en += f": {row.title} moved from {moved[-1].old} to {moved[-1].new}"
            audit.record(session, "deadline", actor, instance_id=instance.id,
                         deadline=row.name, reason=reason, text_zh=zh, text_en=en)
    return [row.name for row in rows]


# -- reading -------------------------------------------------------------------------------------

def _read_case(session: Session, instance_id: int) -> Case:
    instance = session.get(ProcessInstance, instance_id, populate_existing=True)
    if instance is None:
        raise InstanceNotFound(instance_id)
    return load_case(session, instance, Actor.system("reader"), clock.now())


def task_data(session: Session, human_task_id: int) -> dict:
    """The data a human task's form starts from (its task data). Read-only, no commit."""
    row = session.get(HumanTask, human_task_id, populate_existing=True)
    if row is None:
        raise TaskNotFound(human_task_id)
    case = _read_case(session, row.instance_id)
    try:
        return dict(case.workflow.get_task_from_id(UUID(row.task_guid)).data)
    except WorkflowException:
        return {}


def instance_data(session: Session, instance_id: int) -> dict:
    """The case's current data (of its most recently run task). Read-only, no commit."""
    workflow = _read_case(session, instance_id).workflow
    return current_data(workflow)


def working_days_left(instance: ProcessInstance, today: date | datetime | None = None,
                      calendar: Calendar | None = None) -> int | None:
    """Working days until the case's statutory deadline (剩余工作日): 0 on the deadline day,
    negative once overdue, None without a deadline."""
    if instance.deadline_at is None:
        return None
    if calendar is None:
        calendar = ports.calendar(object_session(instance))
    return calendar.working_days_left(instance.deadline_at, today)
