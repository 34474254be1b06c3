"""Manager and analyst pages: the working-day calendar (and what a year missing from
chinesecalendar does to the case and inbox pages), the SMS outbox, process model upload."""
import html as htmllib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.adapters.sms import EmbeddedSmsGateway
from app.engine.models import HumanTask, ProcessInstance, ProcessModel
from app.sla.models import CalendarDay, CalendarYear
from tests.api import (PROCESSES, app, application_json, application_post, calendar,  # noqa: F401
                       complete, db, local_today, missing_year, open_task, start)


def flashes(html: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<div class="flash">([^<]*)</div>', html)]


def logout(web):
    web.post("/logout", {}, page="/profile")


# -- working-day calendar --------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["window", "outlet", "analyst", "reviewer"])
def test_calendar_page_is_for_managers_only(web, username):
    web.login(username)
    assert web.get("/calendar").status_code == 403
    r = web.client.post("/calendar", data={"action": "year", "year": "2030", "csrf_token": web.csrf("/profile")})
    assert r.status_code == 403
    assert 'href="/calendar"' not in web.get("/profile").get_data(as_text=True)


def test_calendar_page_requires_sign_in(client):
    r = client.get("/calendar")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_manager_enters_a_day_and_confirms_a_year(app, web):
    year = missing_year()
    holiday = next(date(year, 1, d) for d in range(2, 9) if date(year, 1, d).weekday() == 0)  # a Monday
    web.login("manager")
    page = web.get("/calendar").get_data(as_text=True)
    assert "chinesecalendar" in page and 'href="/calendar"' in page
    r = web.post("/calendar", {"action": "day", "day": holiday.isoformat(), "is_working": "0", "note": "元旦调休"})
    assert r.status_code == 302
    html = web.get("/calendar").get_data(as_text=True)
    assert any(m.startswith("工作日历已保存") for m in flashes(html))
    assert re.search(rf"<td>{holiday}</td><td>休息日</td><td>元旦调休</td>", html)
    r = web.post("/calendar", {"action": "year", "year": str(year)})
    assert r.status_code == 302
    html = web.get("/calendar").get_data(as_text=True)
    assert re.search(rf"<li>{year} · manager · ", html)
    with db(app) as s:
        assert s.get(CalendarDay, holiday).is_working is False
        entered = s.get(CalendarYear, year)
        assert entered.complete and entered.entered_by == "manager"
        # the year now counts: Monday-Friday, except the day entered
        friday = holiday - timedelta(days=3)
        assert calendar(s).add_working_days(friday, 1) == holiday + timedelta(days=1)


@pytest.mark.parametrize("form", [
    {"action": "day", "day": "2030-02-30", "is_working": "0"},
    {"action": "day", "day": "", "is_working": "0"},
    {"action": "year", "year": "1999"},
    {"action": "year", "year": "next year"},
    {"action": "day"},
])
def test_calendar_refuses_bad_input_with_a_message(app, web, form):
    web.login("manager")
    r = web.post("/calendar", form)
    assert r.status_code == 302
    html = web.get("/calendar").get_data(as_text=True)
    assert "日期或年份格式不正确（例如 2027-01-01）。" in flashes(html)
    with db(app) as s:
        assert s.scalar(select(func.count()).select_from(CalendarDay)) == 0
        assert s.get(CalendarYear, 1999) is None


def _sms(app, *phones):
    """Messages about an application accepted at the 宝盖镇 outlet (what its offices see)."""
    from app.procedures.application.models import Application
    from tests.web.test_offices import _outlet_case_at_production
    case = _outlet_case_at_production(app)
    with db(app) as s:
        application = s.scalar(select(Application).where(Application.instance_id == case))
        gateway = EmbeddedSmsGateway(s)
        for phone in phones:
            gateway.send(phone, "【石狮人社】您申领的社会保障卡已到宝盖镇代办网点，请携带身份证原件领取。",
                         application_id=application.id)
        s.commit()


@pytest.mark.parametrize("username", ["manager", "outlet", "window", "centre"])
def test_sms_outbox_lists_masked_numbers(app, web, username):
    _sms(app, "13805951234", "15960123456")
    web.login(username)
    r = web.get("/sms")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "138****1234" in html and "159****3456" in html
    assert "13805951234" not in html and "15960123456" not in html
    assert "请携带身份证原件领取" in html
    assert len(re.findall(r"<tr><td>", html)) == 2


def test_administrator_sees_the_sms_outbox(app, web):
    _sms(app, "13805951234")
    web.login("admin")
    assert "138****1234" in web.get("/sms").get_data(as_text=True)


@pytest.mark.parametrize("username", ["analyst", "reviewer"])
def test_sms_outbox_is_refused_to_other_roles(web, username):
    web.login(username)
    assert web.get("/sms").status_code == 403
    assert 'href="/sms"' not in web.get("/profile").get_data(as_text=True)


# -- process models ----------------------------------------------------------------------------------

INSTANT = (PROCESSES / "application" / "instant_issuance.bpmn").read_text(encoding="utf-8")


def upload(web, name: str, text: str | bytes):
    import io
    data = text.encode("utf-8") if isinstance(text, str) else text
    return web.post("/processes", {"bpmn": (io.BytesIO(data), name)}, page="/processes")


def versions(app, key="instant_issuance") -> list[int]:
    with db(app) as s:
        return list(s.scalars(select(ProcessModel.version).where(ProcessModel.key == key)
                              .order_by(ProcessModel.version)))


@pytest.mark.parametrize("username", ["window", "manager", "outlet"])
def test_process_upload_is_for_analysts_only(app, web, username):
    web.login(username)
    assert web.get("/processes").status_code == 403
    r = web.client.post("/processes", data={"csrf_token": web.csrf("/profile"),
                                            "bpmn": (__import__("io").BytesIO(b"x"), "x.bpmn")})
    assert r.status_code == 403
    assert versions(app) == [1]


def test_analyst_sees_the_deployed_models(web):
    web.login("analyst")
    html = web.get("/processes").get_data(as_text=True)
    assert "instant_issuance.bpmn" in html and "outlet_application.bpmn" in html
    assert 'href="/processes"' in html


def test_malformed_bpmn_is_refused_with_file_and_line(app, web):
    lines = INSTANT.splitlines()
    n = next(i for i, line in enumerate(lines) if '<bpmn:endEvent id="end_handed_over"' in line)
    lines[n] = lines[n].replace(">", "", 1).replace('name="已发卡"', 'name="已发卡" <oops')
    web.login("analyst")
    r = upload(web, "broken.bpmn", "\n".join(lines))
    assert r.status_code == 200
    html = htmllib.unescape(r.get_data(as_text=True))
    assert 'id="problems"' in html and "模型未部署" in html
    problems = re.findall(r"<li>(.*?)</li>", html.split('id="problems"')[1].split("</ul>")[0], re.S)
    assert problems and problems[0].startswith(f"broken.bpmn:{n + 1}")
    assert versions(app) == [1]


def test_invalid_model_is_refused_with_file_line_and_element(app, web):
    text = INSTANT.replace('<spiffworkflow:property name="formKey" value="application.handover"/>',
                           '<spiffworkflow:property name="formKey" value="no_such_form"/>')
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '<bpmn:userTask id="hand_over_card"' in l)
    web.login("analyst")
    r = upload(web, "instant_issuance.bpmn", text)
    html = htmllib.unescape(r.get_data(as_text=True))
    problems = re.findall(r"<li>(.*?)</li>", html.split('id="problems"')[1].split("</ul>")[0], re.S)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.startswith("instant_issuance.bpmn:") and "[hand_over_card]" in problem and "no_such_form" in problem
    assert problem.startswith(f"instant_issuance.bpmn:{line} ")  # the user task's line
    assert versions(app) == [1]


def test_upload_needs_a_bpmn_file(app, web):
    web.login("analyst")
    r = upload(web, "notes.txt", "hello")
    assert "请选择 .bpmn 文件。" in flashes(web.get("/processes").get_data(as_text=True)) or \
        "请选择 .bpmn 文件。" in flashes(r.get_data(as_text=True))
    r = upload(web, "latin1.bpmn", "<?xml version='1.0'?><x>é</x>".encode("latin-1"))
    assert r.status_code == 200
    assert "文件不是 UTF-8 编码的 XML。" in flashes(r.get_data(as_text=True))
    assert versions(app) == [1]


def test_changed_model_deploys_as_a_new_version_and_running_cases_stay_on_theirs(app, web):
    running = start(app, "instant_issuance", "window")
    with db(app) as s:
        v1 = s.get(ProcessInstance, running).model_id

    web.login("analyst")
    r = upload(web, "instant_issuance.bpmn", INSTANT)  # the same file: nothing new
    assert "instant_issuance 未修改，仍为第 1 版。" in flashes(r.get_data(as_text=True))
    assert versions(app) == [1]
    changed = INSTANT.replace('name="受理：填写申领表"', 'name="受理：填写申领表（新版）"', 1)
    assert changed != INSTANT
    r = upload(web, "instant_issuance.bpmn", changed)
    assert r.status_code == 200
    # four eyes (tests/web/test_model_review_pages.py): a draft until another person approves it
    assert any(m.startswith("instant_issuance 的新版本已提交复核（草稿 1）") for m in flashes(r.get_data(as_text=True)))
    assert versions(app) == [1]
    logout(web)
    web.login("manager")
    assert web.post("/processes/drafts/1/approve", {}, page="/processes/drafts/1").status_code == 302
    assert versions(app) == [1, 2]
    logout(web)
    web.login("analyst")
    models = re.search(r'<table id="models">(.*?)</table>', web.get("/processes").get_data(as_text=True), re.S).group(1)
    assert re.search(r"<td>instant_issuance</td><td>2</td><td>instant_issuance.bpmn</td>.*?<td>manager</td>",
                     models, re.S)
    logout(web)

    # the running case stays on version 1 and goes on there
    web.login("window")
    with db(app) as s:
        assert s.get(ProcessInstance, running).model_id == v1
    old_task = open_task(app, running)
    assert old_task.title == "受理：填写申领表"
    r = web.post(f"/tasks/{old_task.id}", application_post("lin_kun"), page=f"/tasks/{old_task.id}")
    assert r.status_code == 302
    with db(app) as s:
        inst = s.get(ProcessInstance, running)
        assert inst.model_id == v1 and inst.status == "waiting"

    # new cases start on version 2
    start_page = web.get("/start").get_data(as_text=True)  # the name and version, not the key
    assert 'id="start-instant_issuance">立等可取（制发卡服务窗口）</button> <span class="muted">第 2 版</span>' in start_page
    r = web.post("/start", {"process": "instant_issuance"}, page="/start")
    new_task_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with db(app) as s:
        new_task = s.get(HumanTask, new_task_id)
        new_case = s.get(ProcessInstance, new_task.instance_id)
        assert new_case.model_id != v1
        assert s.get(ProcessModel, new_case.model_id).version == 2
        assert new_task.title == "受理：填写申领表（新版）"
