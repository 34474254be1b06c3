"""China's clock (北京时间): the one time zone of the platform and "today" for clerks.

China has had no daylight saving time since 1991, so a fixed UTC+8 offset is exact for every
year we handle and needs no tzdata on the machine. A server clock in UTC would otherwise call
today's applications "in the future" every morning before 08:00.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_now() -> datetime:
    return datetime.now(CHINA_TZ)


def china_today() -> date:
    return china_now().date()


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware moment (a naive one is taken as China time)."""
    return (moment.astimezone(CHINA_TZ) if moment.tzinfo else moment).date()
