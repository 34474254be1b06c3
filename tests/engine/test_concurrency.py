"""Races with real concurrent connections (threads, one Session each, lined up by a Barrier):
exactly one winner, a clear error for the loser, nothing lost. PostgreSQL (row locks + SKIP
LOCKED) and SQLite (optimistic ``lock_version``, WAL)."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.engine import runtime
from app.engine.errors import CaseChanged, TaskAlreadyDone, TaskClaimed
from app.engine.models import AuditEvent, HumanTask, Incident, ProcessInstance, Timer
from app.engine.services import ServiceError
from app.common.clock import CHINA_TZ

from tests.engine.conftest import CLERK, CLERK2, MANAGER, MONDAY, REVIEWER, DomainRecord
from tests.engine.test_runtime import ENTER

FRIDAY = datetime(2025, 3, 7, 9, tzinfo=CHINA_TZ)  # the review's overdue timer is due


def race(*calls, timeout=60):
    """Run each call in its own thread at the same moment; [(result, exception)] in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout)
            results[i] = (call(), None)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            results[i] = (None, exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a racer hung"
    return results


def in_own_session(db, fn):
    def call():
        with db.session() as session:
            return fn(session)
    return call


def at_review(db, business_key):
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_review", {}, business_key, CLERK,
                                      now=MONDAY)
        runtime.complete_task(s, db.task(s, inst.id, "enter").id, ENTER, CLERK, now=MONDAY)
        return inst.id, db.task(s, inst.id, "approve").id


def two_completions(db):
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_review", {}, "R1", CLERK, now=MONDAY)
        task_id = db.task(s, inst.id, "enter").id
    results = race(*[in_own_session(db, lambda s, a=actor: runtime.complete_task(
        s, task_id, ENTER, a, now=MONDAY).id) for actor in (CLERK, CLERK2)])
    winners = [r for r, e in results if e is None]
    losers = [e for r, e in results if e is not None]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], (TaskAlreadyDone, CaseChanged)), repr(losers[0])
    with db.session() as s:
        done = s.scalars(select(HumanTask).where(HumanTask.id == task_id)).one()
        assert done.state == "completed"
        if isinstance(losers[0], TaskAlreadyDone):
            assert losers[0].message_zh == f"该任务已由 {done.completed_by_name} 完成"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complete")) == 1
        assert s.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.task_name == "approve", HumanTask.state == "open")) == 1
    return losers[0]


def test_two_clerks_complete_the_same_task_sqlite(db):
    two_completions(db)


# -- PostgreSQL ---------------------------------------------------------------------------------

@pytest.mark.postgres
def test_two_clerks_complete_the_same_task(pg_db):
    loser = two_completions(pg_db)
    # With the row lock the loser waits, then sees the task done: it is told who did it.
    assert isinstance(loser, TaskAlreadyDone)


@pytest.mark.postgres
def test_two_clerks_claim_the_same_task(pg_db):
    _, task_id = at_review(pg_db, "R2")
    actors = (REVIEWER, CLERK2.__class__("rev2", 5, frozenset({"reviewers"})))
    results = race(*[in_own_session(pg_db, lambda s, a=a: runtime.claim(s, task_id, a).assignee_id)
                     for a in actors])
    assert sorted(e is None for _, e in results) == [False, True]
    [loser] = [e for _, e in results if e is not None]
    assert isinstance(loser, TaskClaimed)


@pytest.mark.postgres
def test_timer_fires_while_the_task_is_being_completed(pg_db):
    """Reviewers complete their reviews just as the scheduler fires the overdue timers: per
    case exactly one of the two takes effect, the other does nothing."""
    cases = [at_review(pg_db, f"T{n}") for n in range(8)]

    def complete(task_id, delay):
        def call(session):
            time.sleep(delay)  # staggered, so some reviewers come before, some after the timer
            return runtime.complete_task(session, task_id, {"decision": "approve"}, REVIEWER,
                                         now=FRIDAY).status
        return in_own_session(pg_db, call)

    completions = [complete(task_id, 0.01 * n) for n, (_, task_id) in enumerate(cases)]
    *completed, (fired, fire_error) = race(
        *completions, lambda: runtime.fire_due_timers(pg_db.Session, FRIDAY))
    assert fire_error is None, fire_error
    timer_won = 0
    with pg_db.session() as s:
        for (instance_id, task_id), (_, complete_error) in zip(cases, completed):
            approve = s.get(HumanTask, task_id)
            [timer] = s.scalars(select(Timer).where(Timer.instance_id == instance_id)).all()
            actions = Counter(s.scalars(select(AuditEvent.action).where(
                AuditEvent.instance_id == instance_id)))
            open_tasks = s.scalars(select(HumanTask.task_name).where(
                HumanTask.instance_id == instance_id, HumanTask.state == "open")).all()
            if complete_error is None:  # the reviewer won
                assert approve.state == "completed" and timer.state == "cancelled"
                assert actions["timer"] == 0 and actions["complete"] == 2
                assert open_tasks == []
            else:  # the timer won
                timer_won += 1
                assert isinstance(complete_error, CaseChanged), repr(complete_error)
                assert approve.state == "cancelled" and timer.state == "fired"
                assert actions["timer"] == 1 and actions["complete"] == 1
                assert open_tasks == ["escalated"]
    assert fired == timer_won
    # Timers skipped because their case was busy were cancelled by the completion.
    assert runtime.fire_due_timers(pg_db.Session, FRIDAY) == 0


@pytest.mark.postgres
def test_two_schedulers_fire_each_of_50_timers_once(pg_db):
    with pg_db.session() as s:
        ids = [runtime.start_instance(s, "engine_test_wait", {"days": 1}, f"W{n}", CLERK,
                                      now=MONDAY).id for n in range(50)]
    later = datetime(2025, 3, 10, tzinfo=CHINA_TZ)
    results = race(lambda: runtime.fire_due_timers(pg_db.Session, later, limit=100),
                   lambda: runtime.fire_due_timers(pg_db.Session, later, limit=100))
    assert all(e is None for _, e in results), results
    counts = [r for r, _ in results]
    assert sum(counts) == 50, counts
    with pg_db.session() as s:
        assert Counter(s.scalars(select(Timer.state))) == {"fired": 50}
        per_case = Counter(s.scalars(select(AuditEvent.instance_id).where(
            AuditEvent.action == "timer")))
        assert sorted(per_case) == sorted(ids) and set(per_case.values()) == {1}
        assert Counter(s.scalars(select(ProcessInstance.status))) == {"completed": 50}
    assert runtime.fire_due_timers(pg_db.Session, later) == 0


@pytest.mark.postgres
def test_steps_on_postgres(pg_db, behaviour):
    """The main paths on PostgreSQL: savepoints, JSON, timestamps with time zone."""
    with pg_db.session() as s:
        inst = runtime.start_instance(s, "engine_test_review", {}, "P1", CLERK, now=MONDAY)
        assert inst.deadline_at == datetime(2025, 3, 24, 23, 59, 59, tzinfo=CHINA_TZ)
        runtime.complete_task(s, pg_db.task(s, inst.id, "enter").id, ENTER, CLERK, now=MONDAY)
        approve = pg_db.task(s, inst.id, "approve")
        runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=MONDAY)
        [done] = runtime.send_message(s, "card_made", {"card_no": "B1"}, business_key="P1")
        assert done.status == "completed"

        behaviour.fail_after_write = ServiceError("archive_down", "省卡管系统不可用",
                                                  "The card archive is unavailable")
        failing = runtime.start_instance(s, "engine_test_failing", {"ref": "F1"}, "F1", CLERK,
                                         now=MONDAY)
        assert failing.status == "error"
        assert s.scalars(select(DomainRecord.label)).all() == ["first:F1"]
        [incident] = s.scalars(select(Incident)).all()
        assert incident.message_zh == "省卡管系统不可用"
        behaviour.fail_after_write = None
        assert runtime.retry_incident(s, incident.id, MANAGER, now=MONDAY).status == "running"
        assert sorted(s.scalars(select(DomainRecord.label))) == ["first:F1", "second:F1"]
