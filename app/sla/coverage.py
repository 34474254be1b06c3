"""Which years the calendar covers, and from where (日历覆盖情况).

A year is covered by the ``chinesecalendar`` package, or entered (a manager entered it as a
whole, from the notice or day by day), or missing. From ``WARN_DAYS`` days before the first
day of a missing year, managers are warned and get a task to enter it.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.sla.calendar import package_years
from app.sla.models import CalendarYear

WARN_DAYS = 60
PACKAGE, ENTERED, MISSING = "package", "entered", "missing"
SOURCE_LABELS = {PACKAGE: ("chinesecalendar 软件包", "chinesecalendar package"),
                 ENTERED: ("人工录入", "entered"), MISSING: ("未录入", "missing")}


def entered_years(session) -> dict[int, CalendarYear]:
    return {y.year: y for y in session.scalars(select(CalendarYear).where(CalendarYear.complete))}


def year_sources(session, years) -> dict[int, str]:
    """{year: package | entered | missing}. An entered year wins over the package (a manager
    may confirm a year the package also has)."""
    entered, package = entered_years(session), package_years()
    return {y: ENTERED if y in entered else PACKAGE if y in package else MISSING for y in years}


def status_years(today: date) -> range:
    """The years a status report lists: the package's first year to next year."""
    return range(package_years().start, max(package_years().stop, today.year + 2))


def years_to_enter(session, today: date, warn_days: int = WARN_DAYS) -> list[int]:
    """Missing years whose 1 January is at most ``warn_days`` away (or already here)."""
    horizon = today + timedelta(days=warn_days)
    candidates = range(today.year, horizon.year + 1)
    return [y for y, source in year_sources(session, candidates).items() if source == MISSING]
