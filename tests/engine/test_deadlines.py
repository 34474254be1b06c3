"""Named deadlines (办件时限) through the runtime: several per case with their own states, the
applicant's time (pausesDeadline), a clerk's pause with a reason, and the recomputation after a
calendar change — a year entered from the State Council's notice (the "cliff" at the turn of
the year, on the real outlet procedure) or a single day corrected.

The test model ``bpmn_deadlines/deadlines.bpmn`` (engine_test_deadlines) declares
``handle`` = 3 working days (办理时限, from the start; paused while the case waits at the manual
task "等待申请人补正"; a boundary timer at ``deadline("handle")``) and ``return`` = 6 months
(退回时限, started by "退回申请人补正", met by "收到补正材料"). It lives outside
tests/engine/bpmn because other tests check the exact list of models deployed from there.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from app.procedures import load_families
from app.cards.demo import seed_demo
from app.database import Base
from app.engine import audit, repository, runtime
from app.engine.db import make_engine
from app.engine.errors import DeadlineNotPaused, DeadlineNotRunning
from app.engine.models import AuditEvent, HumanTask, Timer
from app.engine.recompute import process_calendar_changes, recompute_case
from app.common.clock import CHINA_TZ
from app.sla import DbOverrides, WorkingDayCalendar, deadline_datetime
from app.sla.entry import enter_day, enter_notice
from app.engine.models import CalendarChange, CaseDeadline, DeadlinePause
from app.sla.notice import parse_notice
from app.sla.view import views
from tests.cards.helpers import form_for
from tests.engine.conftest import ADMIN, CLERK, MANAGER
from tests.procedures.application.conftest import PROCESSES
from tests.procedures.application.conftest import ADMIN as PLATFORM_ADMIN
from tests.procedures.application.conftest import Case as OutletCase

load_families()  # tables, service operations and forms of every procedure family

MODEL = Path(__file__).parent / "bpmn_deadlines" / "deadlines.bpmn"
KEY = "engine_test_deadlines"
ENTER = {"name": "林堃", "ssn": "350581199003071234"}
FIX_WAIT = "等待申请人：等待申请人补正"  # the reason of the pause the manual task opens


def at(y, m, d, h=10, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=CHINA_TZ)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ddb(request):
    """The engine test database (SQLite, then PostgreSQL) with the deadlines model deployed."""
    base = request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    with base.session() as s:
        repository.deploy_file(s, MODEL, ADMIN)
    return base


# -- helpers: every read starts a fresh transaction (steps commit in their own) -----------------

def start(s, now: datetime, business_key: str = "D-1") -> int:
    return runtime.start_instance(s, KEY, {}, business_key, CLERK, now=now).id


def complete(db, s, iid: int, task_name: str, data: dict, now: datetime, actor=CLERK) -> None:
    s.rollback()
    runtime.complete_task(s, db.task(s, iid, task_name).id, data, actor, now=now)


def accepted(db, s, now: datetime, business_key: str = "D-1") -> int:
    """A case started and accepted at ``now``: it waits at "审查" with the handle timer set."""
    iid = start(s, now, business_key)
    complete(db, s, iid, "accept", ENTER, now)
    return iid


def deadlines(s, iid: int) -> dict[str, CaseDeadline]:
    s.rollback()
    return {r.name: r for r in s.scalars(select(CaseDeadline).where(
        CaseDeadline.instance_id == iid).order_by(CaseDeadline.id)
        .execution_options(populate_existing=True))}


def handle_timer(s, iid: int) -> Timer:
    s.rollback()
    return s.scalars(select(Timer).where(Timer.instance_id == iid,
                                         Timer.task_name == "handle_late")
                     .execution_options(populate_existing=True)).one()


def open_tasks(s, iid: int) -> list[str]:
    s.rollback()
    return sorted(s.scalars(select(HumanTask.task_name).where(
        HumanTask.instance_id == iid, HumanTask.state == "open")))


def history(s, iid: int, lang: str = "zh") -> list[str]:
    """The case's deadline history lines (AuditEvent action "deadline"), oldest first."""
    s.rollback()
    return [e.detail[f"text_{lang}"] for e in audit.trail(s, iid) if e.action == "deadline"]


def view_states(s, iid: int, today: date) -> dict[str, str]:
    s.rollback()
    found = views(s, [iid], WorkingDayCalendar(DbOverrides(s)), today)[iid]
    return {v.name: v.state for v in found}


def audit_count(s) -> int:
    s.rollback()
    return s.scalar(select(func.count()).select_from(AuditEvent))


# -- several named deadlines, each with its own state --------------------------------------------

def test_each_named_deadline_has_its_own_state(ddb):
    """handle runs from the start while return has not started; sending the application back
    starts return (6 calendar months, clamped: 31 March -> 30 September) and pauses handle;
    the correction meets return and lets handle run on; completion meets handle."""
    with ddb.session() as s:
        iid = start(s, at(2025, 3, 31))  # Monday
        rows = deadlines(s, iid)
        assert list(rows) == ["handle", "return"]  # declaration order
        handle, ret = rows["handle"], rows["return"]
        assert (handle.title, handle.length) == ("办理时限", "3 working_days")
        assert (ret.title, ret.length) == ("退回时限", "6 months")
        assert (handle.state, handle.start_on, handle.due_on) == ("running", date(2025, 3, 31),
                                                                  date(2025, 4, 3))
        assert (ret.state, ret.start_on, ret.due_on) == ("not_started", None, None)
        # no "statutory" declared: the case's deadline is the first declared one
        assert ddb.instance(s, iid).deadline_at == deadline_datetime(date(2025, 4, 3))

        complete(ddb, s, iid, "accept", ENTER, at(2025, 3, 31, 11))
        complete(ddb, s, iid, "check", {"decision": "reject"}, at(2025, 3, 31, 15))
        rows = deadlines(s, iid)
        assert (rows["return"].state, rows["return"].start_on, rows["return"].due_on) == (
            "running", date(2025, 3, 31), date(2025, 9, 30))  # no 31 September
        assert (rows["handle"].state, rows["handle"].due_on) == ("paused", None)
        assert ddb.instance(s, iid).deadline_at is None  # paused: no date to show
        assert open_tasks(s, iid) == ["wait_fix"]

        complete(ddb, s, iid, "wait_fix", {}, at(2025, 4, 1, 9))  # Tuesday
        rows = deadlines(s, iid)
        ret = rows["return"]
        assert (ret.state, ret.met_on, ret.met_late, ret.due_on) == (
            "met", date(2025, 4, 1), False, date(2025, 9, 30))
        # one working day paused (1 April); Qingming (4-6 April) is skipped: Mon 7 April
        assert (rows["handle"].state, rows["handle"].due_on) == ("running", date(2025, 4, 7))

        complete(ddb, s, iid, "check", {"decision": "approve"}, at(2025, 4, 2))
        assert ddb.instance(s, iid).status == "completed"
        rows = deadlines(s, iid)
        handle = rows["handle"]
        assert (handle.state, handle.met_on, handle.met_late) == ("met", date(2025, 4, 2), False)
        assert rows["return"].state == "met" and rows["return"].met_on == date(2025, 4, 1)


def test_a_working_day_deadline_into_a_year_not_entered_is_pending(ddb):
    """Started on Tue 29 Dec 2026, the third working day is in 2027, which nobody entered:
    handle is pending that year (no guessed date); a calendar-month deadline is not, and a
    cancelled case ends both."""
    with ddb.session() as s:
        iid = accepted(ddb, s, at(2026, 12, 29))
        handle, ret = deadlines(s, iid).values()
        assert (handle.state, handle.due_on, handle.pending_year) == ("pending", None, 2027)
        assert ret.state == "not_started"
        assert ddb.instance(s, iid).deadline_at is None
        timer = handle_timer(s, iid)
        assert (timer.state, timer.due_at, timer.pending_year) == ("pending", None, 2027)
        assert view_states(s, iid, date(2027, 3, 1)) == {"handle": "pending",
                                                         "return": "not_started"}
        complete(ddb, s, iid, "check", {"decision": "reject"}, at(2026, 12, 30))
        ret = deadlines(s, iid)["return"]
        assert (ret.state, ret.due_on, ret.pending_year) == ("running", date(2027, 6, 30), None)
        s.rollback()
        runtime.cancel_instance(s, iid, MANAGER, reason="申请人撤回", now=at(2026, 12, 31))
        assert [r.state for r in deadlines(s, iid).values()] == ["ended", "ended"]


# -- pausesDeadline: the applicant's time does not count ------------------------------------------

def test_waiting_for_the_applicants_correction_does_not_count(ddb):
    """Sent back on Tue 4 March, corrected on Mon 10 March: the 4 working days in between
    (5, 6, 7, 10 March) are added to handle, and the timer reading deadline("handle") moves
    with it. While paused the deadline is never overdue, however late it gets."""
    with ddb.session() as s:
        iid = accepted(ddb, s, at(2025, 3, 3))
        first_due = date(2025, 3, 6)
        assert deadlines(s, iid)["handle"].due_on == first_due
        timer = handle_timer(s, iid)
        assert (timer.state, timer.due_at) == ("waiting", deadline_datetime(first_due))

        complete(ddb, s, iid, "check", {"decision": "reject"}, at(2025, 3, 4, 11))
        assert open_tasks(s, iid) == ["wait_fix"]
        assert deadlines(s, iid)["handle"].state == "paused"
        timer = handle_timer(s, iid)
        assert (timer.state, timer.due_at) == ("pending", None)
        [pause] = s.scalars(select(DeadlinePause)).all()
        assert (pause.reason, pause.paused_on, pause.paused_by, pause.resumed_on) == (
            FIX_WAIT, date(2025, 3, 4), "system", None)

        # two weeks after the original day: paused, not overdue; nothing fires
        late = date(2025, 3, 20)
        assert view_states(s, iid, late)["handle"] == "paused"
        s.rollback()
        [view] = [v for v in views(s, [iid], WorkingDayCalendar(DbOverrides(s)), late)[iid]
                  if v.name == "handle"]
        assert view.text() == f"计时暂停：{FIX_WAIT}" and view.days_left is None
        assert runtime.fire_due_timers(ddb.Session, now=at(2025, 3, 20)) == 0
        assert open_tasks(s, iid) == ["wait_fix"]

        complete(ddb, s, iid, "wait_fix", {}, at(2025, 3, 10, 9))
        cal = WorkingDayCalendar()
        paused = cal.working_days_between(date(2025, 3, 4), date(2025, 3, 10))
        assert paused == 4
        handle = deadlines(s, iid)["handle"]
        assert (handle.state, handle.due_on) == ("running", date(2025, 3, 12))
        assert cal.working_days_between(first_due, handle.due_on) == paused
        timer = handle_timer(s, iid)
        assert (timer.state, timer.due_at) == ("waiting", deadline_datetime(date(2025, 3, 12)))
        pause = s.scalars(select(DeadlinePause).execution_options(populate_existing=True)).one()
        assert (pause.resumed_on, pause.resumed_by) == (date(2025, 3, 10), "system")
        # running again: on 20 March it is overdue
        assert view_states(s, iid, late)["handle"] == "overdue"

        # the timer fires at the moved date, not at the original one
        assert runtime.fire_due_timers(ddb.Session, now=at(2025, 3, 12, 23, 59, 58)) == 0
        assert runtime.fire_due_timers(ddb.Session, now=at(2025, 3, 13, 0, 0, 1)) == 1
        assert open_tasks(s, iid) == ["check", "escalated"]


# -- a clerk stops the clock with a reason ---------------------------------------------------------

def test_clerk_suspends_and_resumes_the_deadline_with_a_reason(ddb):
    """Paused on Tue 4 March, resumed on Fri 7 March: 3 working days added (Thu 6 -> Tue 11
    March), the timer moved; both steps in the history with the reason; pausing twice or
    resuming a running deadline is refused."""
    with ddb.session() as s:
        iid = accepted(ddb, s, at(2025, 3, 3))
        s.rollback()
        names = runtime.suspend_deadline(s, iid, "补正材料：缺少户口簿", CLERK, "handle",
                                         now=at(2025, 3, 4))
        assert names == ["handle"]
        assert deadlines(s, iid)["handle"].state == "paused"
        assert handle_timer(s, iid).state == "pending"
        assert view_states(s, iid, date(2025, 3, 7))["handle"] == "paused"

        before = audit_count(s)
        with pytest.raises(DeadlineNotRunning) as err:  # already paused
            runtime.suspend_deadline(s, iid, "再次暂停", CLERK, "handle", now=at(2025, 3, 5))
        assert err.value.name == "handle" and "无法暂停" in err.value.message_zh
        assert audit_count(s) == before
        assert s.scalar(select(func.count()).select_from(DeadlinePause)) == 1

        s.rollback()
        assert runtime.resume_deadline(s, iid, CLERK, "handle", now=at(2025, 3, 7)) == ["handle"]
        handle = deadlines(s, iid)["handle"]
        assert (handle.state, handle.due_on) == ("running", date(2025, 3, 11))
        timer = handle_timer(s, iid)
        assert (timer.state, timer.due_at) == ("waiting", deadline_datetime(date(2025, 3, 11)))
        pause = s.scalars(select(DeadlinePause)).one()
        assert (pause.paused_by, pause.resumed_by, pause.task_guid) == ("clerk1", "clerk1", None)
        assert history(s, iid) == [
            "计时暂停（办理时限）：补正材料：缺少户口簿",
            "恢复计时（办理时限）：办理时限由 计时暂停 调整为 2025-03-11"]
        assert history(s, iid, "en") == [
            "Clock paused (办理时限): 补正材料：缺少户口簿",
            "Clock resumed (办理时限): 办理时限 moved from 计时暂停 to 2025-03-11"]
        trail = [e for e in audit.trail(s, iid) if e.action == "deadline"]
        assert [(e.actor, e.detail["deadline"], e.detail["reason"]) for e in trail] == [
            ("clerk1", "handle", "补正材料：缺少户口簿"), ("clerk1", "handle", None)]

        with pytest.raises(DeadlineNotPaused):  # running again
            runtime.resume_deadline(s, iid, CLERK, "handle", now=at(2025, 3, 7))


def test_only_a_running_deadline_can_be_paused_and_only_a_paused_one_resumed(ddb):
    """return before it starts and after it is met, and an undeclared name, are refused; the
    refused steps leave nothing behind."""
    with ddb.session() as s:
        iid = accepted(ddb, s, at(2025, 3, 3))
        before = audit_count(s)
        for name in ("return", "nope"):
            with pytest.raises(DeadlineNotRunning):
                runtime.suspend_deadline(s, iid, "补正", CLERK, name, now=at(2025, 3, 4))
        with pytest.raises(DeadlineNotPaused):
            runtime.resume_deadline(s, iid, CLERK, "return", now=at(2025, 3, 4))
        assert audit_count(s) == before

        complete(ddb, s, iid, "check", {"decision": "reject"}, at(2025, 3, 4))
        complete(ddb, s, iid, "wait_fix", {}, at(2025, 3, 5))
        assert deadlines(s, iid)["return"].state == "met"
        before = audit_count(s)
        s.rollback()
        with pytest.raises(DeadlineNotRunning):
            runtime.suspend_deadline(s, iid, "补正", CLERK, "return", now=at(2025, 3, 6))
        with pytest.raises(DeadlineNotPaused):
            runtime.resume_deadline(s, iid, CLERK, "return", now=at(2025, 3, 6))
        assert deadlines(s, iid)["return"].state == "met"
        assert audit_count(s) == before
        assert s.scalar(select(func.count()).select_from(DeadlinePause)) == 1  # the element's


# -- a corrected day moves exactly the deadlines it affects ----------------------------------------

def test_a_corrected_day_moves_only_the_deadlines_after_it(ddb):
    """Tue 11 March 2025 corrected to a day off: the case due on Thu 6 March keeps its date,
    the case due on Thu 13 March moves to Fri 14 March; only the moved case gets a history
    line."""
    with ddb.session() as s:
        early = accepted(ddb, s, at(2025, 3, 3), "D-early")
        later = accepted(ddb, s, at(2025, 3, 10), "D-later")
        assert deadlines(s, early)["handle"].due_on == date(2025, 3, 6)
        assert deadlines(s, later)["handle"].due_on == date(2025, 3, 13)
        early_timer = handle_timer(s, early).due_at
        s.rollback()
        change = enter_day(s, date(2025, 3, 11), False, "测试：临时休息日（虚构）", "manager")
        assert (change.first_day, change.reason) == (date(2025, 3, 11), "2025-03-11 调整为休息日")
        s.commit()

        assert process_calendar_changes(ddb.Session, now=at(2025, 3, 10, 12)) == 1
        assert deadlines(s, early)["handle"].due_on == date(2025, 3, 6)
        timer = handle_timer(s, early)
        assert (timer.state, timer.due_at) == ("waiting", early_timer)  # not touched
        assert deadlines(s, later)["handle"].due_on == date(2025, 3, 14)
        assert handle_timer(s, later).due_at == deadline_datetime(date(2025, 3, 14))
        assert history(s, early) == []
        assert history(s, later) == ["办理时限由 2025-03-13 调整为 2025-03-14：2025-03-11 调整为休息日"]
        assert history(s, later, "en") == [
            "办理时限 moved from 2025-03-13 to 2025-03-14: 2025-03-11 调整为休息日"]
        change = s.get(CalendarChange, change.id, populate_existing=True)
        assert change.processed_at is not None and change.cases_changed == 1


def test_a_timer_due_after_a_correction_fires_during_the_recomputation(ddb):
    """Started Thu 6 March 2025, due Tue 11 March. Sat 8 March becomes a make-up working day,
    entered on the morning of Tue 11: the deadline is now Mon 10 March, already passed, and
    the recomputation fires the timer at once (audited as a timer of the calendar job)."""
    with ddb.session() as s:
        iid = accepted(ddb, s, at(2025, 3, 6))
        assert deadlines(s, iid)["handle"].due_on == date(2025, 3, 11)
        morning = at(2025, 3, 11, 9)
        assert runtime.fire_due_timers(ddb.Session, now=morning) == 0  # not due yet
        s.rollback()
        enter_day(s, date(2025, 3, 8), True, "测试：调休上班（虚构）", "manager")
        s.commit()

        assert process_calendar_changes(ddb.Session, now=morning) == 1
        assert deadlines(s, iid)["handle"].due_on == date(2025, 3, 10)
        timer = handle_timer(s, iid)
        assert (timer.state, timer.fired_at) == ("fired", morning)
        assert open_tasks(s, iid) == ["check", "escalated"]
        assert ddb.task(s, iid, "escalated").group == "managers"
        fired = [e for e in audit.trail(s, iid) if e.action == "timer"]
        assert [(e.actor, e.task_name) for e in fired] == [("calendar", "handle_late")]
        assert history(s, iid) == ["办理时限由 2025-03-11 调整为 2025-03-10：2025-03-08 调整为工作日"]
        assert view_states(s, iid, morning.date())["handle"] == "overdue"
        assert runtime.fire_due_timers(ddb.Session, now=at(2025, 3, 12)) == 0  # fired once


# -- the cliff: a deadline reaching into a year not entered, on the real outlet procedure ---------

# Made-up test data: NOT the real 2027 notice (not published when this was written). The
# weekdays are right (1 Jan 2027 is a Friday, 3 Jan a Sunday, 14 Feb a Sunday).
NOTICE_2027 = ("国务院办公厅关于2027年部分节假日安排的通知\n"
               "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
               "二、春节：2月6日至12日放假调休，共7天。2月14日（星期日）上班。")

# 15 working days from Sun 20 Dec 2026: 21-25 Dec (5), 28-31 Dec (9); 1-3 Jan off by the
# notice; 4-8 Jan (14); Mon 11 Jan 2027 (15).
STATUTORY_DUE = date(2027, 1, 11)
# "取半成品卡制卡" (dueWorkingDays 5) opened Mon 28 Dec 2026: 29, 30, 31 Dec, 4, 5 Jan.
PRODUCE_DUE = date(2027, 1, 5)
REASON = "2027 年节假日安排录入"


@pytest.fixture
def outlet(tmp_path):
    """SQLite with the demo data and the real processes/outlet_application.bpmn, as
    tests/procedures/application/conftest.py prepares it (only that file deployed)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'outlet.db'}")
    Base.metadata.create_all(engine)
    Session = sessionmaker(engine)
    with Session() as session:
        seed_demo(session)
        session.commit()
        repository.deploy_file(session, PROCESSES / "shared" / "applicant_checks.bpmn", PLATFORM_ADMIN)
        repository.deploy_file(session, PROCESSES / "application" / "outlet_application.bpmn", PLATFORM_ADMIN)
    opened = []

    def make(now: datetime) -> OutletCase:
        opened.append(OutletCase(Session, "outlet_application", now))
        return opened[-1]

    yield Session, make
    for c in opened:
        c.close()
    engine.dispose()


def test_the_notice_weekdays_are_right():
    """The made-up notice must pass the parser's weekday checks: check them independently."""
    assert [date(2027, 1, 1).weekday(), date(2027, 1, 3).weekday(),
            date(2027, 2, 14).weekday()] == [4, 6, 6]
    notice = parse_notice(NOTICE_2027)
    assert notice.year == 2027
    off = sorted(d for d, working in notice.days.items() if not working)
    assert off == [date(2027, 1, d) for d in (1, 2, 3)] + [date(2027, 2, d) for d in range(6, 13)]
    assert [d for d, working in notice.days.items() if working] == [date(2027, 2, 14)]


def test_a_deadline_into_a_year_not_entered_waits_for_the_notice(outlet):
    """The cliff end to end: an outlet application on Sun 20 Dec 2026 has a statutory deadline
    pending 2027; its timer and the window clerk's due date wait; nothing fires however late.
    The 2027 notice is entered: the recomputation sets the hand-computed dates, writes why
    into the history, and running it again changes nothing."""
    Session, make = outlet
    c = make(at(2026, 12, 20))
    statutory = CaseDeadline.of(c.s, c.id)
    assert (statutory.state, statutory.due_on, statutory.pending_year) == ("pending", None, 2027)
    assert c.instance.deadline_at is None

    c.now = at(2026, 12, 28)  # accepted a week later: production starts
    # the form refuses an application date after the real today: keep it in the past
    c.complete("accept_application", form_for("lin_kun", on=min(date.today(), c.now.date())))
    c.s.rollback()
    assert c.open_tasks() == ["produce_card"]
    produce = c.task("produce_card")
    assert (produce.due_at, produce.due_pending_year) == (None, 2027)
    [timer] = c.timers()
    assert (timer.task_name, timer.state, timer.due_at, timer.pending_year) == (
        "deadline_passed", "pending", None, 2027)
    assert runtime.fire_due_timers(Session, now=at(2030, 1, 1)) == 0
    c.s.rollback()
    assert [t.state for t in c.timers()] == ["pending"] and c.open_tasks() == ["produce_card"]

    with Session() as s:
        change = enter_notice(s, parse_notice(NOTICE_2027), "manager1")
        s.commit()
        change_id = change.id
    entered_on = at(2026, 12, 29, 9)
    assert process_calendar_changes(Session, now=entered_on) == 1

    c.s.rollback()
    statutory = CaseDeadline.of(c.s, c.id)
    assert (statutory.state, statutory.due_on, statutory.pending_year) == (
        "running", STATUTORY_DUE, None)
    assert c.instance.deadline_at == deadline_datetime(STATUTORY_DUE)
    [timer] = c.timers()
    assert (timer.state, timer.due_at, timer.pending_year) == (
        "waiting", deadline_datetime(STATUTORY_DUE), None)
    produce = c.task("produce_card")
    assert (produce.due_at, produce.due_pending_year) == (deadline_datetime(PRODUCE_DUE), None)
    assert sorted(history(c.s, c.id)) == sorted([
        f"办理时限（受理至通知领卡）由 待定（2027 年法定节假日安排未录入） 调整为 {STATUTORY_DUE}：{REASON}",
        f"任务“取半成品卡制卡”到期日由 待定 调整为 {PRODUCE_DUE}：{REASON}"])
    change = c.s.get(CalendarChange, change_id, populate_existing=True)
    assert change.processed_at is not None and change.cases_changed == 1

    # idempotent: again, nothing moves and nothing is written
    records = audit_count(c.s)
    assert process_calendar_changes(Session, now=entered_on + timedelta(hours=1)) == 0
    with Session() as s:
        assert recompute_case(s, c.id, REASON, now=entered_on + timedelta(hours=2)) is False
    assert audit_count(c.s) == records
    c.s.rollback()
    assert CaseDeadline.of(c.s, c.id).due_on == STATUTORY_DUE
    assert [t.due_at for t in c.timers()] == [deadline_datetime(STATUTORY_DUE)]

    # and the timer now fires on the date the notice gives
    assert runtime.fire_due_timers(Session, now=at(2027, 1, 11, 23, 59, 58)) == 0
    assert runtime.fire_due_timers(Session, now=at(2027, 1, 12, 0, 0, 1)) == 1
    c.s.rollback()
    assert c.open_tasks() == ["overdue_review", "produce_card"]
