"""The engine's clock (流程引擎时钟): what "now" is for timers, deadlines and ``today()``.

SpiffWorkflow 3.2.0 reads the time in its timer module with ``datetime.now(timezone.utc)`` and
offers no hook. To let a step run at a given moment (the scheduler's ``now``, a test's fixed
date) we replace the name ``datetime`` *in that module only*, once, by a subclass whose
``now()`` returns the moment set by :func:`engine_clock` — or the real time when none is set.

Why a context variable and not a patch inside a ``with`` block: patching and unpatching a
module attribute per step races between threads (a web request and the scheduler thread in
one process). A context variable is per thread (and per asyncio task), so each step sees its
own clock and the library's behaviour outside a step is unchanged.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

_NOW: ContextVar[datetime | None] = ContextVar("sscard_engine_now", default=None)


class _DatetimeMeta(type):
    # The timer module tests `isinstance(x, datetime)` on values built by plain datetime code
    # (e.g. `dt.astimezone(...)`): keep those answering True after the name is replaced.
    def __instancecheck__(cls, obj):
        return isinstance(obj, datetime)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, datetime)


class ClockDatetime(datetime, metaclass=_DatetimeMeta):
    """``datetime`` whose ``now()`` follows :func:`engine_clock`."""

    @classmethod
    def now(cls, tz=None):
        fixed = _NOW.get()
        if fixed is None:
            return datetime.now(tz)
        if tz is None:  # naive local time, as datetime.now() would give
            return fixed.astimezone().replace(tzinfo=None)
        return fixed.astimezone(tz)

    @classmethod
    def utcnow(cls):
        return cls.now(timezone.utc).replace(tzinfo=None)


def install() -> None:
    """Give SpiffWorkflow's timer module our clock (idempotent; done on import)."""
    if _timer_module.datetime is not ClockDatetime:
        _timer_module.datetime = ClockDatetime


install()


def aware(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC (the database and scheduler work in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def now() -> datetime:
    """The engine's current moment (aware, UTC): the one set by :func:`engine_clock`, else real
    time."""
    fixed = _NOW.get()
    return fixed.astimezone(timezone.utc) if fixed is not None else datetime.now(timezone.utc)


@contextmanager
def engine_clock(moment: datetime | None) -> Iterator[datetime]:
    """Run the block with the engine's clock at ``moment`` (``None``: the enclosing block's
    moment, else real time).

    Timers compare their fire time with this moment; ``working_days()`` and ``today()`` count
    from it; human-task due dates and case deadlines are computed from it.
    """
    # None inside a fixed clock keeps it: work a step starts (a job, a nested step) runs at
    # the same moment as the step
    token = _NOW.set(aware(moment) if moment is not None else _NOW.get())
    try:
        yield now()
    finally:
        _NOW.reset(token)
