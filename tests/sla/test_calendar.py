"""Working-day calendar: expected values checked by hand against the State Council notices
(国务院办公厅关于2024年/2025年部分节假日安排的通知)."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.database import Base
from app.engine.functions import make_working_days
from app.common.clock import CHINA_TZ
from app.sla import CalendarYearMissing, DbOverrides, InMemoryOverrides, WorkingDayCalendar, YearOverrides, deadline_datetime, package_years
from app.sla.models import CalendarDay, CalendarYear

D = date.fromisoformat
cal = WorkingDayCalendar()
# The first year the installed chinesecalendar does not know (2027 for 1.11.0).
MISSING = max(package_years()) + 1


def test_package_covers_the_years_we_assert():
    assert {2024, 2025} <= set(package_years())


@pytest.mark.parametrize("day, working", [
    # 2024 国庆节: 10月1日至7日放假调休; 9月29日(周日)、10月12日(周六)上班
    ("2024-09-28", False), ("2024-09-29", True), ("2024-09-30", True),
    ("2024-10-01", False), ("2024-10-04", False), ("2024-10-07", False),
    ("2024-10-08", True), ("2024-10-12", True), ("2024-10-13", False),
    # 2025 春节: 1月28日(除夕)至2月4日放假; 1月26日(周日)、2月8日(周六)上班
    ("2025-01-25", False), ("2025-01-26", True), ("2025-01-27", True),
    ("2025-01-28", False), ("2025-01-31", False), ("2025-02-04", False),
    ("2025-02-05", True), ("2025-02-08", True), ("2025-02-09", False),
    # 2025 元旦: 1月1日放假1天, 不调休
    ("2024-12-31", True), ("2025-01-01", False), ("2025-01-02", True),
])
def test_official_holidays_and_makeup_days(day, working):
    assert cal.is_working_day(D(day)) is working


def test_datetime_uses_shanghai_date():
    # 2024-09-30 17:00 UTC is already 2024-10-01 01:00 in Beijing: a holiday.
    assert cal.is_working_day(datetime(2024, 9, 30, 17, 0, tzinfo=timezone.utc)) is False
    assert cal.is_working_day(datetime(2024, 9, 30, 15, 0, tzinfo=timezone.utc)) is True


def test_add_working_days_across_national_day():
    start = D("2024-09-30")
    assert cal.add_working_days(start, 1) == D("2024-10-08")
    assert cal.add_working_days(start, 5) == D("2024-10-12")  # make-up Saturday counts
    assert cal.add_working_days(start, 6) == D("2024-10-14")  # Sunday 13th does not


def test_fifteen_working_days_from_acceptance_across_spring_festival():
    # Accepted Mon 2025-01-20: 21-24 (4), Sun 26 (5), 27 (6), Feb 5-7 (9), Sat 8 (10), 10-14 (15)
    assert cal.add_working_days(D("2025-01-20"), 15) == D("2025-02-14")


def test_add_zero_and_start_on_holiday():
    assert cal.add_working_days(D("2024-10-08"), 0) == D("2024-10-08")
    assert cal.add_working_days(D("2024-10-01"), 0) == D("2024-10-08")
    assert cal.add_working_days(D("2025-01-29"), 1) == D("2025-02-05")
    with pytest.raises(ValueError):
        cal.add_working_days(D("2024-10-08"), -1)


def test_working_days_between():
    assert cal.working_days_between(D("2024-09-30"), D("2024-10-08")) == 1
    assert cal.working_days_between(D("2024-09-28"), D("2024-10-14")) == 8
    assert cal.working_days_between(D("2024-12-31"), D("2025-01-02")) == 1
    assert cal.working_days_between(D("2024-10-14"), D("2024-09-28")) == -8
    assert cal.working_days_between(D("2024-10-03"), D("2024-10-03")) == 0


def test_between_properties():
    days = [D("2024-09-20") + timedelta(days=i) for i in range(0, 150, 3)]
    for a in days:
        for n in (1, 2, 7, 15, 20):
            assert cal.working_days_between(a, cal.add_working_days(a, n)) == n
    for a, b, c in zip(days, days[5:], days[11:]):
        assert cal.working_days_between(a, b) == -cal.working_days_between(b, a)
        assert (cal.working_days_between(a, b) + cal.working_days_between(b, c)
                == cal.working_days_between(a, c))


def test_working_days_left():
    deadline = D("2024-10-08")
    assert cal.working_days_left(deadline, D("2024-09-30")) == 1
    assert cal.working_days_left(deadline, D("2024-10-03")) == 1
    assert cal.working_days_left(deadline, deadline) == 0
    assert cal.working_days_left(deadline, D("2024-10-09")) == -1


def test_deadline_datetime_is_end_of_day_in_beijing():
    dt = deadline_datetime(D("2025-02-14"))
    assert dt.isoformat() == "2025-02-14T23:59:59+08:00"
    assert dt.astimezone(timezone.utc) == datetime(2025, 2, 14, 15, 59, 59, tzinfo=timezone.utc)


def test_make_working_days_for_timers():
    fn = make_working_days(cal, now=lambda: datetime(2025, 1, 20, 9, 30, tzinfo=CHINA_TZ))
    assert fn(15) == "2025-02-14T23:59:59+08:00"
    assert fn(1, "2024-09-30") == "2024-10-08T23:59:59+08:00"
    assert fn(1, D("2024-09-30")) == "2024-10-08T23:59:59+08:00"
    # 2024-09-29 17:00 UTC is 2024-09-30 01:00 in Beijing.
    assert fn(1, datetime(2024, 9, 29, 17, tzinfo=timezone.utc)) == "2024-10-08T23:59:59+08:00"
    assert datetime.fromisoformat(fn(0)).tzinfo is not None


# -- a year the package does not know -----------------------------------------------------------

def test_missing_year_is_an_explicit_error():
    with pytest.raises(CalendarYearMissing) as err:
        cal.is_working_day(date(MISSING, 3, 1))
    assert err.value.year == MISSING
    assert f"{MISSING} 年的法定节假日安排尚未录入" in str(err.value)
    assert f"The official holiday schedule for {MISSING} has not been entered" in str(err.value)
    with pytest.raises(CalendarYearMissing):  # reached by counting across New Year too
        cal.add_working_days(date(MISSING - 1, 12, 20), 30)


def _enter_missing_year(store):
    """A manager enters the year: New Year's Day off (Jan 1 is a Friday in 2027)."""
    store.set_day(date(MISSING, 1, 1), False)
    store.set_day(date(MISSING, 2, 6), True)  # a make-up Saturday (hypothetical)


def test_missing_year_fixed_by_in_memory_overrides():
    store = InMemoryOverrides()
    _enter_missing_year(store)
    c = WorkingDayCalendar(store)
    assert c.is_working_day(date(MISSING, 1, 1)) is False  # listed day answers already
    with pytest.raises(CalendarYearMissing):  # but the year is not complete yet
        c.is_working_day(date(MISSING, 3, 1))
    store.mark_year(MISSING)
    assert c.is_working_day(date(MISSING, 2, 6)) is True
    monday = date(MISSING, 3, 1) + timedelta(days=-date(MISSING, 3, 1).weekday())
    assert c.is_working_day(monday) and not c.is_working_day(monday + timedelta(days=5))
    if MISSING == 2027:  # Thu 2026-12-31 (official), Fri 2027-01-01 off, weekend, Mon 01-04
        assert c.add_working_days(D("2026-12-30"), 2) == D("2027-01-04")


def test_mapping_provider():
    c = WorkingDayCalendar({MISSING: YearOverrides({}, complete=True)})
    assert c.is_working_day(date(MISSING, 1, 1)) is (date(MISSING, 1, 1).weekday() < 5)


def test_single_day_override_wins_over_package():
    store = InMemoryOverrides()
    store.set_day(D("2024-10-08"), False)  # e.g. a local closure
    store.set_day(D("2024-10-05"), True)
    c = WorkingDayCalendar(store)
    assert c.is_working_day(D("2024-10-05")) is True
    assert c.is_working_day(D("2024-10-08")) is False
    assert c.add_working_days(D("2024-09-30"), 1) == D("2024-10-05")
    assert c.add_working_days(D("2024-10-05"), 1) == D("2024-10-09")
    assert cal.is_working_day(D("2024-10-08")) is True  # the plain calendar is unaffected


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[CalendarDay.__table__, CalendarYear.__table__])
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_db_overrides(session):
    store = DbOverrides(session)
    c = WorkingDayCalendar(store)
    with pytest.raises(CalendarYearMissing):
        c.is_working_day(date(MISSING, 3, 1))
    _enter_missing_year(store)
    store.set_day(D("2024-10-08"), False, note="system migration")
    store.mark_year(MISSING, entered_by="manager01")
    session.commit()

    assert c.is_working_day(date(MISSING, 1, 1)) is False
    assert c.is_working_day(date(MISSING, 2, 6)) is True
    assert c.is_working_day(D("2024-10-08")) is False
    assert c.add_working_days(D("2024-09-30"), 1) == D("2024-10-09")
    year = session.get(CalendarYear, MISSING)
    assert year.complete and year.entered_by == "manager01" and year.entered_at is not None

    store.set_day(D("2024-10-08"), True)  # edited again: seen at once, no cache
    assert c.is_working_day(D("2024-10-08")) is True
