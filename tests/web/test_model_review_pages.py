"""Model review pages (流程模型复核, four eyes): an analyst's new version of a deployed procedure
is a draft; another analyst, a manager or an administrator approves it (deployed, new cases on
it, running cases on theirs) or rejects it with a reason the uploader reads."""
import html as htmllib
import io
import re

import pytest
from sqlalchemy import select

from app.engine.models import AuditEvent, ProcessInstance, ProcessModel, ProcessModelDraft
from app.engine.repository import sha256
from tests.api import PROCESSES, add_user, app, db, start  # noqa: F401

INSTANT = (PROCESSES / "application" / "instant_issuance.bpmn").read_text(encoding="utf-8")
CHANGED = INSTANT.replace('name="受理：填写申领表"', 'name="受理：填写申领表（新版）"', 1)


def flashes(html: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<div class="flash">([^<]*)</div>', html)]


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def logout(web):
    web.post("/logout", {}, page="/profile")


def upload(web, name: str, content: str):
    return web.post("/processes", {"bpmn": (io.BytesIO(content.encode("utf-8")), name)}, page="/processes")


def versions(app, key="instant_issuance") -> list[int]:
    with db(app) as s:
        return list(s.scalars(select(ProcessModel.version).where(ProcessModel.key == key)
                              .order_by(ProcessModel.version)))


def only_draft(app) -> ProcessModelDraft:
    with db(app) as s:
        [draft] = s.scalars(select(ProcessModelDraft)).all()
        return draft


def actions(app) -> list[tuple[str, str]]:
    with db(app) as s:
        return [(e.action, e.actor) for e in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["model_submit", "model_approve", "model_reject", "deploy"]), AuditEvent.actor != "test")
            .order_by(AuditEvent.id))]


@pytest.fixture
def analyst2(app):
    add_user(app, "analyst2", ["process_analyst"])
    return "analyst2"


def submit_changed(web):
    web.login("analyst")
    r = upload(web, "instant_issuance.bpmn", CHANGED)
    assert r.status_code == 200
    return r


def test_a_changed_model_is_a_draft_awaiting_review(app, web):
    r = submit_changed(web)
    draft = only_draft(app)
    assert any(m.startswith(f"instant_issuance 的新版本已提交复核（草稿 {draft.id}）") for m in flashes(r.get_data(as_text=True)))
    assert versions(app) == [1]  # not deployed
    page = text(r)
    row = re.search(r'<table id="drafts">(.*?)</table>', page, re.S).group(1)
    assert "instant_issuance.bpmn" in row and "流程分析 李娜" in row and "待复核" in row
    # the review page: key, uploader, time, size and hash, validation, diff; no review for the uploader
    page = text(web.get(f"/processes/drafts/{draft.id}"))
    assert "instant_issuance" in page and "流程分析 李娜（analyst）" in page
    assert draft.sha256 == sha256(CHANGED) and draft.sha256 in page
    assert f"{len(CHANGED.encode())} 字节" in page and f"{len(INSTANT.encode())} 字节" in page
    assert "上传时校验通过；现在重新校验仍通过，可以部署。" in page
    diff = re.search(r'<pre id="diff"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert '<ins>+' in diff and '受理：填写申领表（新版）' in diff and "<del>-" in diff
    assert 'id="approve"' not in page and 'id="own-draft"' in page
    assert actions(app) == [("model_submit", "analyst")]


def test_the_uploader_cannot_approve_their_own_draft(app, web):
    submit_changed(web)
    draft = only_draft(app)
    r = web.post(f"/processes/drafts/{draft.id}/approve", {}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 403
    assert "不能复核本人提交的流程模型：须由另一名流程分析员、科长或系统管理员批准后才能部署。" in text(r)
    r = web.post(f"/processes/drafts/{draft.id}/reject", {"reason": "x"}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 403
    assert versions(app) == [1] and only_draft(app).state == "draft"
    # the message in English too
    web.get("/lang/en")
    r = web.post(f"/processes/drafts/{draft.id}/approve", {}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 403 and "You cannot review a model version you submitted yourself" in text(r)
    assert [a for a, _ in actions(app)] == ["model_submit"]


@pytest.mark.parametrize("reviewer", ["analyst2", "manager", "admin"])
def test_a_second_person_approves_and_the_new_version_is_live(app, web, analyst2, reviewer):
    running = start(app, "instant_issuance", "window")
    with db(app) as s:
        v1 = s.get(ProcessInstance, running).model_id
    submit_changed(web)
    draft = only_draft(app)
    logout(web)

    web.login(reviewer)
    listing = text(web.get("/processes/drafts"))
    assert 'href="/processes/drafts"' in listing  # in the navigation
    pending = re.search(r'<table id="pending">(.*?)</table>', listing, re.S).group(1)
    assert f'href="/processes/drafts/{draft.id}"' in pending and "待复核" in pending
    page = text(web.get(f"/processes/drafts/{draft.id}"))
    assert 'id="approve"' in page and 'id="reject"' in page
    r = web.post(f"/processes/drafts/{draft.id}/approve", {}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 302
    page = text(web.get(r.headers["Location"]))
    assert "已批准并部署 instant_issuance 第 2 版" in page
    assert re.search(r'<td id="state">已批准并部署（第 2 版，复核人 ' + reviewer + '）</td>', page)
    assert versions(app) == [1, 2]
    with db(app) as s:
        v2 = s.scalars(select(ProcessModel).where(ProcessModel.key == "instant_issuance",
                                                   ProcessModel.version == 2)).one()
        assert v2.deployed_by == reviewer and v2.sha256 == sha256(CHANGED)
        assert s.get(ProcessInstance, running).model_id == v1  # the running case keeps v1
    assert only_draft(app).deployed_model_id == v2.id
    assert actions(app) == [("model_submit", "analyst"), ("deploy", reviewer), ("model_approve", reviewer)]
    # new cases start on version 2
    new_case = start(app, "instant_issuance", "window")
    with db(app) as s:
        assert s.get(ProcessInstance, new_case).model_id == v2.id
    # approving again is refused with a message
    r = web.post(f"/processes/drafts/{draft.id}/approve", {}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 409 and "不能再次复核" in text(r)
    assert versions(app) == [1, 2]


def test_a_rejection_reason_is_shown_to_the_uploader(app, web):
    submit_changed(web)
    draft = only_draft(app)
    logout(web)
    web.login("manager")
    r = web.post(f"/processes/drafts/{draft.id}/reject", {"reason": " "}, page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 422 and "退回时请填写原因" in text(r)
    r = web.post(f"/processes/drafts/{draft.id}/reject", {"reason": "受理环节改名须先经科室会议确认 <b>"},
                 page=f"/processes/drafts/{draft.id}")
    assert r.status_code == 302
    assert versions(app) == [1] and only_draft(app).state == "rejected"
    logout(web)

    web.login("analyst")
    page = web.get("/processes").get_data(as_text=True)
    assert "&lt;b&gt;" in page and "<b>" not in page.split('<table id="drafts">')[1]  # escaped
    row = re.search(r'<table id="drafts">(.*?)</table>', htmllib.unescape(page), re.S).group(1)
    assert "已退回（原因：受理环节改名须先经科室会议确认 <b>；复核人 manager）" in row
    page = text(web.get(f"/processes/drafts/{draft.id}"))
    assert "已退回（原因：受理环节改名须先经科室会议确认 <b>；复核人 manager）" in page
    assert 'id="approve"' not in page
    assert actions(app) == [("model_submit", "analyst"), ("model_reject", "manager")]


def test_review_posts_need_the_csrf_token(app, web, analyst2):
    submit_changed(web)
    draft = only_draft(app)
    logout(web)
    web.login(analyst2)
    r = web.client.post(f"/processes/drafts/{draft.id}/approve", data={})
    assert r.status_code == 400
    r = web.client.post(f"/processes/drafts/{draft.id}/reject", data={"reason": "no"})
    assert r.status_code == 400
    r = web.client.post(f"/processes/drafts/{draft.id}/approve", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert versions(app) == [1] and only_draft(app).state == "draft"


@pytest.mark.parametrize("username", ["window", "outlet", "reviewer"])
def test_review_pages_are_for_reviewers_only(app, web, username):
    submit_changed(web)
    draft = only_draft(app)
    logout(web)
    web.login(username)
    assert web.get("/processes/drafts").status_code == 403
    assert web.get(f"/processes/drafts/{draft.id}").status_code == 403
    r = web.post(f"/processes/drafts/{draft.id}/approve", {}, page="/profile")
    assert r.status_code == 403
    assert versions(app) == [1] and only_draft(app).state == "draft"
    assert 'href="/processes/drafts"' not in web.get("/profile").get_data(as_text=True)


def test_an_invalid_upload_makes_no_draft_and_shows_file_and_line(app, web):
    bad = CHANGED.replace('<spiffworkflow:property name="formKey" value="application.handover"/>',
                          '<spiffworkflow:property name="formKey" value="no_such_form"/>')
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if '<bpmn:userTask id="hand_over_card"' in l)
    web.login("analyst")
    page = text(upload(web, "instant_issuance.bpmn", bad))
    problems = re.findall(r"<li>(.*?)</li>", page.split('id="problems"')[1].split("</ul>")[0], re.S)
    assert problems and problems[0].startswith(f"instant_issuance.bpmn:{line} ")
    with db(app) as s:
        assert s.scalars(select(ProcessModelDraft)).all() == []


def test_a_new_procedure_deploys_directly(app, web):
    new = INSTANT.replace('id="instant_issuance"', 'id="instant_issuance_pilot"')
    assert new != INSTANT
    web.login("analyst")
    r = upload(web, "instant_issuance_pilot.bpmn", new)
    assert "已部署 instant_issuance_pilot 第 1 版。" in flashes(r.get_data(as_text=True))
    assert versions(app, "instant_issuance_pilot") == [1]
    with db(app) as s:
        assert s.scalars(select(ProcessModelDraft)).all() == []
    r = upload(web, "instant_issuance.bpmn", INSTANT)  # the same file: unchanged, no draft
    assert "instant_issuance 未修改，仍为第 1 版。" in flashes(r.get_data(as_text=True))
    with db(app) as s:
        assert s.scalars(select(ProcessModelDraft)).all() == []
