"""Periods 统计期间 and scopes 统计范围 of the statistics, and China's date of a stored moment in SQL."""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import (
    Date,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.common.clock import CHINA_TZ
from app.common.errors import BilingualError
from app.procedures.batch.models import Batch, Employer

log = logging.getLogger(__name__)


ACTOR = "system:statistics"  # who files the month-end tables
ALL = "all"
QUARTERS_ZH = ("一", "二", "三", "四")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # not the machine's locale


class StatisticsError(BilingualError):
    """A period or scope that cannot be read, or a table that cannot be filed (yet)."""

    kind = "invalid"
    code = "statistics_invalid"


# -- periods 统计期间 ---------------------------------------------------------------------------------

class Period(NamedTuple):
    """A month, a quarter or a year: ``(start, end, label_zh, label_en)``."""

    start: date
    end: date          # the last day, included
    label_zh: str
    label_en: str

    @property
    def key(self) -> str:
        """The canonical text (a filed table's ``period``): 2026-11, 2026-Q4, 2026."""
        months = self.end.month - self.start.month + 1
        if months == 12:
            return str(self.start.year)
        if months == 3:
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        return month_of(self.start)


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
MIN_YEAR, MAX_YEAR = 1990, 2100


def _year(text: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise StatisticsError(f"统计年份应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间：“{text}”",
                              f"The year should be between {MIN_YEAR} and {MAX_YEAR}: “{text}”",
                              code="bad_period")
    return year


def parse_period(text) -> Period:
    """``"2026-11"`` (a month), ``"2026-Q4"`` (a quarter) or ``"2026"`` (a year) -> its first and
    last day (China's dates) and its name in both languages; ``StatisticsError`` for anything
    else. ``.key`` is the canonical text (``2026-q4`` -> ``2026-Q4``)."""
    value = str(text if text is not None else "").strip()
    if m := _MONTH.fullmatch(value):
        year, month = _year(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise StatisticsError(f"月份应为 01 至 12：“{value}”",
                                  f"The month should be 01 to 12: “{value}”", code="bad_period")
        last = calendar.monthrange(year, month)[1]
        return Period(date(year, month, 1), date(year, month, last), f"{year}年{month}月",
                      f"{MONTHS_EN[month - 1]} {year}")
    if m := _QUARTER.fullmatch(value):
        year, q = _year(m.group(1)), int(m.group(2))
        first = date(year, 3 * q - 2, 1)
        last_month = 3 * q
        last = date(year, last_month, calendar.monthrange(year, last_month)[1])
        return Period(first, last, f"{year}年第{QUARTERS_ZH[q - 1]}季度", f"Q{q} {year}")
    if _YEAR.fullmatch(value):
        year = _year(value)
        return Period(date(year, 1, 1), date(year, 12, 31), f"{year}年度", f"{year}")
    raise StatisticsError(
        f"无法识别的统计期间“{value[:40]}”：请填写月份（如 2026-11）、季度（如 2026-Q4）或年份（如 2026）",
        f"Unknown period “{value[:40]}”: give a month (e.g. 2026-11), a quarter (e.g. 2026-Q4) "
        "or a year (e.g. 2026)", code="bad_period")


def period_key(text) -> str:
    return parse_period(text).key


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _utc_bounds(period: Period) -> tuple[datetime, datetime]:
    """[start, end) of the period in UTC: Beijing midnight of its first day and of the day after
    its last."""
    start = datetime.combine(period.start, time(0), CHINA_TZ).astimezone(UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)
    return start, end


# -- scopes 统计范围 ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    kind: str                    # all / office / employer
    office: str | None = None
    employer_id: int | None = None

    @property
    def key(self) -> str:
        if self.kind == "office":
            return f"office:{self.office}"
        if self.kind == "employer":
            return f"employer:{self.employer_id}"
        return ALL


_OFFICE = re.compile(r"office:([A-Za-z0-9_.\-]{1,32})")
_EMPLOYER = re.compile(r"employer:(\d{1,12})")


def parse_scope(text) -> Scope:
    """``"all"``, ``"office:<code>"`` or ``"employer:<id>"``; ``StatisticsError`` otherwise."""
    value = str(text if text is not None else "").strip()
    if value == ALL:
        return Scope(ALL)
    if m := _OFFICE.fullmatch(value):
        return Scope("office", office=m.group(1))
    if (m := _EMPLOYER.fullmatch(value)) and int(m.group(1)) > 0:
        return Scope("employer", employer_id=int(m.group(1)))
    raise StatisticsError(
        f"无法识别的统计范围“{value[:60]}”：应为全部、某个经办机构或某个单位",
        f"Unknown scope “{value[:60]}”: all, an office or an employer", code="bad_scope")


def _employers_of(scope: Scope):
    """SQL condition on an employer id column for the scope."""
    def where(employer_col):
        if scope.kind == "employer":
            return employer_col == scope.employer_id
        if scope.kind == "office":
            return employer_col.in_(select(Employer.id).join(Batch, Batch.id == Employer.batch_id)
                                    .where(Batch.office == scope.office))
        return true()
    return where


def _in_scope(scope: Scope, employer_col, batch_col):
    """SQL condition on a row's employer and batch columns (cards, persons)."""
    if scope.kind == "employer":
        return employer_col == scope.employer_id
    if scope.kind == "office":
        return batch_col.in_(select(Batch.id).where(Batch.office == scope.office))
    return true()


# -- China's date of a stored moment, in SQL ---------------------------------------------------------

class china_date(FunctionElement):
    """The Beijing date of a UTC timestamp column (SQLite: naive UTC text; PostgreSQL:
    timestamptz)."""

    type = Date()
    inherit_cache = True
    name = "china_date"


@compiles(china_date)
def _china_date_default(element, compiler, **kw):  # SQLite
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_date, "postgresql")
def _china_date_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
