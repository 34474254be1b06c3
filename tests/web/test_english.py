"""English is complete (英文界面): the main pages walked in English as each role show no Chinese
outside the data (names, addresses, service points, SMS texts ...) and no full-width
punctuation; walked in Chinese they show no codes (process keys, BPMN ids, status codes,
``task_id=``). Task titles, procedure names and deadline titles come from the BPMN properties
``name.en`` / ``deadline.NAME.title.en`` (app/engine/properties.py)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from app.adapters.sms import SmsMessage
from app.auth.models import User
from app.cards import jobs
from app.cards.models import Card, ServicePoint
from app.engine import runtime
from app.engine.models import HumanTask
from app.engine.services import Actor
from app.procedures.application.models import Application
from tests.api import app, application_json, complete, db, open_task, start  # noqa: F401
from tests.fixtures_app import Browser

CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|task_id=")
CODES = ("outlet_application", "instant_issuance", "applicant_checks", "accept_application",
         "task_id=", "in_production", "handed_over", "picked_up", "sent_to_outlet")
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
HANDOVER = {"identity_checked": True, "card_checked": True, "receipt_signed": True,
            "pin_notice_given": True}


class _Text(HTMLParser):
    """The text a reader sees: text nodes (options and buttons included), not attributes,
    scripts or styles, and not what is marked ``lang="zh"`` (the Chinese an English-reading
    clerk reads out to the applicant)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "area", "base", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: hidden from the reader
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        hidden = tag in ("script", "style", "title") or dict(attrs).get("lang") == "zh"
        self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


def data_values(flask_app) -> list[str]:
    """What the pages show as data: people's and offices' names, addresses, SMS texts, the
    pasted notice, the language switch's "中文". Longest first, so parts go after wholes."""
    with db(flask_app) as s:
        values = [*s.scalars(select(User.display_name)),
                  *s.scalars(select(ServicePoint.name)), *s.scalars(select(ServicePoint.bank)),
                  *s.scalars(select(Card.bank)), *s.scalars(select(SmsMessage.text))]
        for a in s.scalars(select(Application)):
            values += [a.name, a.household_address, a.residence_address, a.service_point_name,
                       a.occupation, a.country]
    values += [line.strip() for line in NOTICE.splitlines()] + ["中文"]
    return sorted({v for v in values if v}, key=len, reverse=True)


def without_data(text: str, values: list[str]) -> str:
    for value in values:
        text = text.replace(value, " ")
    return text


def card_made(flask_app, case_id: int) -> None:
    """The card station makes the case's card (what app/api/station.py does)."""
    with db(flask_app) as s:
        job = jobs.claim_next_job(s, "ST-01")
        assert job is not None and job.instance_id == case_id
        wire = jobs.job_payload(s, job)
        s.commit()
        result = {"job_id": wire["id"], "attempt": wire["attempt"], "kind": wire["kind"],
                  "station": "ST-01", "result_id": f"res-{wire['id']}", "ok": True,
                  "card": {**wire["card"], "issue_date": wire["card"]["issue_date"].replace("-", "")},
                  "bank_card_number": wire.get("expected_bank_card_number"), "apdus": 57,
                  "resumed": False, "error": None, "finished_at": "2026-08-03T02:00:00+00:00"}
        job, _ = jobs.record_result(s, job.id, result)
        runtime.send_message(s, "card_job_finished",
                             {"ok": True, "job_id": job.id, "error": None,
                              "card_number": wire["card"]["card_number"],
                              "bank_card_number": result["bank_card_number"]},
                             instance_id=case_id, actor=Actor.system("station:ST-01"))


def step(flask_app, case_id: int, name: str, data: dict, username: str) -> None:
    complete(flask_app, open_task(flask_app, case_id, name).id, data, username)


@pytest.fixture
def cases(app):  # noqa: F811
    """Cases in the states the pages show: handed over, waiting for the station, rejected,
    correcting at the outlet, at each step of the outlet's production, waiting for pickup,
    just opened (its clock paused), cancelled."""
    ids = {}
    ids["handed_over"] = c = start(app, "instant_issuance", "window")
    step(app, c, "accept_application", application_json("lin_kun"), "window")
    card_made(app, c)
    step(app, c, "hand_over_card", HANDOVER, "window")

    ids["rejected"] = c = start(app, "instant_issuance", "window")
    step(app, c, "accept_application", application_json("liu_yang"), "window")
    step(app, c, "correct_data", {"decision": "unsolvable", "reason": "Household in Xiamen"}, "window")

    ids["pickup"] = c = start(app, "outlet_application", "outlet")
    step(app, c, "accept_application", application_json("chen_xiuying"), "outlet")
    step(app, c, "produce_card", {"card_inserted": True}, "window")
    card_made(app, c)
    step(app, c, "send_to_outlet", {"card_checked": True, "handover_sheet": "JJ-01"}, "window")
    step(app, c, "receive_at_outlet", {"received": True}, "outlet")
    assert open_task(app, c).task_name == "pickup"

    ids["correcting"] = c = start(app, "outlet_application", "outlet")
    step(app, c, "accept_application", application_json("liu_yang"), "outlet")
    assert open_task(app, c).task_name == "correct_data"

    ids["producing"] = c = start(app, "outlet_application", "outlet")
    step(app, c, "accept_application", application_json("wang_jianguo"), "outlet")
    ids["waiting"] = c = start(app, "instant_issuance", "window")
    step(app, c, "accept_application", application_json("huang_lihua"), "window")
    ids["opened"] = c = start(app, "outlet_application", "outlet")
    with db(app) as s:  # the history says so with the deadline's title
        runtime.suspend_deadline(s, c, "Waiting for the household register", Actor("manager", None))
    ids["cancelled"] = c = start(app, "outlet_application", "outlet")
    with db(app) as s:
        runtime.cancel_instance(s, c, Actor("outlet", None), reason="Applicant gave up")
    return ids


PAGES = {
    "window": ["/inbox?scope=mine", "/inbox?scope=group", "/start", "/cases", "/sms", "/profile"],
    "outlet": ["/inbox?scope=mine", "/inbox?scope=group", "/start", "/cases", "/sms", "/profile"],
    "manager": ["/inbox", "/cases", "/sla", "/calendar", "/sms", "/processes/drafts", "/profile"],
    "analyst": ["/inbox", "/cases", "/processes", "/processes/operations", "/processes/drafts"],
    "admin": ["/inbox", "/cases", "/start", "/sla", "/calendar", "/sms", "/processes"],
}
# the process analysts' pages name models by their BPMN ids and files on purpose; the
# service operations page shows the operations' own docstrings
TECHNICAL = ("/processes",)
# the case list's applicant cell is "name（masked ID）", formatted by the application family
# (app/procedures/application/search.py, being written alongside): its brackets are not
# the pages' words
SUBJECT = re.compile(r"（\d{6}\*{8}\d{3}[\dX]）")


def walk(flask_app, lang: str, case_ids: dict):
    """(user, path, html) of every page of PAGES, the cases and the open tasks each role
    may open, and the manager's calendar preview, in ``lang``."""
    with db(flask_app) as s:
        tasks = list(s.scalars(select(HumanTask.id).where(HumanTask.state == "open")))
    for username, pages in PAGES.items():
        web = Browser(flask_app.test_client())
        assert web.login(username).status_code == 302
        web.get(f"/lang/{lang}")
        opened = 0
        for path in [*pages, *(f"/cases/{i}" for i in case_ids.values()),
                     *(f"/tasks/{i}" for i in tasks)]:
            r = web.get(path)
            if r.status_code in (403, 404) and path.startswith(("/cases/", "/tasks/")):
                continue  # not this role's case or task
            assert r.status_code == 200, (username, path, r.status_code)
            opened += 1
            yield username, path, r.get_data(as_text=True)
        assert opened > len(pages) or username == "analyst", username
        if username == "manager":
            r = web.post("/calendar", {"action": "notice_preview", "notice": NOTICE}, page="/calendar")
            assert 'id="preview"' in r.get_data(as_text=True)
            yield username, "/calendar (preview)", r.get_data(as_text=True)


def test_english_pages_have_no_chinese_outside_the_data(app, web, cases):  # noqa: F811
    values = data_values(app)
    leftovers = {}
    for username, path, html in walk(app, "en", cases):
        assert '<html lang="en">' in html, (username, path)
        if path == "/processes/operations":
            continue
        for text in visible_texts(html):
            rest = SUBJECT.sub(" ", without_data(text, values))
            if CJK.search(rest):
                leftovers.setdefault(f"{username} {path}", []).append(text)
    assert leftovers == {}


def test_english_pages_show_english_titles_procedures_and_roles(app, web, cases):  # noqa: F811
    web.login("outlet")
    web.get("/lang/en")
    inbox = web.get("/inbox?scope=group").get_data(as_text=True)
    assert "The applicant (or a proxy) collects the card" in inbox
    assert "Card application at an outlet" in inbox
    task = open_task(app, cases["pickup"], "pickup")
    page = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '<h1 id="task-title">The applicant (or a proxy) collects the card</h1>' in page
    assert "Outlet clerk" in page  # the group's English label (app.auth.models.GROUPS)
    case = web.get(f"/cases/{cases['opened']}").get_data(as_text=True)
    assert "Time limit (acceptance to pickup notice)" in case
    assert "Clock paused (Time limit (acceptance to pickup notice)): Waiting for the household register" in case
    assert "Accept: fill in the application form" in case
    start_page = web.get("/start").get_data(as_text=True)
    assert 'id="start-outlet_application">Card application at an outlet</button>' in start_page
    done = web.get(f"/cases/{cases['pickup']}").get_data(as_text=True)
    assert "completed “Receive the card at the outlet”" in done  # the history
    with db(app) as s:
        row = s.get(HumanTask, task.id)
        assert (row.title, row.title_en) == ("申请人（或代领人）领卡", "The applicant (or a proxy) collects the card")
        assert row.title_in("en") == row.title_en and row.title_in("zh") == row.title


def test_english_text_has_no_full_width_colon(app, web, cases):  # noqa: F811
    values = data_values(app)
    found = set()
    for username, path, html in walk(app, "en", cases):
        for text in visible_texts(html):
            if "：" in without_data(text, values):
                found.add((path, text))
    assert found == set()


def test_chinese_pages_show_no_codes(app, web, cases):  # noqa: F811
    values = data_values(app)
    found = set()
    for username, path, html in walk(app, "zh", cases):
        assert '<html lang="zh-CN">' in html
        if path.startswith(TECHNICAL):
            continue
        for text in visible_texts(html):
            rest = without_data(text, values)
            for code in CODE.findall(rest) + [c for c in CODES if c in rest]:
                found.add((username, path, code))
    assert found == set()


def test_a_case_page_in_chinese_names_the_procedure_not_its_key(app, web, cases):  # noqa: F811
    web.login("window")
    html = web.get(f"/cases/{cases['handed_over']}").get_data(as_text=True)
    texts = " ".join(visible_texts(html))
    assert "立等可取（制发卡服务窗口）" in texts and "instant_issuance" not in texts
    inbox = " ".join(visible_texts(web.get("/inbox?scope=group").get_data(as_text=True)))
    assert "代办网点申领社保卡" in inbox and "outlet_application" not in inbox  # the filter too


def test_the_outlets_correction_task_speaks_of_contacting_the_applicant(app, web, cases):  # noqa: F811
    """At the outlet the applicant has left when the police check fails: no “当场”."""
    web.login("outlet")
    task = open_task(app, cases["correcting"], "correct_data")
    page = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    form = page.split('id="task-form"')[1].split("</form>")[0]
    assert "无法联系申请人或无法核实更正，终止制卡" in form and "当场" not in form


# -- the BPMN side: names in English (app/engine/properties.py, validation.py) ------------------

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
NAMED = ("userTask", "manualTask", "serviceTask", "scriptTask", "callActivity", "subProcess",
         "startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "process", "lane")


def test_every_shipped_element_has_an_english_name_and_deploy_warns_about_none():
    from lxml import etree

    from app.engine.validation import NS, parse_bpmn
    files = sorted(PROCESSES.rglob("*.bpmn"))
    assert len(files) == 11
    for path in files:
        parsed = parse_bpmn(path.read_bytes(), path.name)
        assert parsed.problems == [] and parsed.warnings == [], path.name
        doc = etree.parse(str(path))
        for tag in NAMED:
            for element in doc.iterfind(f".//bpmn:{tag}", NS):
                if not element.get("name"):
                    continue
                en = element.xpath("./bpmn:extensionElements/spiffworkflow:properties/"
                                   "spiffworkflow:property[@name='name.en']/@value", namespaces=NS)
                assert en and en[0].strip() and not CJK.search(en[0]), (path.name, element.get("id"))


def test_a_model_without_english_names_deploys_with_warnings():
    from app.engine.validation import parse_bpmn
    text = (PROCESSES / "application" / "outlet_application.bpmn").read_text(encoding="utf-8")
    text = re.sub(r'\s*<spiffworkflow:property name="(name\.en|deadline\.statutory\.title\.en)" value="[^"]*"/>',
                  "", text)
    parsed = parse_bpmn(text, "outlet_application.bpmn")
    assert parsed.problems == []
    missing = {(w.element_id, "deadline" in w.message) for w in parsed.warnings}
    assert ("outlet_application", True) in missing  # deadline.statutory.title.en
    assert {"outlet_application", "lane_outlet_clerk", "accept_application", "pickup",
            "overdue_review"} <= {element for element, _ in missing}
    assert all("name.en" in w.message or "title.en" in w.message for w in parsed.warnings)


def test_properties_give_names_titles_and_deadlines_in_both_languages():
    from types import SimpleNamespace

    from app.engine import properties as props
    spec = SimpleNamespace(bpmn_name="录入下一年法定节假日安排", bpmn_id="enter_year", name="enter_year",
                           extensions={"properties": {
                               "name.en": "Enter next year's official holidays",
                               "titleTemplate": "录入 {year} 年法定节假日安排",
                               "titleTemplate.en": "Enter the official holidays of {year}"}})
    task = SimpleNamespace(task_spec=spec, data={"year": 2027})
    assert props.task_title(task) == "录入 2027 年法定节假日安排"
    assert props.task_title(task, "en") == "Enter the official holidays of 2027"
    assert props.names(spec) == ("录入下一年法定节假日安排", "Enter next year's official holidays")
    bare = SimpleNamespace(bpmn_name="超期督办", bpmn_id="overdue_review", name="x", extensions={})
    assert props.title(bare, "en") == "超期督办"  # no English name: the Chinese one
    case = {"deadline.statutory": "15 working_days", "deadline.statutory.title": "办理时限",
            "deadline.statutory.title.en": "Time limit", "deadline.appeal": "6 months"}
    assert props.declared_deadlines(case) == {"statutory": ("15 working_days", "办理时限"),
                                              "appeal": ("6 months", "appeal")}
    assert props.deadline_titles(case) == {"statutory": ("办理时限", "Time limit"),
                                           "appeal": ("appeal", "appeal")}
    assert props.deadline_titles({"deadlineWorkingDays": "15"}) == {
        "statutory": ("法定办结时限", "Statutory time limit")}
    assert props.process_names("代办网点申领社保卡", "outlet_application",
                               {"name.en": "Card application at an outlet"}) == (
        "代办网点申领社保卡", "Card application at an outlet")
