"""The case pages as clerks use them (clerk-experience issue, items 4-8): find a case by the
applicant, tell refused from issued, the papers for the applicant (receipt, refusal notice),
what a waiting case waits for, whose queue a task is in, cancelling on purpose only, and the
drafts nobody submitted."""
import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cards.models import CardJob
from app.common.clock import utcnow
from app.engine.models import AuditEvent, HumanTask, ProcessInstance
from app.procedures.application.drafts import (
    REASON,
    discard_draft,
    drafts_round,
    stale_drafts,
)
from app.procedures.application.models import Application
from tests.api import (  # noqa: F401
    STATION_TOKEN,
    app,
    application_json,
    bearer,
    calendar,
    complete,
    db,
    local_today,
    open_task,
    person,
    start,
)
from tests.api.test_station_api import result_for

HANDOVER = {"identity_checked": True, "card_checked": True, "receipt_signed": True,
            "pin_notice_given": True}


@pytest.fixture
def station(app):
    """``station(path, body)`` posts to /api/v1/station/... with the station token."""
    client = app.test_client()

    def post(path, body=None):
        return client.post("/api/v1/station" + path, json=body, headers=bearer(STATION_TOKEN))
    return post


def text(html: str) -> str:
    """The page's text without tags, entities decoded (what the clerk reads)."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


def accepted(app, process: str, who: str, clerk: str, **changes) -> int:
    """A case whose application form was submitted; returns its id."""
    case_id = start(app, process, clerk)
    complete(app, open_task(app, case_id).id, application_json(who, **changes), clerk)
    return case_id


def refused(app) -> int:
    """刘洋's household is in 厦门: the check cannot be solved on the spot, the case ends."""
    case_id = accepted(app, "instant_issuance", "liu_yang", "window")
    correct = open_task(app, case_id)
    assert correct.task_name == "correct_data"
    complete(app, correct.id, {"decision": "unsolvable", "reason": "非本地户籍，当场无法解决"}, "window")
    return case_id


def number_of(app, case_id) -> str:
    with db(app) as s:
        return s.scalar(select(Application.number).where(Application.instance_id == case_id))


def row(html: str, case_id: int) -> str:
    m = re.search(rf'<tr data-case="{case_id}">(.*?)</tr>', html, re.S)
    return m.group(1) if m else ""


def outcome_cell(html: str, case_id: int) -> tuple[str | None, str]:
    m = re.search(r'<td class="outcome" data-status="\w+"(?: data-outcome="(\w+)")?>(.*?)</td>',
                  row(html, case_id), re.S)
    return m.group(1), htmllib.unescape(m.group(2)).strip()


def waits(html: str) -> list[tuple[str, str]]:
    """(kind, text) of the case page's "当前等待" lines."""
    block = re.search(r'<div class="notice waiting" id="waiting">(.*?)</div>', html, re.S)
    if block is None:
        return []
    return [(kind, htmllib.unescape(t)) for kind, t in
            re.findall(r'<li data-kind="(\w+)"[^>]*>(.*?)</li>', block.group(1), re.S)]


REFRESH = '<meta http-equiv="refresh" content="3">'


# -- 4. find a case by the applicant ------------------------------------------------------------

def test_find_a_case_by_name_id_number_last_digits_mobile_and_number(app, web):
    shi = accepted(app, "outlet_application", "shi_yating", "outlet", mobile="13905950068")
    lin = accepted(app, "outlet_application", "lin_kun", "outlet", mobile="13805951234")
    shi_id = person("shi_yating")["id_number"]
    web.login("outlet")
    for q in ("施雅婷", "雅婷", shi_id, shi_id[-4:], shi_id[-8:], "13905950068", number_of(app, shi),
              number_of(app, shi).lower(), f" {shi_id[:6]} {shi_id[6:14]} {shi_id[14:]} "):
        html = web.get("/cases", query_string={"q": q}).get_data(as_text=True)
        assert f'href="/cases/{shi}"' in html, q
        assert f'href="/cases/{lin}"' not in html, q
        assert 'id="not-found"' not in html
    html = web.get("/cases", query_string={"q": "施雅婷"}).get_data(as_text=True)
    line = text(row(html, shi))
    # the applicant (ID masked), the current step (the window's task), the status
    assert f"施雅婷（{shi_id[:6]}********{shi_id[-4:]}）" in line
    assert "取半成品卡制卡" in line and "办理中" in line
    assert shi_id not in html and "13905950068" not in html
    # the mobile of the other applicant finds the other case
    html = web.get("/cases", query_string={"q": "13805951234"}).get_data(as_text=True)
    assert f'href="/cases/{lin}"' in html and f'href="/cases/{shi}"' not in html
    # a full ID number is not a suffix of a longer one: 3 digits are too few to search
    html = web.get("/cases", query_string={"q": shi_id[-3:]}).get_data(as_text=True)
    assert 'id="not-found"' in html


def test_nothing_found_says_so_with_what_was_searched(app, web):
    accepted(app, "outlet_application", "shi_yating", "outlet")
    web.login("outlet")
    html = web.get("/cases", query_string={"q": "王建国"}).get_data(as_text=True)
    found = text(re.search(r'<p class="notice" id="not-found">(.*?)</p>', html, re.S).group(1))
    assert found.startswith("未找到与“王建国”相符的案件")
    assert "姓名" in found and "证件号码" in found and "手机号码" in found and "社保卡号" in found
    html = web.get("/cases", query_string={"q": "施雅婷", "status": "completed"}).get_data(as_text=True)
    assert "（状态：已办结）" in text(html)
    en = web.get("/cases", query_string={"q": "王建国", "lang": "en"}).get_data(as_text=True)
    assert "Nothing found for “王建国”" in text(en)
    # what was typed is shown, never run
    html = web.get("/cases", query_string={"q": "<script>x</script>"}).get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


def test_switching_the_language_keeps_the_search(app, web):
    """中文 | English brings the same page back, its query with it (not the bare case list);
    a ?lang= of the page does not undo the switch; other sites' addresses are not followed."""
    web.login("outlet")
    for referrer, back in (("http://localhost/cases?q=%E8%B5%B5&status=", "/cases?q=%E8%B5%B5&status="),
                           ("http://localhost/cases?q=x&lang=zh", "/cases?q=x"),
                           ("http://localhost/inbox", "/inbox"),
                           ("http://evil.example//evil.example/x?y=1", "/")):
        r = web.get("/lang/en", headers={"Referer": referrer})
        assert r.status_code == 302 and r.headers["Location"] == back, referrer
    html = web.get("/cases", query_string={"q": "赵无名"}).get_data(as_text=True)
    assert "Nothing found for “赵无名”" in text(html)


def test_search_stays_within_the_cases_a_clerk_may_see(app, web):
    """施雅婷 applied at the 宝盖镇 outlet (produced by the ICBC window): the ABC window's clerk
    finds nothing, the ICBC window's clerk and the manager find her case."""
    shi = accepted(app, "outlet_application", "shi_yating", "outlet")
    for username, sees in (("window_abc", False), ("window", True), ("manager", True), ("reviewer", False)):
        web.post("/logout", page="/profile")
        web.login(username)
        html = web.get("/cases", query_string={"q": "施雅婷"}).get_data(as_text=True)
        assert (f'href="/cases/{shi}"' in html) is sees, username
        assert ('id="not-found"' in html) is (not sees), username


# -- 5. refused and issued do not look alike; the refusal notice ----------------------------------

def test_a_refused_case_says_ended_with_the_reason_and_an_issued_one_says_issued(app, web, station):
    no = refused(app)
    yes = accepted(app, "instant_issuance", "wang_jianguo", "window")
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    assert station(f"/jobs/{job['id']}/result", result_for(job, result_id="ok")).status_code == 200
    complete(app, open_task(app, yes, "hand_over_card").id, HANDOVER, "window")
    web.login("window")
    html = web.get("/cases").get_data(as_text=True)
    kind, label = outcome_cell(html, no)
    assert kind == "refused"
    assert label.startswith("已终止：公安户籍比对不一致，当场无法解决，终止制卡")
    assert label.endswith("非本地户籍，当场无法解决")
    assert outcome_cell(html, yes) == ("issued", "已制发")
    assert "已办结" not in text(row(html, no)) + text(row(html, yes))

    page = web.get(f"/cases/{no}").get_data(as_text=True)
    assert '<strong id="case-result" data-outcome="refused">已终止</strong>' in page
    assert 'id="refusal-notice-link"' in page and 'id="receipt-link"' not in page
    assert 'id="cancel-form"' not in page and 'id="waiting"' not in page
    page = web.get(f"/cases/{yes}").get_data(as_text=True)
    assert '<strong id="case-result" data-outcome="issued">已制发</strong>' in page
    assert 'id="refusal-notice-link"' not in page and 'id="receipt-link"' in page

    en = web.get("/cases?lang=en").get_data(as_text=True)
    kind, label = outcome_cell(en, no)
    assert label.startswith("Ended without a card: The police check failed and could not be solved")
    assert outcome_cell(en, yes) == ("issued", "Card issued")
    page = web.get(f"/cases/{no}?lang=en").get_data(as_text=True)
    assert 'data-outcome="refused">Ended without a card</strong>' in page


def test_the_refusal_notice_tells_the_applicant_why_and_what_next(app, web):
    case_id = refused(app)
    number = number_of(app, case_id)
    liu = person("liu_yang")["id_number"]
    web.login("window")
    r = web.get(f"/cases/{case_id}/refusal-notice")
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    html = r.get_data(as_text=True)
    words = text(html)
    assert "社会保障卡终止制卡告知书" in words
    assert f'<span id="notice-number">{number}</span>' in html
    assert '<td id="notice-name">刘洋</td>' in html
    assert f'<td id="notice-id">{liu[:6]}********{liu[-4:]}</td>' in html and liu not in html
    today = local_today().isoformat()
    assert f"您于 {today} 在工商银行石狮支行制卡窗口提出的社会保障卡申领（申领编号 {number}）" in words
    # the reason in plain words (the police check's own sentence for the applicant), the clerk's
    # note, what to do next, the office and the date
    reason = text(re.search(r'<p id="notice-reason">(.*?)</p>', html, re.S).group(1))
    assert "您的户籍不在本地" in reason and "公安户籍比对不一致" not in reason
    assert "经办人员说明：非本地户籍，当场无法解决" in words
    steps = text(re.search(r'<ol id="notice-steps">(.*?)</ol>', html, re.S).group(1))
    assert "户籍所在地" in steps and "如有疑问" in steps
    assert "工商银行石狮支行制卡窗口（盖章）" in words and f'<p id="notice-date">{today}</p>' in html
    # a page of its own with the print stylesheet; nothing inline (CSP)
    assert 'href="/static/print.css"' in html and "<script" not in html and "style=" not in html
    assert "@media print" in app.test_client().get("/static/print.css").get_data(as_text=True)
    en = text(web.get(f"/cases/{case_id}/refusal-notice?lang=en").get_data(as_text=True))
    assert "Notice: no social security card is made" in en and "household is not registered here" in en


def test_the_refusal_notice_is_for_refused_cases_and_those_who_may_see_them(app, web):
    case_id = refused(app)
    running = accepted(app, "outlet_application", "shi_yating", "outlet")
    web.login("window")
    assert web.get(f"/cases/{running}/refusal-notice").status_code == 404
    assert web.get("/cases/9999/refusal-notice").status_code == 404
    web.post("/logout", page="/profile")
    web.login("outlet")  # no lane in the window's instant issuance
    assert web.get(f"/cases/{case_id}/refusal-notice").status_code == 403
    assert web.get(f"/cases/{case_id}/receipt").status_code == 403


# -- 6. the receipt; what a waiting case waits for --------------------------------------------------

def test_the_receipt_says_where_when_by_which_date_and_what_to_bring(app, web):
    case_id = accepted(app, "outlet_application", "shi_yating", "outlet", mobile="13905950068")
    number = number_of(app, case_id)
    with db(app) as s:
        due = calendar(s).add_working_days(local_today(), 15)
    web.login("outlet")
    page = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/receipt" id="receipt-link"' in page
    html = web.get(f"/cases/{case_id}/receipt").get_data(as_text=True)
    words = text(html)
    assert "社会保障卡申领受理回执" in words and f'<span id="receipt-number">{number}</span>' in html
    assert f'<td id="receipt-date">{local_today().isoformat()}</td>' in html
    assert '<td id="receipt-where">宝盖镇代办网点</td>' in html
    when = text(re.search(r'<td id="receipt-when">(.*?)</td>', html, re.S).group(1))
    assert "短信" in when and "139****0068" in when and "13905950068" not in html
    deadline = re.search(r'<td id="receipt-deadline" data-due="([\d-]+)">(.*?)</td>', html, re.S)
    assert deadline.group(1) == due.isoformat()
    assert text(deadline.group(2)) == f"自受理之日起 15个工作日 内通知您领卡，最迟 {due.isoformat()}"
    holder = text(re.search(r'<ul id="receipt-holder">(.*?)</ul>', html, re.S).group(1))
    proxy = text(re.search(r'<ul id="receipt-proxy">(.*?)</ul>', html, re.S).group(1))
    assert "本人居民身份证原件" in holder
    assert "持卡人（申请人）的居民身份证原件及户口簿" in proxy and "代领人本人的居民身份证原件及户口簿" in proxy
    en = text(web.get(f"/cases/{case_id}/receipt?lang=en").get_data(as_text=True))
    assert "Receipt for your social security card application" in en and due.isoformat() in en


def test_no_receipt_before_the_form_is_submitted_or_for_a_refused_case(app, web):
    draft = start(app, "outlet_application", "outlet")
    web.login("outlet")
    assert web.get(f"/cases/{draft}/receipt").status_code == 404
    assert 'id="receipt-link"' not in web.get(f"/cases/{draft}").get_data(as_text=True)
    no = refused(app)
    web.post("/logout", page="/profile")
    web.login("window")
    assert web.get(f"/cases/{no}/receipt").status_code == 404


def test_while_the_station_makes_the_card_the_page_says_so_and_reloads(app, web, station):
    case_id = accepted(app, "outlet_application", "shi_yating", "outlet")
    web.login("window")
    complete(app, open_task(app, case_id, "produce_card").id, {"card_inserted": True}, "window")
    web.login("outlet")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-status="waiting"' in html and REFRESH in html
    lines = waits(html)
    assert lines[0] == ("card_station", "制卡任务已下达，等待工商银行石狮支行制卡窗口的制卡工作站领取")
    timer = [t for kind, t in lines if kind == "timer"]
    with db(app) as s:
        due = calendar(s).add_working_days(local_today(), 15)
    assert len(timer) == 1 and timer[0].startswith("定时「超过15个工作日」将于 ") and due.isoformat() in timer[0]
    assert "每 3 秒自动刷新" in text(html)
    # the clerk may stop it (typing a reason while the page reloads is no fun)
    assert REFRESH not in web.get(f"/cases/{case_id}?refresh=off").get_data(as_text=True)

    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    station(f"/jobs/{job['id']}/progress", {"station": "ST-01", "state": "printing", "detail": ""})
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert waits(html)[0] == ("card_station", "制卡工作站 ST-01 正在制卡：打印卡面") and REFRESH in html
    en = web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True)
    assert waits(en)[0] == ("card_station", "Card station ST-01 is making the card: printing the card face")

    # the card is made: nothing to reload for; the case waits for the window to send it
    assert station(f"/jobs/{job['id']}/result", result_for(job, result_id="ok")).status_code == 200
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert REFRESH not in html and 'id="auto-refresh"' not in html
    kinds = [kind for kind, _ in waits(html)]
    assert "card_station" not in kinds and kinds == ["task", "timer"]
    assert waits(html)[0][1] == "等待 银行制卡窗口经办 岗位组领取并办理「制好的卡交回代办网点」"


def test_a_station_that_stopped_answering_is_said_and_not_reloaded_for(app, web):
    case_id = accepted(app, "instant_issuance", "lin_kun", "window")
    with db(app) as s:
        job = s.scalar(select(CardJob).where(CardJob.instance_id == case_id))
        job.created_at = utcnow() - timedelta(minutes=12)
        s.commit()
    web.login("window")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    kind, line = waits(html)[0]
    assert kind == "card_station" and "制卡工作站已 12 分钟没有回应" in line
    assert REFRESH not in html


def test_an_ended_case_waits_for_nothing(app, web):
    case_id = refused(app)
    web.login("window")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert waits(html) == [] and REFRESH not in html


# -- 7. a task on the case page: a link for those who may open it, else whose queue -------------

def test_the_outlet_clerk_reads_whose_queue_the_windows_task_is_in(app, web):
    case_id = accepted(app, "outlet_application", "shi_yating", "outlet")
    task = open_task(app, case_id, "produce_card")
    web.login("outlet")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    line = re.search(rf'<tr data-task="{task.id}">(.*?)</tr>', html, re.S).group(1)
    assert f'href="/tasks/{task.id}"' not in line
    assert "在 银行制卡窗口经办 岗位组待领取" in text(line)
    assert web.get(f"/tasks/{task.id}").status_code == 403  # what the link would have given
    en = web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True)
    assert "waiting in the Bank window clerk queue" in text(en)

    web.post("/logout", page="/profile")
    web.login("window")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/tasks/{task.id}"' in html
    assert web.post(f"/tasks/{task.id}/claim", {}, page=f"/tasks/{task.id}").status_code == 302

    web.post("/logout", page="/profile")
    web.login("outlet")
    html = web.get(f"/cases/{case_id}").get_data(as_text=True)
    line = re.search(rf'<tr data-task="{task.id}">(.*?)</tr>', html, re.S).group(1)
    assert "由 窗口经办 陈敏 办理中" in text(line) and f'href="/tasks/{task.id}"' not in line
    web.post("/logout", page="/profile")
    web.login("manager")  # managers may look at any task of their region's cases
    assert f'href="/tasks/{task.id}"' in web.get(f"/cases/{case_id}").get_data(as_text=True)


# -- 8a. cancelling takes a reason and a ticked confirmation ---------------------------------------

def test_cancel_sits_at_the_bottom_and_needs_the_confirmation(app, web):
    case_id = accepted(app, "outlet_application", "shi_yating", "outlet")
    web.login("outlet")
    page = f"/cases/{case_id}"
    html = web.get(page).get_data(as_text=True)
    assert html.index('id="cancel-form"') > html.index('id="case-tasks"')
    assert html.index('id="cancel-form"') > html.index('id="application"')
    assert '<input type="checkbox" name="confirm" value="yes" id="cancel-confirm" required>' in html

    r = web.post(f"{page}/cancel", {"reason": "申请人放弃"}, page=page, follow_redirects=True)
    assert "请勾选“确认撤销”后再提交" in text(r.get_data(as_text=True))
    r = web.post(f"{page}/cancel", {"reason": "申请人放弃", "confirm": "on"}, page=page, follow_redirects=True)
    assert "请勾选“确认撤销”后再提交" in text(r.get_data(as_text=True))
    with db(app) as s:
        assert s.get(ProcessInstance, case_id).status == "running"
    r = web.post(f"{page}/cancel", {"reason": "", "confirm": "yes"}, page=page, follow_redirects=True)
    assert "请填写撤销原因" in r.get_data(as_text=True)

    r = web.post(f"{page}/cancel", {"reason": "申请人放弃", "confirm": "yes"}, page=page, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "办件已撤销" in html and 'data-status="cancelled"' in html and 'id="cancel-form"' not in html
    assert '<p class="banner" id="case-outcome">已撤销：申请人放弃</p>' in html
    assert outcome_cell(web.get("/cases").get_data(as_text=True), case_id) == ("cancelled", "已撤销：申请人放弃")


# -- 8b. drafts nobody submitted are withdrawn by the scheduler ----------------------------------

def test_a_draft_never_submitted_is_discarded_after_the_hours(app, web):
    web.login("outlet")
    start_page = web.get("/start").get_data(as_text=True)
    assert "受理草稿自动作废" in text(start_page) and "8 小时" in text(start_page)
    r = web.post("/start", {"process": "outlet_application"}, page="/start")
    assert r.headers["Location"].startswith("/tasks/")  # the form opens at once, as before
    with db(app) as s:
        draft = s.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()))
    submitted = accepted(app, "outlet_application", "shi_yating", "outlet")
    factory = app.extensions["sscard"].session_factory

    assert drafts_round(factory) == 0  # young drafts stay
    later = utcnow() + timedelta(hours=9)
    with db(app) as s:
        assert stale_drafts(s, later) == [draft]
    assert drafts_round(factory, now=later) == 1
    with db(app) as s:
        inst = s.get(ProcessInstance, draft)
        assert inst.status == "cancelled" and inst.deadline_at is None
        assert s.scalar(select(HumanTask.state).where(HumanTask.instance_id == draft)) == "cancelled"
        event = s.scalar(select(AuditEvent).where(AuditEvent.instance_id == draft,
                                                  AuditEvent.action == "cancel"))
        assert event.actor == "drafts" and event.detail["reason"] == REASON
        assert s.get(ProcessInstance, submitted).status == "running"
        # the check is made again on the locked row: a submitted case is never discarded
        assert discard_draft(s, submitted, later) is False
        assert s.get(ProcessInstance, submitted, populate_existing=True).status == "running"
    assert drafts_round(factory, now=later) == 0

    html = web.get(f"/cases/{draft}").get_data(as_text=True)
    assert f'<p class="banner" id="case-outcome">已撤销：{REASON}</p>' in html
    assert outcome_cell(web.get("/cases").get_data(as_text=True), draft) == ("cancelled", f"已撤销：{REASON}")
    with db(app) as s:
        open_drafts = s.scalars(select(HumanTask).where(HumanTask.instance_id == draft,
                                                        HumanTask.state == "open")).all()
        assert open_drafts == []  # gone from the clerk's tasks


def test_draft_hours_come_from_the_environment(app, monkeypatch):
    case_id = start(app, "instant_issuance", "window")
    later = utcnow() + timedelta(hours=3)
    with db(app) as s:
        assert stale_drafts(s, later) == []
        monkeypatch.setenv("SSCARD_DRAFT_HOURS", "2")
        assert stale_drafts(s, later) == [case_id]
        monkeypatch.setenv("SSCARD_DRAFT_HOURS", "0")  # switched off
        assert stale_drafts(s, later + timedelta(days=30)) == []
