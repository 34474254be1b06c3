"""Case pages 案件: history with the actors, the statutory deadline of the outlet procedure
(15 working days), the applicant's photo (signed-in users only), incidents and their retry."""
import html as htmllib
import re

import pytest
from sqlalchemy import select

from app.cards.models import CardJob
from app.engine.models import Incident, ProcessInstance
from app.sla.models import CalendarYear
from app.engine.services import ServiceError, registry
from tests.api import (PHOTO, app, application_json, application_post, calendar,  # noqa: F401
                       complete, db, local_today, make_next_year_missing, open_task, start)


def flashes(html: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<div class="flash">([^<]*)</div>', html)]


def history(html: str) -> list[tuple[str, str, str]]:
    """(action, time, sentence) of each history row."""
    table = re.search(r'<table id="history">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r'<tr data-action="(\w+)">(.*?)</tr>', table, re.S)
    out = []
    for action, cells in rows:
        when, sentence = [htmllib.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        out.append((action, when, sentence))
    return out


def actions(rows) -> list[str]:
    """The audit actions of history rows (kept in data-action; the page shows sentences)."""
    return [r[0] for r in rows]


def accept_on_page(web, person="lin_kun", process="instant_issuance") -> int:
    """Start a case on /start and post the application form; returns the case id."""
    r = web.post("/start", {"process": process}, page="/start")
    location = r.headers["Location"]
    r = web.post(location, application_post(person), page=location)
    assert r.status_code == 302
    m = re.fullmatch(r"/(cases|tasks)/(\d+)", r.headers["Location"])
    if m.group(1) == "cases":
        return int(m.group(2))
    return int(re.search(r'href="/cases/(\d+)" id="case-link"',
                         web.get(r.headers["Location"]).get_data(as_text=True)).group(1))


def test_history_shows_start_and_completion_with_the_actor(app, web):
    web.login("window")
    case_id = accept_on_page(web)
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    rows = history(html)
    # the clerk who opens the case claims its first task, then completes it
    assert actions(rows)[:3] == ["start", "claim", "complete"]
    # one sentence per action, with the clerk's name and the step's title, no codes
    assert [r[2] for r in rows[:3]] == ["窗口经办 陈敏 受理「立等可取（制发卡服务窗口）」",
                                        "窗口经办 陈敏 领取「受理：填写申领表」",
                                        "窗口经办 陈敏 办结「受理：填写申领表」"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0][1])
    assert "form_key" not in html and "lock_version=" not in html and "task_id=" not in html
    english = history(web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True))
    assert [r[2] for r in english][:3] == ["窗口经办 陈敏 started “Instant issuance (bank card window)”",
                                           "窗口经办 陈敏 claimed “Accept: fill in the application form”",
                                           "窗口经办 陈敏 completed “Accept: fill in the application form”"]
    with db(app) as s:
        inst = s.get(ProcessInstance, case_id)
        assert inst.status == "waiting"
        number = inst.business_key
    assert f'<span id="case-number">{number}</span>' in html
    # the application documents, personal numbers masked
    assert "林堃" in html and "350581********1311" in html and "138****1234" in html
    assert "350581199003071311" not in html and "13805951234" not in html
    # the case list finds it by its number
    listing = web.get(f"/cases?q={number}").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in listing


def test_outlet_case_shows_its_deadline_and_working_days_left(app, web):
    web.login("outlet")
    r = web.post("/start", {"process": "outlet_application"}, page="/start")
    location = r.headers["Location"]
    assert location.startswith("/tasks/")
    with db(app) as s:
        expected = calendar(s).add_working_days(local_today(), 15)
        case_id = s.scalar(select(ProcessInstance.id))
        assert s.get(ProcessInstance, case_id).deadline_at.date() <= expected
    task_page = web.get(location).get_data(as_text=True)
    assert f"办理时限（受理至通知领卡） {expected.isoformat()} " in task_page
    assert 'data-deadline="statutory">剩余 15 个工作日</span>' in task_page

    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'<strong id="deadline">{expected.isoformat()}</strong>' in html
    assert re.search(r'<span class="tag on_time" id="days-left">剩余 15 个工作日</span>', html)
    html = web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True)
    assert "15 working days left" in html

    # the inbox shows the same count on the task's row (the clerk who opened the case has it)
    inbox = web.get("/inbox?scope=mine").get_data(as_text=True)
    assert '<span class="tag on_time">15</span>' in inbox


def test_instant_issuance_has_no_statutory_deadline(app, web):
    web.login("window")
    case_id = start(app, "instant_issuance", "window")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="deadline"' not in html and 'id="days-left"' not in html


def test_photo_is_served_to_signed_in_users_only(app, web):
    web.login("window")
    case_id = accept_on_page(web)
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'src="/cases/{case_id}/photo"' in html
    r = web.get(f"/cases/{case_id}/photo")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data == PHOTO
    assert "no-store" in r.headers["Cache-Control"] and "private" in r.headers["Cache-Control"]

    anonymous = app.test_client()
    r = anonymous.get(f"/cases/{case_id}/photo")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert r.data != PHOTO and PHOTO not in r.data


def test_photo_of_a_case_without_application_is_not_found(app, web):
    case_id = start(app, "instant_issuance", "window")
    web.login("window")
    assert web.get(f"/cases/{case_id}/photo").status_code == 404
    assert web.get("/cases/9999").status_code == 404


def police_down(ctx, **params):
    raise ServiceError("police_unavailable", "公安户籍系统暂时无法访问", "The police register is unavailable")


def test_incident_retry_after_the_service_is_back(app, web, monkeypatch):
    original = registry.get("police.verify")
    monkeypatch.setitem(registry._ops, "police.verify", police_down)
    web.login("window")
    case_id = accept_on_page(web)
    with db(app) as s:
        inst = s.get(ProcessInstance, case_id)
        incident = s.scalar(select(Incident).where(Incident.instance_id == case_id))
        assert inst.status == "error" and incident.state == "open" and incident.task_name == "police_verify"
        assert s.scalar(select(CardJob.id)) is None
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "公安户籍系统暂时无法访问" in html
    assert f'action="/incidents/{incident.id}/retry"' in html

    # still down: the retry fails again, the incident stays open with one more attempt
    r = web.post(f"/incidents/{incident.id}/retry", {}, page=f"/cases/{case_id}")
    assert r.status_code == 302
    with db(app) as s:
        again = s.get(Incident, incident.id)
        assert again.state == "open" and again.attempts == incident.attempts + 1

    monkeypatch.setitem(registry._ops, "police.verify", original)
    r = web.post(f"/incidents/{incident.id}/retry", {}, page=f"/cases/{case_id}")
    assert r.status_code == 302 and r.headers["Location"] == f"/cases/{case_id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "已重试。" in flashes(html)
    with db(app) as s:
        assert s.get(Incident, incident.id).state != "open"
        inst = s.get(ProcessInstance, case_id)
        assert inst.status == "waiting"  # checks passed: the card job waits for the station
        assert s.scalar(select(CardJob.instance_id)) == case_id
    assert actions(history(html)).count("retry") == 2
    assert actions(history(html)).count("incident") == 2
    assert f'action="/incidents/{incident.id}/retry"' not in html


@pytest.mark.parametrize("username", ["outlet", "reviewer", "analyst"])
def test_incident_retry_is_refused_outside_the_case_lanes(app, web, monkeypatch, username):
    monkeypatch.setitem(registry._ops, "police.verify", police_down)
    web.login("window")
    case_id = accept_on_page(web)
    web.post("/logout", {}, page="/inbox")
    monkeypatch.undo()
    with db(app) as s:
        incident_id = s.scalar(select(Incident.id).where(Incident.instance_id == case_id))
    web.login(username)
    assert web.post(f"/incidents/{incident_id}/retry", {}, page="/profile").status_code == 403
    with db(app) as s:
        assert s.get(Incident, incident_id).state == "open"
        assert s.get(ProcessInstance, case_id).status == "error"
    assert web.post("/incidents/9999/retry", {}, page="/profile").status_code == 404


def test_manager_may_retry_an_incident(app, web, monkeypatch):
    monkeypatch.setitem(registry._ops, "police.verify", police_down)
    web.login("window")
    case_id = accept_on_page(web)
    web.post("/logout", {}, page="/inbox")
    monkeypatch.undo()
    with db(app) as s:
        incident_id = s.scalar(select(Incident.id).where(Incident.instance_id == case_id))
    web.login("manager")
    assert web.post(f"/incidents/{incident_id}/retry", {}, page="/profile").status_code == 302
    with db(app) as s:
        assert s.get(ProcessInstance, case_id).status == "waiting"


TEST_NOTICE = """国务院办公厅关于{year}年部分节假日安排的通知（测试用虚构数据 / made-up test data）
一、元旦：1月1日放假，共1天。
"""


def test_a_deadline_in_a_year_not_entered_is_pending_until_the_notice_is_pasted(app, web):
    """The rest of this year entered as holidays and next year not entered: the outlet still
    accepts the citizen; the deadline shows as pending on the case page and the inbox; the
    manager pastes the notice and the deadline, with the history line saying why, appears."""
    next_year = make_next_year_missing(app)
    web.login("outlet")
    r = web.post("/start", {"process": "outlet_application"}, page="/start")
    assert r.status_code == 302 and r.headers["Location"].startswith("/tasks/")
    with db(app) as s:
        case_id = s.scalar(select(ProcessInstance.id))
    pending = f"待定：{next_year}年法定节假日安排未录入"
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert pending in html and 'data-state="pending"' in html
    assert pending in web.get("/inbox?scope=mine").get_data(as_text=True)
    task = open_task(app, case_id)
    r = web.post(f"/tasks/{task.id}", application_post("chen_xiuying"), page=f"/tasks/{task.id}")
    assert r.status_code == 302  # the step runs: nothing waits for the calendar but the dates

    web.login("manager")
    page = web.get("/calendar").get_data(as_text=True)
    assert f'data-year="{next_year}" data-source="missing"' in page
    assert "calendar-warning" in page  # the banner: next year is missing and close
    notice = TEST_NOTICE.format(year=next_year)
    preview = web.post("/calendar", {"action": "notice_preview", "notice": notice}, page="/calendar")
    text = preview.get_data(as_text=True)
    assert 'id="preview"' in text and 'class="off"' in text and 'id="notice-apply"' in text
    with db(app) as s:  # a preview enters nothing
        assert s.get(CalendarYear, next_year) is None
    r = web.post("/calendar", {"action": "notice_apply", "notice": notice}, page="/calendar")
    assert r.status_code == 302
    with db(app) as s:
        due = calendar(s).add_working_days(local_today(), 15)
        assert due.year == next_year
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'<strong id="deadline">{due.isoformat()}</strong>' in html and pending not in html
    assert f"由 待定（{next_year} 年法定节假日安排未录入） 调整为 {due.isoformat()}：{next_year} 年节假日安排录入" in html
    assert "calendar-warning" not in web.get("/calendar").get_data(as_text=True)


def test_a_notice_that_cannot_be_read_is_refused_with_its_line(app, web):
    web.login("manager")
    bad = "国务院办公厅关于2031年部分节假日安排的通知\n一、元旦：1月1日（周五）放假，共1天。\n"  # 1 Jan 2031 is a Wednesday
    r = web.post("/calendar", {"action": "notice_preview", "notice": bad}, page="/calendar")
    html = r.get_data(as_text=True)
    assert 'id="notice-error"' in html and "第 2 行" in html and "不是星期五" in html
    assert 'id="preview"' not in html
    r = web.post("/calendar", {"action": "notice_apply", "notice": bad}, page="/calendar")
    assert r.status_code == 200 and 'id="notice-error"' in r.get_data(as_text=True)
    with db(app) as s:
        assert s.get(CalendarYear, 2031) is None


def test_case_page_and_photo_are_refused_outside_the_case_lanes(app, web):
    """An outlet clerk has no business with a bank window's instant issuance case."""
    from sqlalchemy import select
    from app.engine.models import ProcessInstance
    web.login("window")
    r = web.post("/start", {"process": "instant_issuance"}, page="/start")
    assert r.status_code == 302
    with app.app_context():
        inst_id = app.extensions["sscard"].session.scalar(select(ProcessInstance.id))
    web.post("/logout", page="/profile")
    web.login("outlet")
    assert web.get(f"/cases/{inst_id}").status_code == 403
    assert web.get(f"/cases/{inst_id}/photo").status_code == 403
    web.post("/logout", page="/profile")
    web.login("manager")
    assert web.get(f"/cases/{inst_id}").status_code == 200


def test_cancel_from_the_case_page(app, web):
    from sqlalchemy import select
    from app.engine.models import ProcessInstance
    web.login("window")
    web.post("/start", {"process": "instant_issuance"}, page="/start")
    with app.app_context():
        inst_id = app.extensions["sscard"].session.scalar(select(ProcessInstance.id))
    page = f"/cases/{inst_id}"
    r = web.post(f"/cases/{inst_id}/cancel", {"reason": ""}, page=page, follow_redirects=True)
    assert "请填写撤销原因" in r.get_data(as_text=True)
    r = web.post(f"/cases/{inst_id}/cancel", {"reason": "申请人放弃", "confirm": "yes"}, page=page, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "办件已撤销" in html and 'data-status="cancelled"' in html and 'id="cancel-form"' not in html


def test_a_rejected_case_says_why_in_chinese_and_english(app, web):
    """刘洋's household is in 厦门: the police check cannot be solved on the spot. His case ends;
    its page says why (not a status code), in both languages, and the history has the
    sentences."""
    case_id = start(app, "instant_issuance", "window")
    complete(app, open_task(app, case_id).id, application_json("liu_yang"), "window")
    correct = open_task(app, case_id)
    assert correct.task_name == "correct_data"
    complete(app, correct.id, {"decision": "unsolvable", "reason": "非本地户籍，当场无法解决"}, "window")
    web.login("window")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    outcome = re.search(r'<p class="banner" id="case-outcome">(.*?)</p>', html).group(1)
    assert outcome.startswith("不予制卡：公安户籍比对不一致，当场无法解决，终止制卡")
    assert '<strong id="application-status" data-status="rejected">不予制卡</strong>' in html
    assert ">rejected<" not in html
    sentences = [r[2] for r in history(html)]
    assert "窗口经办 陈敏 办结「与申请人当场核实」" in sentences
    en = web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True)
    outcome_en = htmllib.unescape(re.search(r'id="case-outcome">(.*?)</p>', en).group(1))
    assert outcome_en.startswith("Rejected: The police check failed and could not be solved on the spot")
