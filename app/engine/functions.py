"""Functions BPMN expressions and scripts may call (流程脚本可用函数).

Each function is built per step from a :class:`ScriptContext` (the step's session and clock),
so ``working_days`` sees calendar overrides in the same transaction and a fixed ``now``.
Other modules add their own::

    from app.engine.functions import script_functions

    @script_functions.register("age_on")
    def _age_on(ctx):
        return lambda birth_date, day=None: ...

The names are reserved: task data (form fields, service results) may not use them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from app.common.clock import CHINA_TZ, deadline_datetime, to_local_date
from app.engine import clock, ports
from app.engine.lengths import add_calendar_days, add_months


@dataclass
class ScriptContext:
    session: Session
    now: Callable[[], datetime] = clock.now
    deadlines: Any = None  # the case's app.engine.deadlines.Deadlines during a step

    @cached_property
    def calendar(self) -> ports.Calendar:
        """The working-day calendar of this step (one per step: what it reads stays read)."""
        return ports.calendar(self.session)


Factory = Callable[[ScriptContext], Any]


class FunctionRegistry:
    """Name -> factory building the function for one step."""

    def __init__(self):
        self._factories: dict[str, Factory] = {}

    def register(self, name: str, factory: Factory | None = None):
        """Register ``factory`` under ``name``; usable as a decorator."""
        def add(fn: Factory) -> Factory:
            known = self._factories.get(name)
            if known is not None and known is not fn:
                raise ValueError(f"script function {name!r} registered twice")
            self._factories[name] = fn
            return fn
        return add(factory) if factory is not None else add

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)

    def names(self) -> set[str]:
        return set(self._factories)

    def build(self, ctx: ScriptContext) -> dict[str, Any]:
        return {name: factory(ctx) for name, factory in self._factories.items()}


script_functions = FunctionRegistry()


@script_functions.register("working_days")
def _working_days(ctx: ScriptContext):
    """``working_days(n, start=None)``: ISO deadline of the n-th working day (工作日)."""
    return make_working_days(ctx.calendar, now=lambda: ctx.now().astimezone(CHINA_TZ))


def make_working_days(calendar: ports.Calendar, now: Callable[[], datetime]):
    """Build ``working_days(n, start=None)`` for BPMN timer expressions (定时器表达式).

    ``working_days(n, start)`` returns the ISO-8601 deadline (``deadline_datetime``) of the
    ``n``-th working day after ``start``; ``start`` is a date, datetime or ISO string (e.g. a
    date kept in task data) and defaults to ``now()``. A timeDate timer such as
    ``working_days(15)`` thus fires at the end of the 15th working day from today. May raise
    YearNotEntered (a timer then waits as pending).
    """
    def working_days(n: int, start=None) -> str:
        day = calendar.add_working_days(to_local_date(now() if start is None else start), int(n))
        return deadline_datetime(day).isoformat()
    return working_days


def _start_date(ctx: ScriptContext, start):
    return to_local_date(ctx.now() if start is None else start)


@script_functions.register("calendar_days")
def _calendar_days(ctx: ScriptContext):
    """``calendar_days(n, start=None)``: ISO deadline n calendar days on (自然日, "一周内")."""
    return lambda n, start=None: deadline_datetime(
        add_calendar_days(_start_date(ctx, start), int(n))).isoformat()


@script_functions.register("months")
def _months(ctx: ScriptContext):
    """``months(n, start=None)``: ISO deadline n months on, same day clamped to the month's
    end ("6个月内")."""
    return lambda n, start=None: deadline_datetime(
        add_months(_start_date(ctx, start), int(n))).isoformat()


@script_functions.register("deadline")
def _deadline(ctx: ScriptContext):
    """``deadline(name)``: ISO end of the last day of the case's named deadline, for timers
    (e.g. ``deadline("statutory")``); pending while it is not known."""
    def deadline(name):
        if ctx.deadlines is None:
            raise LookupError("deadline() is only available in a case")
        return ctx.deadlines.due_iso(str(name))
    return deadline


@script_functions.register("today")
def _today(ctx: ScriptContext):
    """``today()``: today's date in Asia/Shanghai as an ISO string ("2025-01-20")."""
    return lambda: ctx.now().astimezone(CHINA_TZ).date().isoformat()
