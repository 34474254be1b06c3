"""Service operations 服务操作: what a BPMN service task may call, by operation name.

A service task names an operation (``spiffworkflow:serviceTaskOperator name="police.verify"``)
and its parameters. The engine looks the name up here; deploy-time validation refuses a model
naming an operation nobody registered. An operation runs inside the step's database
transaction, so its domain changes commit or roll back with the workflow state.

An operation raises ``ServiceError`` for failures the diagram may handle: when an error
boundary event on the task catches ``code``, the engine throws that BPMN error; otherwise the
case stops in a visible incident with the message, retryable from the UI and API.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from app.common.errors import BilingualError


@dataclass(frozen=True)
class Actor:
    """Who does a step: a signed-in user, or the system (timers, messages, station)."""

    username: str
    user_id: int | None = None
    groups: frozenset[str] = frozenset()
    display_name: str = ""
    office: str | None = None  # the user's office code (cases they start belong to it)
    # the offices whose cases they may work on (app.cases.access); None: any (system, admins)
    offices: frozenset[str] | None = None

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(username=name)


@dataclass
class ServiceContext:
    """What an operation knows of the step calling it."""

    session: Any  # sqlalchemy.orm.Session of the step's transaction
    instance_id: int
    business_key: str | None
    process_key: str
    task_name: str
    actor: Actor
    data: dict = field(default_factory=dict)  # the task's data (read-only by convention)


class ServiceError(BilingualError):
    """A failure of an outside system or a domain rule, with a clerk-readable message.

    ``code`` is the BPMN error code an error boundary event may catch (e.g. "police_mismatch").
    """

    kind = "invalid"

    def __init__(self, code: str, message_zh: str, message_en: str = "", retryable: bool = False,
                 details: dict | None = None):
        super().__init__(message_zh, message_en, code=code)
        self.retryable = retryable
        self.details = details or {}

    @classmethod
    def of(cls, error: BilingualError, retryable: bool = False) -> "ServiceError":
        """An adapter's or a rule's error as the ServiceError a diagram can catch."""
        return cls(error.code or type(error).__name__, error.message_zh, error.message_en,
                   retryable=retryable)


class Operation(Protocol):
    def __call__(self, ctx: ServiceContext, **params: Any) -> dict | None: ...


@dataclass(frozen=True)
class OperationInfo:
    """What an analyst needs to call an operation from BPMN (the operation table)."""

    name: str
    summary: str                              # first line of the docstring
    module: str
    params: tuple[tuple[str, str, str | None], ...]  # (name, type, default or None if required)
    results: tuple[str, ...]
    errors: tuple[str, ...]                   # ServiceError codes an error boundary may catch


class ServiceRegistry:
    """Operation name -> function. Results must be JSON-serialisable dicts (stored in task data)."""

    def __init__(self):
        self._ops: dict[str, Callable[..., dict | None]] = {}
        self._info: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def operation(self, name: str, *, results: tuple[str, ...] = (), errors: tuple[str, ...] = ()):
        """Register ``fn`` under ``name``, with the result keys and error codes it documents
        (listed by ``describe()``: the table analysts read, generated, never kept by hand)."""
        def register(fn):
            if name in self._ops and self._ops[name] is not fn:
                raise ValueError(f"service operation {name!r} registered twice")
            self._ops[name] = fn
            self._info[name] = (tuple(results), tuple(errors))
            return fn
        return register

    def describe(self) -> list[OperationInfo]:
        """Every operation with its parameters (from its signature), results and errors."""
        out = []
        for name in sorted(self._ops):
            fn = self._ops[name]
            params = []
            for p in list(inspect.signature(fn).parameters.values())[1:]:  # after ctx
                kind = p.annotation if isinstance(p.annotation, str) else getattr(
                    p.annotation, "__name__", "")
                default = None if p.default is inspect.Parameter.empty else repr(p.default)
                params.append((p.name, str(kind).replace(" | None", "?"), default))
            results, errors = self._info.get(name, ((), ()))
            doc = (inspect.getdoc(fn) or "").strip().splitlines()
            out.append(OperationInfo(name, doc[0] if doc else "", fn.__module__, tuple(params),
                                     results, errors))
        return out

    def get(self, name: str):
        return self._ops.get(name)

    def unregister(self, name: str) -> None:
        """Forget an operation (tests, plugins being reloaded)."""
        self._ops.pop(name, None)

    def names(self) -> set[str]:
        return set(self._ops)

    def __contains__(self, name: str) -> bool:
        return name in self._ops


# The platform's registry; app/cards and app/adapters register their operations on import.
registry = ServiceRegistry()
