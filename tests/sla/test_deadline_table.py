"""Deadlines around the 2025 and 2026 holidays: a table worked out by hand.

Every expected date below was counted by hand from the State Council's notices
(tests/sla/notices/2025.txt and 2026.txt), not taken from the code. Counting starts the day
AFTER the start day (受理之日起); make-up working Saturdays/Sundays (调休上班) count, days off
do not. The days used:

2025  元旦 1/1 off · 春节 1/28-2/4 off, Sun 1/26 + Sat 2/8 work · 劳动节 5/1-5/5 off,
      Sun 4/27 work · 国庆中秋 10/1-10/8 off, Sun 9/28 + Sat 10/11 work
2026  元旦 1/1-1/3 off, Sun 1/4 work · 春节 2/15-2/23 off, Sat 2/14 + Sat 2/28 work ·
      劳动节 5/1-5/5 off, Sat 5/9 work · 中秋 9/25-9/27 off · 国庆 10/1-10/7 off,
      Sun 9/20 + Sat 10/10 work
"""
from datetime import date

import pytest

from app.sla.calendar import WorkingDayCalendar
from app.engine.lengths import Length, add_calendar_days, add_months, due_date

D = date.fromisoformat
cal = WorkingDayCalendar()


WORKING_DAY_TABLE = [
    # -- 2025 春节 --------------------------------------------------------------------------
    # Wed 1/22: Thu 23 (1), Fri 24 (2), Sat 25 off, make-up Sun 26 (3)
    ("2025-01-22", 3, "2025-01-26"),
    # Fri 1/24: Sat 25 off, Sun 26 (1), Mon 27 (2), 28 Jan-4 Feb off, Wed 2/5 (3)
    ("2025-01-24", 3, "2025-02-05"),
    # Wed 1/29 (a holiday): 2/5 (1), 2/6 (2), 2/7 (3)
    ("2025-01-29", 3, "2025-02-07"),
    # Wed 2/5: Thu 6 (1), Fri 7 (2), make-up Sat 8 (3)
    ("2025-02-05", 3, "2025-02-08"),
    # Fri 1/17: 1/20-24 (1-5), Sun 26 (6), Mon 27 (7), 2/5-7 (8-10), Sat 8 (11), 2/10-13 (12-15)
    ("2025-01-17", 15, "2025-02-13"),
    # Mon 1/27: 2/5-7 (1-3), Sat 8 (4), 2/10-14 (5-9), 2/17-21 (10-14), Mon 2/24 (15)
    ("2025-01-27", 15, "2025-02-24"),
    # -- 2025 劳动节 ------------------------------------------------------------------------
    # Fri 4/25: Sat 26 off, make-up Sun 27 (1), Mon 28 (2), Tue 29 (3)
    ("2025-04-25", 3, "2025-04-29"),
    # Tue 4/29: Wed 30 (1), 5/1-5 off, 5/6-9 (2-5), 5/12-16 (6-10), 5/19-23 (11-15)
    ("2025-04-29", 15, "2025-05-23"),
    # -- 2025 国庆节、中秋节 ----------------------------------------------------------------
    # Fri 9/26: Sat 27 off, make-up Sun 28 (1), Mon 29 (2), Tue 30 (3)
    ("2025-09-26", 3, "2025-09-30"),
    # Tue 9/30: 10/1-8 off, Thu 9 (1), Fri 10 (2), make-up Sat 11 (3), Sun 12 off,
    # 10/13-17 (4-8), 10/20-24 (9-13), Mon 27 (14), Tue 28 (15)
    ("2025-09-30", 15, "2025-10-28"),
    # -- 2026 元旦 --------------------------------------------------------------------------
    # Wed 2025-12-31: 1/1-3 off, make-up Sun 1/4 (1), Mon 5 (2), Tue 6 (3)
    ("2025-12-31", 3, "2026-01-06"),
    # -- 2026 春节 --------------------------------------------------------------------------
    # Thu 2/12: Fri 13 (1), make-up Sat 14 (2), 2/15-23 off, Tue 24 (3)
    ("2026-02-12", 3, "2026-02-24"),
    # Fri 2/20 (a holiday): Tue 24 (1), Wed 25 (2), Thu 26 (3)
    ("2026-02-20", 3, "2026-02-26"),
    # Wed 2/25: Thu 26 (1), Fri 27 (2), make-up Sat 28 (3)
    ("2026-02-25", 3, "2026-02-28"),
    # Fri 2/13: Sat 14 (1), 2/15-23 off, 2/24-27 (2-5), Sat 28 (6), Sun 3/1 off,
    # 3/2-6 (7-11), 3/9-12 (12-15)
    ("2026-02-13", 15, "2026-03-12"),
    # -- 2026 劳动节 ------------------------------------------------------------------------
    # Thu 4/30: 5/1-5 off, Wed 6 (1), Thu 7 (2), Fri 8 (3)
    ("2026-04-30", 3, "2026-05-08"),
    # Wed 4/29: Thu 30 (1), 5/1-5 off, 5/6-8 (2-4), make-up Sat 9 (5), Sun 10 off,
    # 5/11-15 (6-10), 5/18-22 (11-15)
    ("2026-04-29", 15, "2026-05-22"),
    # -- 2026 中秋节、国庆节 ----------------------------------------------------------------
    # Fri 9/18: Sat 19 off, make-up Sun 20 (1), Mon 21 (2), Tue 22 (3)
    ("2026-09-18", 3, "2026-09-22"),
    # Fri 9/18: Sun 20 (1), 9/21-24 (2-5), 9/25-27 off, 9/28-30 (6-8), 10/1-7 off,
    # Thu 8 (9), Fri 9 (10), make-up Sat 10 (11), Sun 11 off, 10/12-15 (12-15)
    ("2026-09-18", 15, "2026-10-15"),
    # Wed 9/30: 10/1-7 off, Thu 8 (1), Fri 9 (2), make-up Sat 10 (3)
    ("2026-09-30", 3, "2026-10-10"),
]


@pytest.mark.parametrize("start, n, expected", WORKING_DAY_TABLE,
                         ids=[f"{s}+{n}wd" for s, n, _ in WORKING_DAY_TABLE])
def test_working_day_deadline(start, n, expected):
    assert cal.add_working_days(D(start), n) == D(expected)
    assert due_date(Length.parse(f"{n} working_days"), D(start), [], cal) == D(expected)


def test_make_up_days_of_the_table_are_working_days():
    """The make-up Saturdays/Sundays the table relies on, as the notices give them."""
    for day in ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
                "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                "2026-10-10"):
        assert D(day).weekday() >= 5 and cal.is_working_day(D(day)), day


@pytest.mark.parametrize("start, n, expected", [
    ("2026-08-31", 6, "2027-02-28"),  # clamped to the end of February (2027 is no leap year)
    ("2027-08-31", 6, "2028-02-29"),  # leap year
    ("2026-01-15", 6, "2026-07-15"),  # same day of the month
])
def test_months(start, n, expected):
    assert add_months(D(start), n) == D(expected)
    assert due_date(Length.parse(f"{n} months"), D(start), [], cal) == D(expected)


@pytest.mark.parametrize("start, expected", [
    ("2026-09-30", "2026-10-07"),  # 一周内: 7 calendar days, holidays count as well
    ("2025-01-27", "2025-02-03"),
])
def test_calendar_days(start, expected):
    assert add_calendar_days(D(start), 7) == D(expected)
    assert due_date(Length.parse("7 calendar_days"), D(start), [], cal) == D(expected)


def test_pause_shifts_by_the_working_days_paused():
    fifteen = Length.parse("15 working_days")
    start = D("2026-03-02")  # Monday
    # No pause: 3/3-6 (1-4), 3/9-13 (5-9), 3/16-20 (10-14), Mon 3/23 (15)
    assert due_date(fifteen, start, [], cal) == D("2026-03-23")
    # Paused Thu 3/5, resumed Thu 3/12: (3/5, 3/12] holds 3/6, 3/9, 3/10, 3/11, 3/12 = 5
    # working days, so 20 are counted: 3/24-27 (16-19), Mon 3/30 (20)
    assert due_date(fifteen, start, [(D("2026-03-05"), D("2026-03-12"))], cal) == D("2026-03-30")


def test_pause_across_the_spring_festival():
    fifteen = Length.parse("15 working_days")
    start = D("2026-02-10")  # Tuesday
    # No pause: 2/11-13 (1-3), Sat 14 (4), 2/24-27 (5-8), Sat 28 (9), 3/2-6 (10-14), Mon 3/9 (15)
    assert due_date(fifteen, start, [], cal) == D("2026-03-09")
    # Paused Thu 2/12, resumed Wed 2/25: (2/12, 2/25] holds Fri 13, Sat 14, Tue 24, Wed 25 = 4
    # working days, so 19 are counted: 3/10-13 (16-19)
    assert due_date(fifteen, start, [(D("2026-02-12"), D("2026-02-25"))], cal) == D("2026-03-13")


def test_pause_of_a_calendar_day_deadline():
    # 7 calendar days from 3/2 is 3/9; paused (3/5, 3/12] adds 7 calendar days: 3/16
    length = Length.parse("7 calendar_days")
    assert due_date(length, D("2026-03-02"), [(D("2026-03-05"), D("2026-03-12"))], cal) == D("2026-03-16")
