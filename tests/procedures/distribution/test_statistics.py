"""The issuance statistics 发放情况统计表 (app/procedures/distribution/statistics.py) of a known
scenario (statistics_scenario.py: its docstring lists every card's moves) against figures worked
out by hand; periods in Beijing time; filed tables never change; the month-end round files the
previous month once."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from app.migrate import upgrade
from app.procedures.batch.models import Employer
from app.procedures.distribution import statistics as stats
from app.procedures.distribution.models import StatisticsTable
from tests.procedures.distribution.statistics_scenario import (
    OFFICE,
    OTHER_OFFICE,
    build,
    cst,
)

AFTER = date(2027, 1, 10)   # "today" for figures of a period that is over


def returned(moved=0, retired_elsewhere=0, died=0, not_collected=0, other=0, wrong_data=0) -> dict:
    return {"moved": moved, "retired_elsewhere": retired_elsewhere, "died": died,
            "not_collected": not_collected, "other": other, "wrong_data": wrong_data}


def figures(made=0, delivered=0, picked_up=0, handed_to_holders=0, reissued=0, invalidated=0,
            outstanding=0, returns=None, distribution=(0, 0, 0), return_=(0, 0, 0),
            correction=(0, 0, 0)) -> dict:
    """The expected table: deadlines as (met, missed, pending)."""
    returns = returns or returned()
    out = {"made": made, "delivered": delivered, "picked_up": picked_up,
           "handed_to_holders": handed_to_holders, "reissued": reissued,
           "returned_total": sum(returns.values()), "invalidated": invalidated,
           "outstanding": outstanding, "returned": returns}
    for key, (met, missed, pending) in (("distribution", distribution), ("return", return_),
                                        ("correction", correction)):
        out.update({f"{key}_met": met, f"{key}_missed": missed, f"{key}_pending": pending})
    return out


# October 2026 (Beijing time), everything:
#   made        c1…c10 created 10-09                                              = 10
#   delivered   c1…c8 accepted 10-12 (c9: 11-01 00:30 Beijing, though 10-31 in UTC) = 8
#   picked_up   P1 c7 c8 (10-19) + P2 c1…c6 (10-28)                               = 8
#   handed      c7 (10-20) + c1…c4 (10-30)                                        = 5
#   returned    c14 (10-14) and c15 (10-20) not collected; c8 wrong data (10-21)    = 3
#   invalidated c8 (10-28)                                                        = 1
#   outstanding at 10-31 24:00: c5 c6 still with E1                               = 2
#   3 days      due in October: P1 (10-22), roster back 10-21                     met 1
#   6 months    P0 due 10-15: c13 handed out in April (not counted), c14 returned
#               10-14 (met), c15 returned 10-20 (missed)                          met 1, missed 1
#   1 week      c8 due 10-28, corrected 10-28 07:30 Beijing                       met 1
OCTOBER = figures(made=10, delivered=8, picked_up=8, handed_to_holders=5, invalidated=1,
                  outstanding=2, returns=returned(not_collected=2, wrong_data=1),
                  distribution=(1, 0, 0), return_=(1, 1, 0), correction=(1, 0, 0))

# November 2026:
#   made        c11 c12 c16 (11-03)                                                = 3
#   delivered   c9 (11-01 00:30 Beijing) + c11 c12 c16 (11-04)                     = 4
#   picked_up   P3 c11 c12 c16 (11-06)                                             = 3
#   handed      c11 (11-09, roster) + c9 (11-16, at the counter)                   = 2
#   reissued    c5 (11-20)                                                         = 1
#   returned    c5 moved, c6 wrong data (11-05)                                    = 2
#   invalidated c6 (11-13)                                                         = 1
#   outstanding c12 c16 with E3 at 11-30 24:00                                     = 2
#   3 days      P2 due 11-02, roster back 11-04 (missed); P3 due 11-11, never back (missed)
#   1 week      c6 due 11-12, corrected 11-13 07:00 Beijing (11-12 23:00 UTC)      missed 1
NOVEMBER = figures(made=3, delivered=4, picked_up=3, handed_to_holders=2, reissued=1,
                   invalidated=1, outstanding=2, returns=returned(moved=1, wrong_data=1),
                   distribution=(0, 2, 0), correction=(0, 1, 0))

# December 2026: c16 returned wrong data (12-03); its correction due 12-10 never made; c12
# still with E3 at the end.
DECEMBER = figures(outstanding=1, returns=returned(wrong_data=1), correction=(0, 1, 0))

# Q4 2026 = October + November + December (outstanding: at 12-31 24:00, c12)
Q4 = figures(made=13, delivered=12, picked_up=11, handed_to_holders=7, reissued=1, invalidated=2,
             outstanding=1, returns=returned(moved=1, not_collected=2, wrong_data=3),
             distribution=(1, 2, 0), return_=(1, 1, 0), correction=(1, 2, 0))

# 2026: Q4 + c13 c14 c15 (made 03-10, delivered 03-20, picked up 04-15, c13 handed 04-17) and
# P0's roster back on its day (04-20)
YEAR = figures(made=16, delivered=15, picked_up=14, handed_to_holders=8, reissued=1, invalidated=2,
               outstanding=1, returns=returned(moved=1, not_collected=2, wrong_data=3),
               distribution=(2, 2, 0), return_=(1, 1, 0), correction=(1, 2, 0))


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    path = tmp_path_factory.mktemp("statistics")
    url = f"sqlite:///{path / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(path),
                      "SCHEDULER_IN_PROCESS": False, "TESTING": True})
    upgrade(url)
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        scenario = build(s)
        ids = {k: e.id for k, e in scenario.employers.items()}
        s.commit()
    yield factory, ids
    app.extensions["sscard"].engine.dispose()


@pytest.fixture
def db(platform):
    """A session whose work is rolled back (the scenario stays as built)."""
    factory, _ids = platform
    session = factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def employers(platform):
    return platform[1]


# -- periods and scopes ----------------------------------------------------------------------------

def test_periods():
    assert stats.parse_period("2026-11") == (date(2026, 11, 1), date(2026, 11, 30), "2026年11月",
                                                 "November 2026")
    assert stats.parse_period("2026-02")[:2] == (date(2026, 2, 1), date(2026, 2, 28))
    assert stats.parse_period("2024-02").end == date(2024, 2, 29)
    assert stats.parse_period("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31),
                                                 "2026年第四季度", "Q4 2026")
    assert stats.parse_period(" 2026-q1 ").key == "2026-Q1"
    assert [stats.parse_period(k).key for k in ("2026-01", "2026-12", "2026-Q2", "2026")] == [
        "2026-01", "2026-12", "2026-Q2", "2026"]
    assert stats.parse_period("2026") == (date(2026, 1, 1), date(2026, 12, 31), "2026年度", "2026")
    start, end, zh, en = stats.parse_period("2026-03")   # a plain 4-tuple
    assert (start, end, zh, en) == (date(2026, 3, 1), date(2026, 3, 31), "2026年3月", "March 2026")


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-11", "2026-1",
                                 "2026/11", "November", "2026-11-01", "1899", "<script>", None])
def test_bad_periods_are_refused_with_a_message(bad):
    with pytest.raises(stats.StatisticsError) as e:
        stats.parse_period(bad)
    assert e.value.code == "bad_period"
    assert "2026-Q4" in e.value.message("zh") or "年份" in e.value.message("zh") or "月份" in e.value.message("zh")


def test_scopes():
    assert stats.parse_scope("all").key == "all"
    assert stats.parse_scope("office:SS-CENTRE") == stats.Scope("office", office="SS-CENTRE")
    assert stats.parse_scope("employer:12").employer_id == 12
    for bad in ("", "everything", "office:", "employer:x", "employer:0", "office:a b", None):
        with pytest.raises(stats.StatisticsError) as e:
            stats.parse_scope(bad)
        assert e.value.code == "bad_scope"


# -- the figures of the scenario -------------------------------------------------------------------

@pytest.mark.parametrize("period, expected", [("2026-10", OCTOBER), ("2026-11", NOVEMBER),
                                              ("2026-12", DECEMBER), ("2026-Q4", Q4), ("2026", YEAR)])
def test_figures_of_all(db, period, expected):
    assert stats.compute(db, period, "all", today=AFTER) == expected


def test_figures_of_months_before_and_after_are_empty_but_outstanding(db):
    # September: nothing happened, but c14 c15 (picked up in April) are still with E0
    assert stats.compute(db, "2026-09", "all", today=AFTER) == figures(outstanding=2)
    # April: c13 c14 c15 picked up (04-15), c13 handed out, c14 c15 still with E0 at its end;
    # P0 due 04-20, roster back that day
    assert stats.compute(db, "2026-04", "all", today=AFTER) == figures(
        picked_up=3, handed_to_holders=1, outstanding=2, distribution=(1, 0, 0))
    assert stats.compute(db, "2027-01", "all", today=AFTER) == figures(outstanding=1)


def test_figures_of_an_office(db):
    # November at SS-CENTRE: c9 delivered and collected at the counter, c5 returned (moved) and
    # reissued, c6 returned (wrong data), invalidated, corrected late; P2's roster late
    assert stats.compute(db, "2026-11", f"office:{OFFICE}", today=AFTER) == figures(
        delivered=1, handed_to_holders=1, reissued=1, invalidated=1,
        returns=returned(moved=1, wrong_data=1), distribution=(0, 1, 0), correction=(0, 1, 0))
    # November at XM-CENTRE: the three cards of E3, c11 handed out, P3's roster never back
    assert stats.compute(db, "2026-11", f"office:{OTHER_OFFICE}", today=AFTER) == figures(
        made=3, delivered=3, picked_up=3, handed_to_holders=1, outstanding=2, distribution=(0, 1, 0))
    # October: everything happened at SS-CENTRE
    assert stats.compute(db, "2026-10", f"office:{OFFICE}", today=AFTER) == OCTOBER
    assert stats.compute(db, "2026-10", f"office:{OTHER_OFFICE}", today=AFTER) == figures()
    assert stats.compute(db, "2026-10", "office:NOWHERE", today=AFTER) == figures()


def test_figures_of_an_employer(db, employers):
    # E1 in October: c1…c6 made, delivered, picked up (P2, due 11-02: not October's), c1…c4
    # signed, c5 c6 still there
    assert stats.compute(db, "2026-10", f"employer:{employers['E1']}", today=AFTER) == figures(
        made=6, delivered=6, picked_up=6, handed_to_holders=4, outstanding=2)
    # E2 in October: c7…c10 made, c7 c8 delivered and picked up (P1, roster in time), c7 signed,
    # c8 returned with wrong data, corrected in time, invalidated
    assert stats.compute(db, "2026-10", f"employer:{employers['E2']}", today=AFTER) == figures(
        made=4, delivered=2, picked_up=2, handed_to_holders=1, invalidated=1,
        returns=returned(wrong_data=1), distribution=(1, 0, 0), correction=(1, 0, 0))
    # E0 in October: the 6-month return of P0
    assert stats.compute(db, "2026-10", f"employer:{employers['E0']}", today=AFTER) == figures(
        returns=returned(not_collected=2), return_=(1, 1, 0))
    assert stats.compute(db, "2026-10", "employer:999999", today=AFTER) == figures()


def test_deadlines_not_yet_due_are_pending(db):
    # on 11-11 P3 (due that day) is not late yet; P2 (due 11-02, back 11-04) is
    assert stats.compute(db, "2026-11", "all", today=date(2026, 11, 11))["distribution_pending"] == 1
    assert stats.compute(db, "2026-11", "all", today=date(2026, 11, 11))["distribution_missed"] == 1
    # c16's correction is due 12-10
    december = stats.compute(db, "2026-12", "all", today=date(2026, 12, 7))
    assert (december["correction_met"], december["correction_missed"], december["correction_pending"]) == (0, 0, 1)
    december = stats.compute(db, "2026-12", "all", today=date(2026, 12, 11))
    assert (december["correction_met"], december["correction_missed"], december["correction_pending"]) == (0, 1, 0)


def test_the_figures_are_a_few_statements(db):
    """Set-based: the number of statements does not grow with the cards."""
    from sqlalchemy import event
    statements = []
    engine = db.get_bind()
    listener = lambda *a, **k: statements.append(a[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        stats.compute(db, "2026", "all", today=AFTER)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 8, statements


# -- filed tables ----------------------------------------------------------------------------------

def test_a_filed_table_never_changes(db, employers):
    table = stats.file(db, "2026-10", "all", "科长 张伟", today=date(2026, 11, 1))
    assert (table.period, table.scope, table.generated_by) == ("2026-10", "all", "科长 张伟")
    assert table.figures == OCTOBER
    # a card made in October turns up afterwards, and one of E1's cards is signed for late
    from tests.procedures.distribution.statistics_scenario import Scenario
    later = Scenario(db)
    later.employers = {"E1": db.get(Employer, employers["E1"])}
    later.card("c99", "E1", cst(10, 20))
    assert stats.compute(db, "2026-10", "all", today=AFTER)["made"] == 11   # live: changed
    again = stats.file(db, "2026-10", "all", "另一人", today=AFTER)
    assert again.id == table.id and again.figures == OCTOBER and again.generated_by == "科长 张伟"
    figures_, filed = stats.filed_or_live(db, "2026-10", "all")
    assert filed is not None and filed.id == table.id and figures_ == OCTOBER
    live, none = stats.filed_or_live(db, "2026-10", f"employer:{employers['E1']}", today=AFTER)
    assert none is None and live["made"] == 7
    assert db.scalar(select(func.count()).select_from(StatisticsTable)) == 1
    table.figures = {**table.figures, "made": 11}   # nor through the ORM
    with pytest.raises(stats.StatisticsError):
        db.flush()


def test_a_period_not_over_is_not_filed(db):
    with pytest.raises(stats.StatisticsError) as e:
        stats.file(db, "2026-12", "all", "科长 张伟", today=date(2026, 12, 7))
    assert e.value.code == "period_not_over"
    with pytest.raises(stats.StatisticsError):
        stats.file(db, "2026-Q4", "all", "科长 张伟", today=date(2026, 12, 31))
    assert stats.file(db, "2026-11", "all", "科长 张伟", today=date(2026, 12, 1)).figures == NOVEMBER


def test_filing_a_table_another_process_filed_meanwhile_returns_theirs(platform, monkeypatch):
    factory, _ = platform
    with factory() as first:
        theirs = stats.file(first, "2026-09", "all", "scheduler-1", today=AFTER)
        first.commit()
    try:
        with factory() as second:
            real = stats.find_filed
            calls = []

            def not_yet(session, period, scope):  # the other's row was not there when looked for
                calls.append(period)
                return None if len(calls) == 1 else real(session, period, scope)
            monkeypatch.setattr(stats, "find_filed", not_yet)
            mine = stats.file(second, "2026-09", "all", "scheduler-2", today=AFTER)
            assert mine.id == theirs.id and mine.generated_by == "scheduler-1"
            second.commit()
    finally:
        with factory() as s:
            s.execute(StatisticsTable.__table__.delete())
            s.commit()


def test_the_month_end_round_files_last_month_once(platform):
    factory, _ = platform
    try:
        assert stats.file_month_end in __import__("app.engine.scheduler", fromlist=["x"]).ROUND_HOOKS
        filed = stats.file_month_end(factory, today=date(2026, 12, 1))
        assert sorted(filed) == [("2026-11", "all"), ("2026-11", f"office:{OFFICE}"),
                                 ("2026-11", f"office:{OTHER_OFFICE}")]
        assert stats.file_month_end(factory, today=date(2026, 12, 1)) == []
        assert stats.file_month_end(factory, today=date(2026, 12, 31)) == []
        with factory() as s:
            rows = {(t.scope): t.figures for t in s.scalars(select(StatisticsTable))}
            assert rows["all"] == NOVEMBER
            assert rows[f"office:{OTHER_OFFICE}"]["made"] == 3
            assert s.scalar(select(func.count()).select_from(StatisticsTable)) == 3
        # on 1 January: December, the fourth quarter and the year
        filed = stats.file_month_end(factory, today=date(2027, 1, 1))
        assert sorted(filed) == sorted((p, s) for p in ("2026-12", "2026-Q4", "2026")
                                       for s in ("all", f"office:{OFFICE}", f"office:{OTHER_OFFICE}"))
        with factory() as s:
            q4 = stats.find_filed(s, "2026-Q4", "all")
            assert q4.figures == Q4 and q4.generated_by == stats.ACTOR
    finally:
        with factory() as s:
            s.execute(StatisticsTable.__table__.delete())
            s.commit()


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(pg_url):
    """china_date() and the window functions on PostgreSQL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import sessionmaker
    schema = f"stats_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        engine = create_engine(url)
        with sessionmaker(engine)() as s:
            build(s)
            s.commit()
            for period, expected in (("2026-10", OCTOBER), ("2026-11", NOVEMBER), ("2026-Q4", Q4),
                                     ("2026", YEAR)):
                assert stats.compute(s, period, "all", today=AFTER) == expected, period
            table = stats.file(s, "2026-10", "all", "pg", today=AFTER)
            s.commit()
            assert stats.file(s, "2026-10", "all", "pg2", today=AFTER).id == table.id
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
