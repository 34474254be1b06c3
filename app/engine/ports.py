"""What the engine needs from the platform, as interfaces it defines (端口): the task forms
and the working-day calendar. The engine imports neither ``forms`` nor ``app.sla``; the
platform plugs the real ones in at start (``app.wiring.configure_engine``), tests may plug
their own.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Protocol


class YearNotEntered(LookupError):
    """A working-day count needs a calendar year nobody entered (raised by the calendar)."""

    def __init__(self, year: int, message: str | None = None):
        self.year = year
        super().__init__(message or f"calendar year {year} not entered")


class Calendar(Protocol):
    """Working-day arithmetic (工作日): see ``app.sla.calendar.WorkingDayCalendar``."""

    def add_working_days(self, start: date, n: int) -> date: ...
    def working_days_between(self, start: date, end: date) -> int: ...
    def working_days_left(self, deadline: date, today: date | None = None) -> int: ...


class Forms(Protocol):
    """The task forms, by form key."""

    def has_form(self, key: str) -> bool: ...

    def validate(self, key: str, data: dict) -> tuple[dict | None, dict[str, list[str]]]:
        """(cleaned data, {}) or (None, {field: [messages]}) in the current language."""


class NotConfigured(RuntimeError):
    def __init__(self, what: str):
        super().__init__(f"the engine has no {what}: call app.wiring.configure_engine() first")


_calendar: Callable[[Any], Calendar] | None = None
_forms: Forms | None = None


def configure(*, calendar: Callable[[Any], Calendar] | None = None,
              forms: Forms | None = None) -> None:
    """Plug in ``calendar(session) -> Calendar`` and the forms (idempotent)."""
    global _calendar, _forms
    if calendar is not None:
        _calendar = calendar
    if forms is not None:
        _forms = forms


def calendar(session) -> Calendar:
    if _calendar is None:
        raise NotConfigured("working-day calendar")
    return _calendar(session)


def forms() -> Forms:
    if _forms is None:
        raise NotConfigured("task forms")
    return _forms
