"""Four eyes on model versions (app.engine.review): a new version of a deployed process is a
draft until another reviewer approves it; new procedures and the shipped files deploy directly."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.engine import repository, review, runtime
from app.engine.errors import ModelInvalid
from app.engine.models import AuditEvent, ProcessModel, ProcessModelDraft
from app.engine.services import Actor

from tests.engine.conftest import ADMIN, BPMN_DIR, CLERK, MONDAY
from tests.engine.test_repository import process, simple_user_task

ANALYST = Actor("analyst", 21, frozenset({"process_analyst"}), "流程分析 李娜")
ANALYST2 = Actor("analyst2", 22, frozenset({"process_analyst"}), "流程分析 周强")
MANAGER = Actor("manager", 23, frozenset({"manager"}), "科长 张伟")
CLERK_ONLY = Actor("window", 24, frozenset({"window_clerk"}), "窗口经办")

WAIT = (BPMN_DIR / "wait.bpmn").read_text()
CHANGED = WAIT.replace("waited_until = today()", "waited_until = today()\nversion = 2")


def versions(s, key="engine_test_wait") -> list[int]:
    return [m.version for m in repository.list_models(s, key)]


def audit_actions(s) -> list[str]:
    return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def submit_changed(s, actor=ANALYST) -> ProcessModelDraft:
    result = review.submit(s, "wait.bpmn", CHANGED, actor)
    assert result.draft is not None and not result.deployed
    return result.draft


def test_a_changed_file_of_a_deployed_process_becomes_a_draft(db):
    with db.session() as s:
        draft = submit_changed(s)
        assert versions(s) == [1]  # nothing deployed
        s.expire_all()
        draft = s.get(ProcessModelDraft, draft.id)
        assert (draft.process_key, draft.file_name, draft.state) == ("engine_test_wait", "wait.bpmn", "draft")
        assert draft.submitted_by == "analyst" and draft.submitted_by_id == 21
        assert draft.sha256 == repository.sha256(CHANGED) and draft.size == len(CHANGED.encode())
        assert draft.bpmn_xml == CHANGED
        assert draft.base_model_id == repository.latest_model(s, "engine_test_wait").id
        assert draft.submitted_at is not None and draft.reviewed_by is None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "model_submit")).one()
        assert event.actor == "analyst" and event.detail["draft"] == draft.id
        assert event.detail["process_key"] == "engine_test_wait" and event.detail["base_version"] == 1
        # new cases still start on version 1
        case = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W1", CLERK, now=MONDAY)
        assert s.get(ProcessModel, case.model_id).version == 1


def test_the_same_file_again_is_unchanged_and_the_same_draft_is_not_stored_twice(db):
    with db.session() as s:
        result = review.submit(s, "wait.bpmn", WAIT, ANALYST)
        assert result.draft is None and not result.deployed
        assert [(m.key, m.version) for m in result.unchanged] == [("engine_test_wait", 1)]
        first = submit_changed(s)
        again = review.submit(s, "wait.bpmn", CHANGED, ANALYST2)
        assert again.already_pending and again.draft.id == first.id
        assert s.scalar(select(func.count()).select_from(ProcessModelDraft)) == 1


def test_an_invalid_upload_is_refused_with_file_and_line_and_no_draft(db):
    bad = CHANGED.replace("<bpmn:endEvent", "<bpmn:endEvent <oops", 1)
    with db.session() as s:
        with pytest.raises(ModelInvalid) as err:
            review.submit(s, "wait.bpmn", bad, ANALYST)
        s.rollback()
        assert err.value.problems[0].file == "wait.bpmn" and err.value.problems[0].line
        assert s.scalar(select(func.count()).select_from(ProcessModelDraft)) == 0
        assert "model_submit" not in audit_actions(s)


def test_the_uploader_cannot_approve_or_reject_their_own_draft(db):
    with db.session() as s:
        draft = submit_changed(s)
        with pytest.raises(review.OwnDraft) as err:
            review.approve(s, draft.id, ANALYST)
        assert err.value.kind == "forbidden"
        assert "不能复核本人提交的流程模型" in err.value.message_zh
        assert "submitted yourself" in err.value.message_en
        s.rollback()
        # the same person by user id, under another spelling of the name, is still the uploader
        with pytest.raises(review.OwnDraft):
            review.approve(s, draft.id, Actor("ANALYST", 21, frozenset({"administrator"})))
        s.rollback()
        with pytest.raises(review.OwnDraft):
            review.reject(s, draft.id, ANALYST, "my own")
        s.rollback()
        assert versions(s) == [1]
        assert s.get(ProcessModelDraft, draft.id).state == "draft"
        assert audit_actions(s).count("model_approve") == 0


def test_only_reviewer_groups_may_review(db):
    with db.session() as s:
        draft = submit_changed(s)
        with pytest.raises(review.NotAReviewer):
            review.approve(s, draft.id, CLERK_ONLY)
        s.rollback()
        with pytest.raises(review.DraftNotFound):
            review.approve(s, 999, MANAGER)
        s.rollback()
        assert versions(s) == [1]


@pytest.mark.parametrize("reviewer", [ANALYST2, MANAGER, Actor("admin", 25, frozenset({"administrator"}))],
                         ids=["analyst", "manager", "administrator"])
def test_a_second_person_approves_and_the_draft_deploys_as_the_new_version(db, reviewer):
    with db.session() as s:
        old_case = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W1", CLERK, now=MONDAY)
        draft = submit_changed(s)
        [v2] = review.approve(s, draft.id, reviewer)
        assert (v2.key, v2.version, v2.deployed_by) == ("engine_test_wait", 2, reviewer.username)
        s.expire_all()
        draft = s.get(ProcessModelDraft, draft.id)
        assert draft.state == "approved" and draft.reviewed_by == reviewer.username
        assert draft.reviewed_by_id == reviewer.user_id and draft.reviewed_at is not None
        assert draft.deployed_model_id == v2.id
        assert versions(s) == [1, 2]
        # new cases start on version 2, the running case keeps version 1
        new_case = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W2", CLERK, now=MONDAY)
        assert new_case.model_id == v2.id and old_case.model_id != v2.id
        assert runtime.fire_due_timers(db.Session, MONDAY.replace(day=5)) == 2
        s.rollback()
        assert "version" not in runtime.instance_data(s, old_case.id)
        assert runtime.instance_data(s, new_case.id)["version"] == 2
        # audit: submitted, deployed (naming the draft), approved
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["model_submit", "deploy", "model_approve"])).order_by(AuditEvent.id)).all()
        tail = [(e.action, e.actor) for e in events][-3:]
        assert tail == [("model_submit", "analyst"), ("deploy", reviewer.username),
                        ("model_approve", reviewer.username)]
        deploy, approved = events[-2:]
        assert deploy.detail["draft"] == draft.id and deploy.detail["version"] == 2
        assert deploy.detail["submitted_by"] == "analyst"
        assert approved.detail["versions"] == {"engine_test_wait": 2}
        assert approved.detail["submitted_by"] == "analyst"
        # a reviewed draft cannot be reviewed again
        with pytest.raises(review.DraftClosed):
            review.approve(s, draft.id, MANAGER if reviewer is not MANAGER else ANALYST2)
        s.rollback()
        assert versions(s) == [1, 2]


def test_a_draft_invalid_by_approval_time_stays_a_draft(db, monkeypatch):
    with db.session() as s:
        draft = submit_changed(s)
        problem = ModelInvalid([repository.Problem("form gone", "wait.bpmn", 3)])

        def refuse(*_a, **_k):
            raise problem
        monkeypatch.setattr(repository, "validate_string", refuse)
        assert review.validation(s, draft) == problem.problems
        with pytest.raises(ModelInvalid):
            review.approve(s, draft.id, ANALYST2)
        s.rollback()
        assert s.get(ProcessModelDraft, draft.id).state == "draft"
        assert versions(s) == [1]


def test_a_reviewer_rejects_with_a_reason(db):
    with db.session() as s:
        draft = submit_changed(s)
        with pytest.raises(review.ReasonRequired):
            review.reject(s, draft.id, MANAGER, "   ")
        s.rollback()
        review.reject(s, draft.id, MANAGER, "  时限属性缺失，请补上 deadline.statutory  ")
        s.expire_all()
        draft = s.get(ProcessModelDraft, draft.id)
        assert draft.state == "rejected" and draft.reviewed_by == "manager"
        assert draft.reason == "时限属性缺失，请补上 deadline.statutory"
        assert draft.deployed_model_id is None
        assert versions(s) == [1]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "model_reject")).one()
        assert event.actor == "manager" and event.detail["reason"] == draft.reason
        assert event.detail["draft"] == draft.id and event.detail["submitted_by"] == "analyst"
        with pytest.raises(review.DraftClosed) as err:
            review.approve(s, draft.id, ANALYST2)
        assert "已退回" in err.value.message_zh
        s.rollback()
        assert versions(s) == [1]


def test_the_review_compares_the_draft_with_the_live_version(db):
    with db.session() as s:
        draft = submit_changed(s)
        cmp = review.compare(s, draft)
        assert cmp.base.version == 1 and cmp.base_size == len(WAIT.encode())
        assert [line for line in cmp.diff if line.startswith("+") and not line.startswith("+++")][-1] == "+version = 2</bpmn:script>"
        assert not cmp.truncated and not cmp.stale
        assert review.validation(s, draft) == []
        # another version goes live meanwhile (e.g. the CLI): the draft is marked stale
        repository.deploy_string(s, "wait.bpmn", WAIT.replace("today()", "today() "), ADMIN)
        assert review.compare(s, draft).stale


def test_the_first_deploy_of_a_new_process_is_direct(db):
    xml = process(simple_user_task(), pid="engine_test_brand_new")
    with db.session() as s:
        result = review.submit(s, "new.bpmn", xml, ANALYST)
        assert result.draft is None and not result.unchanged
        assert [(m.key, m.version, m.deployed_by) for m in result.deployed] == [
            ("engine_test_brand_new", 1, "analyst")]
        assert versions(s, "engine_test_brand_new") == [1]
        assert s.scalar(select(func.count()).select_from(ProcessModelDraft)) == 0
        # its second version is reviewed
        later = review.submit(s, "new.bpmn", xml.replace('name="Task"', 'name="Task 2"'), ANALYST)
        assert later.draft is not None and versions(s, "engine_test_brand_new") == [1]


def test_a_concurrent_first_deploy_makes_the_upload_a_draft(db, monkeypatch):
    """Two people upload a new procedure at once: the second upload is a new version, reviewed."""
    first = process(simple_user_task(), pid="engine_test_race")
    second = first.replace('name="Task"', 'name="Task B"')
    real = repository.latest_model
    calls = {"n": 0}

    def late(session, key):  # the other person's deploy lands between our check and our store
        if key == "engine_test_race" and calls["n"] == 0:
            calls["n"] += 1
            with db.session() as other:
                repository.deploy_string(other, "race.bpmn", first, ADMIN)
            return None
        return real(session, key)
    monkeypatch.setattr(repository, "latest_model", late)
    with db.session() as s:
        result = review.submit(s, "race.bpmn", second, ANALYST)
        monkeypatch.setattr(repository, "latest_model", real)
        assert calls["n"] == 1 and result.draft is not None and not result.deployed
        assert versions(s, "engine_test_race") == [1]
        assert result.draft.base_model_id == repository.latest_model(s, "engine_test_race").id


def test_deploy_directory_and_deploy_string_stay_direct(db, tmp_path):
    (tmp_path / "wait.bpmn").write_text(CHANGED)
    with db.session() as s:
        [v2] = repository.deploy_directory(s, tmp_path, ADMIN)
        assert v2.version == 2 and versions(s) == [1, 2]
        [v3] = repository.deploy_string(s, "wait.bpmn", WAIT, ADMIN)
        assert v3.version == 3
        assert s.scalar(select(func.count()).select_from(ProcessModelDraft)) == 0
        assert "model_submit" not in audit_actions(s)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def test_two_reviewers_at_once_deploy_the_draft_once(any_db):
    db = any_db
    with db.session() as s:
        draft_id = submit_changed(s).id
    with db.session() as first, db.session() as second:
        seen = review.get_draft(second, draft_id)  # the second reviewer has the page open
        assert seen.state == "draft"
        review.approve(first, draft_id, MANAGER)
        with pytest.raises(review.DraftClosed):
            review.approve(second, draft_id, ANALYST2)
        second.rollback()
        assert versions(second) == [1, 2]
        assert [a for a in audit_actions(second) if a == "model_approve"] == ["model_approve"]
        assert second.get(ProcessModelDraft, draft_id).reviewed_by == "manager"
