"""Entering the calendar (日历录入): a year from the State Council's notice, one day by hand,
or a file. Every entry writes its days and a :class:`CalendarChange` in the caller's
transaction; the recomputation job (``app.engine.recompute``) then moves the deadlines, due
dates and timers the change affects. Nothing is committed here.
"""
from __future__ import annotations

from datetime import date

from app.engine.models import CalendarChange
from app.sla.notice import ParsedNotice
from app.sla.overrides import DbOverrides


def record_change(session, first_day: date, last_day: date, reason: str,
                  by: str | None) -> CalendarChange:
    change = CalendarChange(first_day=first_day, last_day=last_day, reason=reason[:500],
                            entered_by=by)
    session.add(change)
    session.flush()
    return change


def enter_notice(session, notice: ParsedNotice, by: str) -> CalendarChange:
    """Enter a whole year as the notice gives it (its days, then the year as complete)."""
    store = DbOverrides(session)
    for day, working in sorted(notice.days.items()):
        store.set_day(day, working, notice.notes.get(day))
    store.mark_year(notice.year, by, complete=True)
    first = min(date(notice.year, 1, 1), *notice.days)
    last = max(date(notice.year, 12, 31), *notice.days)
    return record_change(session, first, last, f"{notice.year} 年节假日安排录入", by)


def enter_day(session, day: date, working: bool, note: str | None, by: str) -> CalendarChange:
    """Correct one day (单日调整)."""
    DbOverrides(session).set_day(day, working, note)
    kind = "工作日" if working else "休息日"
    return record_change(session, day, day, f"{day.isoformat()} 调整为{kind}", by)


def enter_year_complete(session, year: int, by: str) -> CalendarChange:
    """Confirm a year entered day by day as complete (整年确认)."""
    DbOverrides(session).mark_year(year, by, complete=True)
    return record_change(session, date(year, 1, 1), date(year, 12, 31),
                         f"{year} 年节假日安排录入", by)
