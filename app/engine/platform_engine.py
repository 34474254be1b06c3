"""The script engine of one engine step (流程步骤脚本引擎): sandboxed scripts with the platform
functions, and service tasks calling registered operations.

Built fresh for every step, bound to the step's session, case and actor. A service operation
runs inside a SAVEPOINT: when it fails, its own writes are undone while the rest of the step
(earlier tasks, the incident record) commits.
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from sqlalchemy.orm import Session

from app.engine import services
from app.engine.functions import ScriptContext, script_functions
from app.engine.scripting import SandboxedScriptEngine
from app.engine.serialization import check_json
from app.engine.deadlines import PENDING_TIME, PENDING_YEAR_KEY, DeadlineUnknown
from app.engine.services import Actor, ServiceContext, ServiceError
from app.engine.errors import find_cause
from app.engine.ports import YearNotEntered



class OperationMissing(ServiceError):
    def __init__(self, name: str):
        super().__init__("operation_missing", f"服务操作“{name}”未注册",
                         f"Service operation '{name}' is not registered")


class PlatformScriptEngine(SandboxedScriptEngine):
    """``BpmnWorkflow(..., script_engine=PlatformScriptEngine(...))`` for one step.

    ``failures`` maps the id of a task whose operation failed to ``(operation, exception)``;
    the runtime reads it to route a ``ServiceError`` to an error boundary event or to open an
    incident with the operation's message.
    """

    def __init__(self, session: Session, actor: Actor, *, instance_id: int | None = None,
                 business_key: str | None = None, process_key: str = ""):
        self.context = ScriptContext(session)
        super().__init__(functions=script_functions.build(self.context))
        self.session = session
        self.actor = actor
        self.instance_id = instance_id
        self.business_key = business_key
        self.process_key = process_key
        self.failures: dict[UUID, tuple[str, BaseException]] = {}
        self.fatal: BaseException | None = None  # a failure of the step, not of a task

    def evaluate(self, task, expression, external_context=None):
        # A date timer whose time needs a calendar year not entered, or a deadline not known
        # yet, waits as pending (PENDING_TIME) instead of failing the step: never a guess,
        # never a refusal. Scripts and conditions still fail clearly.
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimeDateEventDefinition) or expression != definition.expression:
            return super().evaluate(task, expression, external_context)
        try:
            return super().evaluate(task, expression, external_context)
        except Exception as exc:
            missing = find_cause(exc, (YearNotEntered, DeadlineUnknown))
            if missing is None:
                raise
            year = getattr(missing, "year", None)
            if year is not None:
                task._set_internal_data(**{PENDING_YEAR_KEY: year})
            return PENDING_TIME

    def call_service(self, task, operation_name: str = "", operation_params: dict | None = None,
                     **kwargs: Any) -> str:
        # Replaces PythonScriptEngine.call_service, whose error path hides the real error.
        params = {name: p.get("value") for name, p in (operation_params or {}).items()}
        ctx = ServiceContext(session=self.session, instance_id=self.instance_id,
                             business_key=self.business_key, process_key=self.process_key,
                             task_name=task.task_spec.bpmn_id or task.task_spec.name,
                             actor=self.actor, data=dict(task.data))
        try:
            # The step's own pending writes go first: failing here (a lost race, a lock) is
            # the step's failure, which must roll everything back, not become an incident.
            self.session.flush()
        except Exception as exc:
            self.fatal = exc
            raise
        try:
            operation = services.registry.get(operation_name)
            if operation is None:
                raise OperationMissing(operation_name)
            with self.session.begin_nested():  # the operation's writes, undone if it fails
                result = {} if (found := operation(ctx, **params)) is None else found
                # it becomes task data: JSON every system reads (no set, no int beyond 2^63)
                check_json({getattr(task.task_spec, "result_variable", None) or "result": result})
                text = json.dumps(result, ensure_ascii=False)
        except Exception as exc:
            self.failures[task.id] = (operation_name, exc)
            raise
        return text
