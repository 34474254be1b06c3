"""A case loaded for one step (加载的办件): its row, parsed model, workflow and script engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import repository
from app.engine.deadlines import Deadlines
from app.engine.errors import InstanceNotActive, InstanceNotFound
from app.engine.models import ACTIVE_STATUSES, ProcessInstance
from app.engine.platform_engine import PlatformScriptEngine
from app.engine.repository import LoadedModel
from app.engine.serialization import load_state
from app.engine.services import Actor


@dataclass
class Case:
    session: Session
    instance: ProcessInstance
    model: LoadedModel
    engine: PlatformScriptEngine
    workflow: BpmnWorkflow
    actor: Actor
    now: datetime
    notes: dict = field(default_factory=dict)  # what happened in the step, for the audit
    deadlines: Deadlines | None = None  # its named deadlines (办件时限), loaded with it

    def __post_init__(self):
        if self.deadlines is None:
            self.deadlines = Deadlines(self)
        self.engine.context.deadlines = self.deadlines  # for deadline() in timer expressions


def current_data(workflow: BpmnWorkflow) -> dict:
    """The case's data now: of the task that ran last, in the top process or in a sub-process
    (a call activity keeps its data to itself until it ends)."""
    last = [w.last_task for w in (workflow, *workflow.subprocesses.values())
            if w.last_task is not None]
    if not last:
        return {}
    return dict(max(last, key=lambda t: t.last_state_change).data)


def lock_instance(session: Session, instance_id: int, *, skip_locked: bool = False,
                  active: bool = True) -> ProcessInstance | None:
    """The case row, locked for this transaction (PostgreSQL ``FOR UPDATE``; SQLite has no row
    locks, the ``lock_version`` check at flush covers it). Always re-read from the database.

    ``skip_locked``: return None instead of waiting when another transaction holds it.
    """
    query = (select(ProcessInstance).where(ProcessInstance.id == instance_id)
             .with_for_update(skip_locked=skip_locked)
             .execution_options(populate_existing=True))
    instance = session.scalars(query).first()
    if instance is None:
        if skip_locked:
            return None
        raise InstanceNotFound(instance_id)
    if active and instance.status not in ACTIVE_STATUSES:
        raise InstanceNotActive(instance.status)
    return instance


def make_script_engine(session: Session, actor: Actor, instance: ProcessInstance) -> PlatformScriptEngine:
    return PlatformScriptEngine(session, actor, instance_id=instance.id,
                                business_key=instance.business_key,
                                process_key=instance.process_key)


def load_case(session: Session, instance: ProcessInstance, actor: Actor, now: datetime) -> Case:
    model = repository.load(session, instance.model_id)
    engine = make_script_engine(session, actor, instance)
    specs = repository.workflow_specs(session, model, instance.call_bindings)
    workflow = load_state(instance.state, model.spec, specs, engine)
    return Case(session, instance, model, engine, workflow, actor, now)
