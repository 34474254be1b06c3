"""Override providers for :class:`app.sla.calendar.WorkingDayCalendar` (人工录入的日历调整).

A provider is called with a year and returns a :class:`YearOverrides`. Writers here only add
to the session; the caller commits (one step, one transaction).
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.clock import CHINA_TZ
from app.sla.calendar import WorkingDayCalendar, YearOverrides
from app.sla.models import CalendarDay, CalendarYear


def calendar_for(session: Session) -> WorkingDayCalendar:
    """The working-day calendar with the overrides entered in this database (each year's read
    once for the life of this calendar object: one page, one step)."""
    return WorkingDayCalendar(lru_cache(maxsize=None)(DbOverrides(session)))


class InMemoryOverrides:
    """Overrides kept in a dict: tests and single-process tools."""

    def __init__(self):
        self.days: dict[date, bool] = {}
        self.complete_years: set[int] = set()

    def set_day(self, day: date, is_working: bool) -> None:
        self.days[day] = is_working

    def mark_year(self, year: int, complete: bool = True) -> None:
        if complete:
            self.complete_years.add(year)
        else:
            self.complete_years.discard(year)

    def __call__(self, year: int) -> YearOverrides:
        days = {d: w for d, w in self.days.items() if d.year == year}
        return YearOverrides(days, year in self.complete_years)


class DbOverrides:
    """Overrides read from ``calendar_day`` / ``calendar_year``.

    ``session`` is a SQLAlchemy Session, or a ``scoped_session`` so one long-lived calendar
    follows the current unit of work. Nothing is cached: edits are seen on the next call.
    """

    def __init__(self, session: Session):
        self.session = session

    def __call__(self, year: int) -> YearOverrides:
        rows = self.session.scalars(select(CalendarDay).where(
            CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
        entered = self.session.get(CalendarYear, year)
        return YearOverrides({r.day: r.is_working for r in rows},
                             bool(entered and entered.complete))

    def set_day(self, day: date, is_working: bool, note: str | None = None) -> CalendarDay:
        row = self.session.merge(CalendarDay(day=day, is_working=is_working, note=note))
        self.session.flush()
        return row

    def mark_year(self, year: int, entered_by: str, complete: bool = True) -> CalendarYear:
        row = self.session.merge(CalendarYear(year=year, complete=complete, entered_by=entered_by,
                                              entered_at=datetime.now(CHINA_TZ)))
        self.session.flush()
        return row
