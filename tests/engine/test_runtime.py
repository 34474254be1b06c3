"""Runtime steps on SQLite: start, complete (forms, groups, four-eyes), messages, error
boundary events, incidents and retry, rollback, cancel, serialization without spec, audit."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.engine import runtime
from app.engine.errors import (CaseChanged, FormInvalid, FourEyesViolation, IncidentNotOpen,
                               InstanceNotActive, NoMessageReceiver, NotCandidate,
                               ProcessNotFound, TaskAlreadyDone, TaskClaimed)
from app.engine.models import (AuditEvent, HumanTask, Incident, ProcessInstance, Timer)
from app.engine.repository import spec_cache
from app.engine.services import ServiceError
from app.common.clock import CHINA_TZ

from tests.engine.conftest import (CLERK, CLERK2, MANAGER, MONDAY, REVIEWER, DomainRecord)

ENTER = {"name": "林堃", "ssn": "350581199003071234"}


def start_review(db, session, business_key="SQ-2025-0001", now=MONDAY):
    return runtime.start_instance(session, "engine_test_review", {"channel": "outlet"},
                                  business_key, CLERK, now=now)


def audit_actions(session, instance_id):
    return [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))]


def to_approve(db, session, now=MONDAY):
    inst = start_review(db, session, now=now)
    enter = db.task(session, inst.id, "enter")
    runtime.complete_task(session, enter.id, ENTER, CLERK, now=now)
    return inst


# -- start ---------------------------------------------------------------------------------------

def test_start_creates_case_task_and_deadline(db):
    with db.session() as s:
        inst = start_review(db, s)
        assert inst.id and inst.status == "running" and inst.lock_version >= 1
        assert inst.process_key == "engine_test_review" and inst.business_key == "SQ-2025-0001"
        # 15 working days from Mon 3 March 2025 = Mon 24 March, end of day in Fuzhou.
        assert inst.deadline_at == datetime(2025, 3, 24, 23, 59, 59, tzinfo=CHINA_TZ)
        assert runtime.working_days_left(inst, MONDAY) == 15
        assert runtime.working_days_left(inst, datetime(2025, 3, 25, tzinfo=CHINA_TZ)) == -1
        [task] = s.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).all()
        assert (task.task_name, task.title, task.form_key) == ("enter", "Enter application",
                                                               "engine_test_enter")
        assert task.lane == task.group == "clerks" and task.state == "open"
        assert task.assignee_id is None
        # dueWorkingDays=2 -> Wed 5 March 23:59:59 +08:00
        assert task.due_at == datetime(2025, 3, 5, 23, 59, 59, tzinfo=CHINA_TZ)
        assert inst.summary == {"open_tasks": ["Enter application"]}
        assert runtime.task_data(s, task.id) == {"channel": "outlet"}
        assert audit_actions(s, inst.id) == ["start"]


def test_unknown_process(db):
    with db.session() as s:
        with pytest.raises(ProcessNotFound) as err:
            runtime.start_instance(s, "nope", {}, None, CLERK)
        assert err.value.kind == "not_found" and "nope" in err.value.message_zh


def test_state_is_stored_without_spec(db):
    with db.session() as s:
        inst = start_review(db, s)
        state = json.loads(inst.state)
        assert "spec" not in state and "subprocess_specs" not in state
        assert state["serializer_version"] == "1.5"
        assert len(inst.state) < 8000  # the spec alone is larger than that


# -- complete ------------------------------------------------------------------------------------

def test_complete_with_form_errors_changes_nothing(db):
    with db.session() as s:
        inst = start_review(db, s)
        task = db.task(s, inst.id, "enter")
        with pytest.raises(FormInvalid) as err:
            runtime.complete_task(s, task.id, {"name": "  "}, CLERK, now=MONDAY)
        assert err.value.kind == "invalid"
        assert set(err.value.errors) == {"name", "ssn"}
        assert all(isinstance(m, str) for msgs in err.value.errors.values() for m in msgs)
        task = db.task(s, inst.id, "enter")
        assert task.state == "open" and task.assignee_id is None
        assert db.instance(s, inst.id).lock_version == inst.lock_version
        assert audit_actions(s, inst.id) == ["start"]


def test_complete_runs_service_and_routes_to_next_lane(db, behaviour):
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        version = inst.lock_version
        result = runtime.complete_task(s, enter.id, {**ENTER, "extra": "dropped"}, CLERK,
                                       expected_lock_version=version, now=MONDAY)
        assert result.status == "running" and result.lock_version == version + 1
        assert behaviour.calls == [("verify", {"name": "林堃", "ssn": "350581199003071234",
                                               "task": "verify"})]
        done = db.task(s, inst.id, "enter", state="completed")
        assert (done.completed_by_id, done.completed_by, done.completed_by_name) == \
            (1, "clerk1", "王小明")
        assert done.assignee_id == 1  # auto-claimed
        approve = db.task(s, inst.id, "approve")
        assert approve.group == "reviewers" and approve.due_at is None
        data = runtime.task_data(s, approve.id)
        assert data["name"] == "林堃" and "extra" not in data  # only cleaned form fields
        assert data["verified"] == {"ok": True, "checked_name": "林堃"}
        # The review has an overdue timer: 3 working days -> Thu 6 March end of day.
        [timer] = s.scalars(select(Timer).where(Timer.instance_id == inst.id)).all()
        assert timer.task_name == "approve_late" and timer.state == "waiting"
        assert timer.due_at == datetime(2025, 3, 6, 23, 59, 59, tzinfo=CHINA_TZ)
        assert audit_actions(s, inst.id) == ["start", "complete"]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "complete")).one()
        assert event.actor == "clerk1" and event.actor_id == 1 and event.task_name == "enter"
        assert event.detail["data"] == {"name": "林堃", "ssn": "350581199003071234"}


def test_only_the_lane_group_may_complete(db):
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        with pytest.raises(NotCandidate) as err:
            runtime.complete_task(s, enter.id, ENTER, REVIEWER, now=MONDAY)
        assert err.value.kind == "forbidden" and "clerks" in err.value.message_zh


def test_four_eyes(db):
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        runtime.complete_task(s, enter.id, ENTER, CLERK2, now=MONDAY)
        approve = db.task(s, inst.id, "approve")
        # clerk2 is a reviewer too, but entered the application: may not approve it.
        with pytest.raises(FourEyesViolation) as err:
            runtime.complete_task(s, approve.id, {"decision": "approve"}, CLERK2, now=MONDAY)
        assert "Enter application" in err.value.message_en and "双人复核" in err.value.message_zh
        with pytest.raises(FourEyesViolation):
            runtime.claim(s, approve.id, CLERK2)
        with pytest.raises(FourEyesViolation):
            runtime.reassign(s, approve.id, CLERK2.user_id, MANAGER, to_username="clerk2")
        runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=MONDAY)
        assert db.instance(s, inst.id).status == "waiting"  # for the card maker's message


def test_completed_task_cannot_be_completed_again(db):
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        runtime.complete_task(s, enter.id, ENTER, CLERK, now=MONDAY)
        with pytest.raises(TaskAlreadyDone) as err:
            runtime.complete_task(s, enter.id, ENTER, CLERK2, now=MONDAY)
        assert err.value.message_zh == "该任务已由 王小明 完成"
        assert err.value.message_en == "This task was already completed by 王小明"
        assert err.value.kind == "conflict"


def test_stale_lock_version_is_refused(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        with pytest.raises(CaseChanged):
            runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER,
                                  expected_lock_version=inst.lock_version - 1, now=MONDAY)
        assert db.task(s, inst.id, "approve").state == "open"


def test_claim_release_reassign(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        claimed = runtime.claim(s, approve.id, REVIEWER, now=MONDAY)
        assert claimed.assignee_id == 3 and claimed.claimed_at is not None
        assert runtime.claim(s, approve.id, REVIEWER).assignee_id == 3  # idempotent
        # Someone else in the group can no longer take or complete it.
        other = CLERK2
        with pytest.raises(TaskClaimed):
            runtime.claim(s, approve.id, other)
        with pytest.raises(TaskClaimed):
            runtime.complete_task(s, approve.id, {"decision": "approve"}, other)
        released = runtime.release(s, approve.id, REVIEWER)
        assert released.assignee_id is None
        moved = runtime.reassign(s, approve.id, 7, MANAGER, to_username="reviewer7")
        assert (moved.assignee_id, moved.assignee_name) == (7, "reviewer7")
        actions = audit_actions(s, inst.id)
        assert actions == ["start", "complete", "claim", "release", "reassign"]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "reassign")).one()
        assert event.actor == "manager" and event.detail["to_user_id"] == 7


# -- messages ------------------------------------------------------------------------------------

def test_message_reaches_waiting_case(db):
    with db.session() as s:
        inst = to_approve(db, s)
        with pytest.raises(NoMessageReceiver):  # still at the review, not waiting yet
            runtime.send_message(s, "card_made", {"card_no": "B1"}, business_key="SQ-2025-0001")
        approve = db.task(s, inst.id, "approve")
        runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=MONDAY)
        with pytest.raises(NoMessageReceiver):
            runtime.send_message(s, "other_message", {}, business_key="SQ-2025-0001")
        [got] = runtime.send_message(s, "card_made", {"card_no": "B7K334774"},
                                     business_key="SQ-2025-0001")
        assert got.id == inst.id and got.status == "completed" and got.ended_at is not None
        data = runtime.instance_data(s, inst.id)
        assert data["card"] == {"card_no": "B7K334774"} and data["decision"] == "approve"
        assert got.summary["decision"] == "approve" and got.summary["name"] == "林堃"
        assert audit_actions(s, inst.id)[-1] == "message"
        with pytest.raises(InstanceNotActive):
            runtime.cancel_instance(s, inst.id, MANAGER)


def test_message_by_instance_id(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        runtime.complete_task(s, approve.id, {"decision": "approve"}, REVIEWER, now=MONDAY)
        [got] = runtime.send_message(s, "card_made", {"card_no": "X"}, instance_id=inst.id)
        assert got.status == "completed"


def test_rejection_ends_without_message(db):
    with db.session() as s:
        inst = to_approve(db, s)
        approve = db.task(s, inst.id, "approve")
        done = runtime.complete_task(s, approve.id, {"decision": "reject"}, REVIEWER, now=MONDAY)
        assert done.status == "completed"
        assert s.scalars(select(Timer.state).where(Timer.instance_id == inst.id)).all() == \
            ["cancelled"]


# -- service errors: boundary events and incidents ------------------------------------------------

def test_service_error_caught_by_error_boundary(db, behaviour):
    behaviour.verify_error = ServiceError("mismatch", "姓名与户籍信息不一致",
                                          "The name differs from the police register")
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        result = runtime.complete_task(s, enter.id, ENTER, CLERK, now=MONDAY)
        assert result.status == "running"
        fix = db.task(s, inst.id, "fix")
        data = runtime.task_data(s, fix.id)
        assert data["error_code"] == "mismatch"
        assert data["error_message"] == "姓名与户籍信息不一致"
        assert data["error_message_en"] == "The name differs from the police register"
        assert data["check_error"]["code"] == "mismatch"  # bpmn:error variableName
        assert s.scalar(select(func.count()).select_from(Incident)) == 0
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "complete")).one()
        assert event.detail["errors_caught"] == [
            {"task": "verify", "code": "mismatch", "caught_by": "verify_failed"}]
        # Fixed, entered again, verified this time.
        behaviour.verify_error = None
        runtime.complete_task(s, fix.id, ENTER, CLERK, now=MONDAY)
        enter2 = db.task(s, inst.id, "enter")
        runtime.complete_task(s, enter2.id, ENTER, CLERK, now=MONDAY)
        assert db.task(s, inst.id, "approve").state == "open"


def test_uncaught_service_error_opens_incident_and_retry_resolves_it(db, behaviour):
    behaviour.verify_error = ServiceError("register_down", "公安户籍系统暂不可用",
                                          "The police register is unavailable", retryable=True)
    with db.session() as s:
        inst = start_review(db, s)
        enter = db.task(s, inst.id, "enter")
        result = runtime.complete_task(s, enter.id, ENTER, CLERK, now=MONDAY)
        assert result.status == "error"
        [incident] = s.scalars(select(Incident)).all()
        assert (incident.task_name, incident.operation, incident.error_code) == \
            ("verify", "engine_test.verify", "register_down")
        assert incident.message_zh == "公安户籍系统暂不可用" and incident.state == "open"
        assert db.task(s, inst.id, "enter", state="completed")  # the clerk's part is done
        # Retry while still failing: the same incident, one more attempt.
        runtime.retry_incident(s, incident.id, MANAGER, now=MONDAY)
        s.refresh(incident)
        assert incident.state == "open" and incident.attempts == 2
        behaviour.verify_error = None
        result = runtime.retry_incident(s, incident.id, MANAGER, now=MONDAY)
        assert result.status == "running"
        s.refresh(incident)
        assert incident.state == "resolved" and incident.resolved_by == "manager"
        assert db.task(s, inst.id, "approve").state == "open"
        with pytest.raises(IncidentNotOpen):
            runtime.retry_incident(s, incident.id, MANAGER)
        assert audit_actions(s, inst.id) == ["start", "incident", "complete", "retry",
                                             "incident", "retry"]


def test_failed_operation_rolls_back_its_own_writes(db, behaviour):
    """A service operation that writes a row and then fails leaves no row; the step that ran
    it still commits the case (stopped in an incident) and the earlier operation's row."""
    behaviour.fail_after_write = RuntimeError("archive connection reset")
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_failing", {"ref": "A1"}, "A1", CLERK,
                                      now=MONDAY)
        assert inst.status == "error"
        assert s.scalars(select(DomainRecord.label)).all() == ["first:A1"]
        [incident] = s.scalars(select(Incident)).all()
        assert incident.task_name == "risky" and incident.operation == "engine_test.write_then_fail"
        assert "archive connection reset" in incident.message_en
        assert "Send to the card archive" in incident.message_en
        assert "执行失败" in incident.message_zh
        behaviour.fail_after_write = None
        runtime.retry_incident(s, incident.id, MANAGER, now=MONDAY)
        assert sorted(s.scalars(select(DomainRecord.label)).all()) == ["first:A1", "second:A1"]
        assert db.instance(s, inst.id).status == "running"


def test_a_due_date_in_a_year_not_entered_is_pending_not_refused(db):
    """The next task's due date needs 2099, which nobody entered: the case starts all the same,
    the task's due date waits for the calendar (待定) instead of being guessed."""
    with db.session() as s:
        start = datetime(2099, 1, 5, 10, tzinfo=CHINA_TZ)
        inst = runtime.start_instance(s, "engine_test_failing", {"ref": "Z9"}, "Z9", CLERK, now=start)
        assert inst.status in ("running", "waiting", "error")
        assert "first:Z9" in s.scalars(select(DomainRecord.label)).all()
        pending = s.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                    HumanTask.due_working_days.is_not(None))).all()
        assert pending and all(t.due_at is None and t.due_pending_year == 2099 for t in pending)


def test_failure_half_way_leaves_the_case_exactly_as_before(db, monkeypatch):
    """The step fails after a service operation wrote its row (saving the timers fails): nothing
    of the step remains."""
    import app.engine.sync as sync

    def broken(case):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync, "sync_timers", broken)
    with db.session() as s:
        with pytest.raises(RuntimeError, match="disk full"):
            runtime.start_instance(s, "engine_test_failing", {"ref": "Z9"}, "Z9", CLERK, now=MONDAY)
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert s.scalar(select(func.count()).select_from(DomainRecord)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action != "deploy")) == 0


def test_a_timer_reaching_into_a_year_not_entered_waits_pending(db):
    with db.session() as s:
        inst = runtime.start_instance(s, "engine_test_review", {}, "K1", CLERK,
                                      now=datetime(2026, 12, 1, 10, tzinfo=CHINA_TZ))
        enter = db.task(s, inst.id, "enter")
        # The next task's overdue timer (3 working days) reaches into 2027: not entered.
        runtime.complete_task(s, enter.id, ENTER, CLERK,
                              now=datetime(2026, 12, 30, 11, tzinfo=CHINA_TZ))
        assert db.task(s, inst.id, "enter", state="completed")
        [timer] = s.scalars(select(Timer).where(Timer.instance_id == inst.id)).all()
        assert (timer.state, timer.due_at, timer.pending_year) == ("pending", None, 2027)
        # nothing fires on a guessed date, however late it gets
        assert runtime.fire_due_timers(db.Session, now=datetime(2027, 6, 1, tzinfo=CHINA_TZ)) == 0


# -- cancel --------------------------------------------------------------------------------------

def test_cancel(db):
    with db.session() as s:
        inst = to_approve(db, s)
        cancelled = runtime.cancel_instance(s, inst.id, MANAGER, reason="申请人撤回")
        assert cancelled.status == "cancelled" and cancelled.ended_at is not None
        assert db.task(s, inst.id, "approve", state="cancelled")
        assert s.scalars(select(Timer.state)).all() == ["cancelled"]
        assert audit_actions(s, inst.id)[-1] == "cancel"
        with pytest.raises(InstanceNotActive):
            runtime.complete_task(s, db.task(s, inst.id, "approve", "cancelled").id,
                                  {"decision": "approve"}, REVIEWER)


# -- audit ---------------------------------------------------------------------------------------

def test_audit_is_append_only(db):
    from app.engine.errors import AuditImmutable
    with db.session() as s:
        start_review(db, s)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "start")).one()
        event.actor = "someone else"
        with pytest.raises(AuditImmutable):
            s.flush()
        s.rollback()
        s.delete(s.scalars(select(AuditEvent).where(AuditEvent.action == "start")).one())
        with pytest.raises(AuditImmutable):
            s.flush()
        s.rollback()


def test_spec_parsed_once_per_version(db):
    with db.session() as s:
        parses = spec_cache.parses
        for n in range(3):
            start_review(db, s, business_key=f"SQ-{n}")
        assert spec_cache.parses == parses  # deploy seeded the cache
