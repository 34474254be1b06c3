"""China's clock (北京时间): the one time zone of the platform and "today" for clerks.

China has had no daylight saving time since 1991, so a fixed UTC+8 offset is exact for every
year we handle and needs no tzdata on the machine. A server clock in UTC would otherwise call
today's applications "in the future" every morning before 08:00.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """Now, in UTC (what the database stores)."""
    return datetime.now(timezone.utc)


def china_now() -> datetime:
    return datetime.now(CHINA_TZ)


def china_today() -> date:
    return china_now().date()


def china_time(value: datetime) -> datetime:
    """A stored time in China's time; a naive one (SQLite gives them back so) is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CHINA_TZ)


def to_local_date(value: date | datetime | str) -> date:
    """The calendar date in Asia/Shanghai of a date, a datetime or an ISO-8601 string.

    An aware datetime is converted to UTC+8 first; a naive one is taken as local time.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)  # "2025-01-20" gives midnight, same date
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ)
        return value.date()
    return value


def deadline_datetime(d: date) -> datetime:
    """The moment a deadline on day ``d`` passes: 23:59:59 Asia/Shanghai (+08:00) that day.

    Chosen over "00:00 next day" so the ISO string, a timer's fire time and any printout all
    show the deadline's own date. Compare dates, not datetimes, to decide "on time".
    """
    return datetime.combine(d, time(23, 59, 59), CHINA_TZ)
