"""Working-day calendar (工作日历).

A day is a working day (工作日) according to, in this order:

1. an override entered by a manager for that very date (单日调整);
2. the official schedule of public holidays and make-up working days (法定节假日与调休)
   shipped in the ``chinesecalendar`` package, for the years it covers;
3. for a year the package does not cover but that a manager entered as a whole
   ("complete" year): Monday-Friday work, Saturday/Sunday rest, except the listed overrides;
4. otherwise :class:`CalendarYearMissing` is raised. We never guess a holiday schedule:
   a deadline computed on a guessed calendar would be silently wrong.

All dates are calendar dates in China Standard Time (Asia/Shanghai, UTC+8). A deadline
falls at the end of its day: see :func:`deadline_datetime`.

The calendar keeps no cache between calls, so override edits made by another process are seen
at once; inside one call each year's overrides are read once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple, Union

import chinese_calendar

from app.engine.ports import YearNotEntered

from app.common.clock import CHINA_TZ  # noqa: E402,F401  (the one clock)
from app.common.clock import deadline_datetime, to_local_date  # noqa: E402,F401  (re-exported)

_ONE_DAY = timedelta(days=1)


class CalendarYearMissing(YearNotEntered):
    """The holiday schedule for ``year`` is neither in ``chinesecalendar`` nor entered by hand
    (the engine knows it as ``YearNotEntered``)."""

    def __init__(self, year: int):
        super().__init__(year,
            f"{year} 年的法定节假日安排尚未录入，请管理员在“工作日历”中录入。 "
            f"(The official holiday schedule for {year} has not been entered yet; "
            f"an administrator must enter it under Calendar.)")


class YearOverrides(NamedTuple):
    """What a manager entered for one year.

    ``days``: {date: is_working_day} for single days (单日调整).
    ``complete``: the year was entered as a whole (整年录入); days not listed then follow the
    plain week (Mon-Fri working).
    """
    days: Mapping[date, bool]
    complete: bool = False


NO_OVERRIDES = YearOverrides({}, False)

#: An overrides provider: ``provider(year) -> YearOverrides | None`` or a mapping
#: ``{year: YearOverrides}``. See :mod:`app.sla.overrides` for the in-memory and database ones.
OverridesProvider = Union[Callable[[int], "YearOverrides | None"], Mapping[int, YearOverrides]]


def package_years() -> range:
    """Years covered by the installed ``chinesecalendar`` (e.g. 2004..2026 for 1.11.0)."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


class WorkingDayCalendar:
    """Working-day arithmetic on the official Chinese calendar plus manager overrides."""

    def __init__(self, overrides: OverridesProvider | None = None):
        self._overrides = overrides

    # -- lookup -------------------------------------------------------------------------
    def _year(self, year: int) -> YearOverrides:
        provider = self._overrides
        if provider is None:
            return NO_OVERRIDES
        found = provider.get(year) if isinstance(provider, Mapping) else provider(year)
        return found or NO_OVERRIDES

    def _checker(self) -> Callable[[date], bool]:
        """A per-call is_working_day that reads each year's overrides once."""
        years: dict[int, YearOverrides] = {}

        def working(d: date) -> bool:
            if d.year not in years:
                years[d.year] = self._year(d.year)
            entered = years[d.year]
            if d in entered.days:
                return bool(entered.days[d])
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:  # the package does not cover this year
                pass
            if entered.complete:
                return d.weekday() < 5
            raise CalendarYearMissing(d.year)

        return working

    # -- API ------------------------------------------------------------------------------
    def is_working_day(self, d: date | datetime) -> bool:
        """True if ``d`` (its Asia/Shanghai date) is a working day.

        May raise CalendarYearMissing."""
        return self._checker()(to_local_date(d))

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start`` (工作日顺延).

        Counting starts the day after ``start``: "15 working days from acceptance (受理之日起
        15 个工作日)" is the 15th working day after the acceptance day, whether or not the
        acceptance day itself is a working day. For ``n == 0`` the result is ``start`` if it
        is a working day, else the next working day.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        working = self._checker()
        d = to_local_date(start)
        if n == 0:
            while not working(d):
                d += _ONE_DAY
            return d
        while n:
            d += _ONE_DAY
            if working(d):
                n -= 1
        return d

    def working_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """Working days strictly after ``start`` up to and including ``end``.

        Negative when ``end`` is before ``start`` (``between(a, b) == -between(b, a)``), so that
        ``between(a, add_working_days(a, n)) == n`` for ``n >= 1``.
        """
        start, end = to_local_date(start), to_local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        working = self._checker()
        count, d = 0, start
        while d < end:
            d += _ONE_DAY
            if working(d):
                count += 1
        return count

    def working_days_left(self, deadline: date | datetime,
                          today: date | datetime | None = None) -> int:
        """Working days left until ``deadline`` (剩余工作日): 0 on the deadline day itself,
        1 if the next working day is the deadline, negative once overdue (超期).
        ``today`` defaults to the current date in Asia/Shanghai."""
        if today is None:
            today = datetime.now(CHINA_TZ)
        return self.working_days_between(today, deadline)
