"""Deadline lengths and arithmetic (时限计算): the lengths the seeds use, and one pure function from a
deadline's start, length and pauses to its last day.

Lengths (as written in BPMN, ``"15 working_days"``):

* ``working_days`` — 工作日 on the official calendar ("15个工作日", "3个工作日");
* ``calendar_days`` — 自然日 ("一周内": 7 calendar days);
* ``months`` — 月 ("6个月内"): the same day of the month ``n`` months later, clamped to that
  month's last day (31 August + 6 months = 28/29 February).

Counting starts the day after the start (受理之日起). Paused spans (时限挂起) do not count:
a span paused on day P and resumed on day R adds the days of (P, R] of the same kind to the
length — working days for a working-day deadline, calendar days otherwise. A span still open
makes the deadline unknown until it is resumed.
"""
from __future__ import annotations

import calendar as _monthcal
import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.engine.ports import Calendar

WORKING_DAYS, CALENDAR_DAYS, MONTHS = "working_days", "calendar_days", "months"
KINDS = (WORKING_DAYS, CALENDAR_DAYS, MONTHS)
KIND_LABELS = {WORKING_DAYS: ("个工作日", " working days"), CALENDAR_DAYS: ("个自然日", " calendar days"),
               MONTHS: ("个月", " months")}

_LENGTH = re.compile(r"^\s*(\d{1,4})\s+(working_days|calendar_days|months)\s*$")


class BadLength(ValueError):
    pass


@dataclass(frozen=True)
class Length:
    n: int
    kind: str

    @classmethod
    def parse(cls, text: str) -> "Length":
        """``"15 working_days"`` / ``"7 calendar_days"`` / ``"6 months"``."""
        m = _LENGTH.match(text or "")
        if not m:
            raise BadLength(f"时限写法应为“15 working_days”“7 calendar_days”或“6 months”：{text!r} "
                            f"(a length is '15 working_days', '7 calendar_days' or '6 months')")
        return cls(int(m.group(1)), m.group(2))

    def __str__(self) -> str:
        return f"{self.n} {self.kind}"

    def label(self, lang: str = "zh") -> str:
        zh, en = KIND_LABELS[self.kind]
        return f"{self.n}{zh}" if lang == "zh" else f"{self.n}{en}"


def add_calendar_days(start: date, n: int) -> date:
    return start + timedelta(days=n)


def add_months(start: date, n: int) -> date:
    """Same day of the month ``n`` months later, clamped to the month's end (6个月内)."""
    month0 = start.month - 1 + n
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(start.day, _monthcal.monthrange(year, month)[1]))


def paused_days(kind: str, spans: list[tuple[date, date]], calendar: Calendar) -> int:
    """Days of closed pause spans (P, R] that do not count. May raise CalendarYearMissing."""
    total = 0
    for paused, resumed in spans:
        if resumed <= paused:
            continue
        if kind == WORKING_DAYS:
            total += calendar.working_days_between(paused, resumed)
        else:
            total += (resumed - paused).days
    return total


def due_date(length: Length, start: date, spans: list[tuple[date, date]],
             calendar: Calendar) -> date:
    """The last day of a deadline of ``length`` from ``start``, with closed pause ``spans``.
    Raises CalendarYearMissing when a working-day count needs a year not entered."""
    extra = paused_days(length.kind, spans, calendar)
    if length.kind == WORKING_DAYS:
        return calendar.add_working_days(start, length.n + extra)
    if length.kind == CALENDAR_DAYS:
        return add_calendar_days(start, length.n + extra)
    return add_calendar_days(add_months(start, length.n), extra)
