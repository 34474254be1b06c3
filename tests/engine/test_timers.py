"""Timers with working days at a fixed ``now``; the scheduler; the engine clock."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.engine import runtime, scheduler
from app.engine.clock import engine_clock, now as engine_now
from app.engine.functions import script_functions
from app.engine.models import AuditEvent, Timer
from app.common.clock import CHINA_TZ

from tests.engine.conftest import CLERK, MONDAY, REVIEWER
from tests.engine.test_runtime import to_approve


def timers(session, instance_id):
    return session.scalars(select(Timer).where(Timer.instance_id == instance_id)
                           .order_by(Timer.id)
                           .execution_options(populate_existing=True)).all()


def test_working_day_timer_fires_only_when_due(db):
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_wait", {"days": 2}, "W1", CLERK,
                                      now=MONDAY)
        assert inst.status == "waiting"
        [timer] = timers(s, inst.id)
        assert (timer.task_name, timer.event_name, timer.state) == ("pause", "Wait working days",
                                                                  "waiting")
        assert timer.due_at == datetime(2025, 3, 5, 23, 59, 59, tzinfo=CHINA_TZ)
        s.rollback()
        assert runtime.fire_due_timers(db.Session, datetime(2025, 3, 5, 23, 59, 58,
                                                            tzinfo=CHINA_TZ)) == 0
        assert runtime.fire_due_timers(db.Session, datetime(2025, 3, 6, 0, 0, 1,
                                                            tzinfo=CHINA_TZ)) == 1
        assert runtime.fire_due_timers(db.Session, datetime(2025, 3, 7, tzinfo=CHINA_TZ)) == 0
        s.rollback()
        [timer] = timers(s, inst.id)
        assert timer.state == "fired"
        assert timer.fired_at == datetime(2025, 3, 6, 0, 0, 1, tzinfo=CHINA_TZ)
        inst = db.instance(s, inst.id)
        assert inst.status == "completed"
        # today() ran at the scheduler's now, in Fuzhou.
        assert runtime.instance_data(s, inst.id)["waited_until"] == "2025-03-06"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "timer")).one()
        assert (event.actor, event.task_name, event.instance_id) == ("scheduler", "pause", inst.id)


def test_timer_skips_public_holidays(db):
    # Mon 29 Sep 2025 + 2 working days: Tue 30 Sep, then the National Day holiday
    # (1-8 Oct) -> Thu 9 Oct.
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_wait", {"days": 2}, "W2", CLERK,
                                      now=datetime(2025, 9, 29, 9, tzinfo=CHINA_TZ))
        [timer] = timers(s, inst.id)
        assert timer.due_at == datetime(2025, 10, 9, 23, 59, 59, tzinfo=CHINA_TZ)


def test_boundary_timer_withdraws_the_task_and_escalates(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        s.rollback()
        friday = datetime(2025, 3, 7, 9, tzinfo=CHINA_TZ)
        assert runtime.fire_due_timers(db.Session, friday) == 1
        s.rollback()
        assert db.task(s, inst.id, "approve", state="cancelled").id == approve.id
        escalated = db.task(s, inst.id, "escalated")
        assert escalated.group == "managers"
        assert [t.state for t in timers(s, inst.id)] == ["fired"]
        # The reviewer comes too late.
        from app.engine.errors import TaskNotOpen
        with pytest.raises(TaskNotOpen) as err:
            runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=friday)
        assert err.value.message_en == "This task was withdrawn and needs no action"


def test_completing_in_time_cancels_the_timer(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=MONDAY)
        assert [t.state for t in timers(s, inst.id)] == ["cancelled"]
        s.rollback()
        assert runtime.fire_due_timers(db.Session, datetime(2025, 4, 1, tzinfo=CHINA_TZ)) == 0


def test_a_late_step_fires_due_timers_on_the_way(db):
    """A step on a case whose timer is due fires it, audited as a timer."""
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W3", CLERK,
                                      now=MONDAY)
        # A message nobody waits for still loads the case at Friday's clock.
        from app.engine.errors import NoMessageReceiver
        with pytest.raises(NoMessageReceiver):
            runtime.send_message(s, "nothing", {}, instance_id=inst.id,
                                 now=datetime(2025, 3, 7, tzinfo=CHINA_TZ))
        assert db.instance(s, inst.id).status == "waiting"  # rolled back with the step
        runtime.cancel_instance(s, inst.id, CLERK, now=MONDAY)
        assert [t.state for t in timers(s, inst.id)] == ["cancelled"]


def test_timer_of_a_cancelled_case_is_not_fired(db):
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W4", CLERK,
                                      now=MONDAY)
        runtime.cancel_instance(s, inst.id, CLERK, now=MONDAY)
        s.rollback()
        assert runtime.fire_due_timers(db.Session, datetime(2026, 1, 1, tzinfo=CHINA_TZ)) == 0


def test_script_functions_registry(db, no_extra_functions):
    script_functions.register("double", lambda ctx: (lambda n: 2 * n))
    assert "double" in script_functions.names()
    with pytest.raises(ValueError):
        script_functions.register("double", lambda ctx: None)
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_wait", {"days": 0}, "W5", CLERK,
                                      now=MONDAY)
        # working_days(0) on a working day is today's end: not yet passed at 10:00.
        [timer] = timers(s, inst.id)
        assert timer.due_at == datetime(2025, 3, 3, 23, 59, 59, tzinfo=CHINA_TZ)


def test_engine_clock_is_per_thread_and_restored():
    import threading
    fixed = datetime(2025, 1, 2, 3, tzinfo=timezone.utc)
    seen = {}
    with engine_clock(fixed):
        assert engine_now() == fixed
        thread = threading.Thread(target=lambda: seen.setdefault("other", engine_now()))
        thread.start()
        thread.join()
    assert seen["other"] > fixed.replace(year=2025)  # real time in the other thread
    assert abs((engine_now() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_scheduler_in_process_fires_real_time_timers(db):
    with db.session() as s:
        inst_id = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W6", CLERK,
                                         now=MONDAY).id  # due March 2025: past in real time
    job = scheduler.start_in_process(db.Session, interval=0.2)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with db.session() as s:
                if db.instance(s, inst_id).status == "completed":
                    break
            time.sleep(0.1)
    finally:
        job.shutdown(wait=True)
    with db.session() as s:
        assert db.instance(s, inst_id).status == "completed"
        assert [t.state for t in timers(s, inst_id)] == ["fired"]


def test_scheduler_main_needs_a_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit):
        scheduler.main([])
