"""The distribution pages 领卡与发放页面 (app/web/distribution.py): the employer page's section and
its button that starts a pickup case, the pickup with its dates and documents, the signed roster
grid (a page saved; a bad line refused with the person's name, nothing saved), the return of the
cards still with the employer (a card already with its holder refused with the words) and the
return slip, the card search and the card's history, the counts per employer and per batch;
labels and never codes; who may see what; bad ids."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import china_today
from app.engine.models import AuditEvent, HumanTask, ProcessInstance
from app.procedures.batch import voucher as vouchers
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production
from app.procedures.distribution import pickup as pickups
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    CustodyEvent,
    EmployerPickup,
    PickupCard,
)
from app.procedures.distribution.states import Custody, Outcome, ReturnReason
from tests.api import app  # noqa: F401  (the platform with processes/ deployed)
from tests.fixtures_app import Browser

OFFICE = "SS-CENTRE"
NAMES = ("张三丰", "李四海", "王五洲", "赵六合")
AGENT = {"name": "王经办", "id_number": "", "mobile": "13900000011"}
# codes that must never reach a page (labels only): states, outcomes, reasons, statuses
CODES = ("at_centre", "with_employer", "with_holder", "not_handed_out", "wrong_data", "not_collected",
         "retired_elsewhere", "agent_checked", "handed_over", "roster_back", "reissued", "invalidated",
         "employer_pickup", "Traceback")
OUTCOMES = tuple(Outcome)
REASONS = tuple(ReturnReason)


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


AGENT["id_number"] = citizen_id("35058119700202001")


def factory(app):
    return app.extensions["sscard"].session_factory


def browser(app, username) -> Browser:
    web = Browser(app.test_client())
    assert web.login(username).status_code == 302
    return web


def visible(html: str) -> str:
    """The page's text as a reader sees it (no tags, no attribute values)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def no_codes(html: str) -> None:
    found = [c for c in CODES if c in html]
    assert found == [], found


def build(app, names=NAMES, *, code="E9", name="石狮丙纺织有限公司", office=OFFICE) -> dict:
    """A batch with one employer told to collect its cards: every card accepted on delivery,
    the voucher naming 王经办 (``AGENT``)."""
    with factory(app)() as s, s.begin():
        batch = Batch(name="2026年第九批", cutoff=date(2026, 10, 31), regions=["350581"],
                      status="delivered", created_by="manager", office=office)
        s.add(batch)
        s.flush()
        employer = Employer(batch_id=batch.id, code=code, name=name, region="350581",
                            status=EmployerStatus.NOTIFIED, eligible=len(names))
        s.add(employer)
        s.flush()
        cards = []
        for seq, person_name in enumerate(names, 1):
            n = batch.id * 100 + seq
            ssn = citizen_id(f"35058119700303{n % 1000:03d}")
            card = Card(card_number=f"D{n:08d}", ssn=ssn, name=person_name, region_code="350581",
                        status=CardStatus.NOT_ACTIVATED)
            s.add(card)
            s.flush()
            s.add(Person(batch_id=batch.id, employer_id=employer.id, employer_code=code, id_number=ssn,
                         name=person_name, sex="1", region="350581", seq=seq, eligibility=Eligibility.ELIGIBLE,
                         entry=Entry.ACCEPTED, production=Production.ACCEPTED, card_id=card.id))
            cards.append((card.id, card.card_number))
        s.flush()
        vouchers.record_voucher(s, code, name, [AGENT], "centre")
        return {"batch": batch.id, "employer": employer.id, "cards": cards, "names": list(names)}


def handed_over(app, made: dict) -> int:
    """Through the services: the agent checked, the cards counted, the handover signed."""
    with factory(app)() as s, s.begin():
        row = pickups.check_agent(s, made["employer"], agent_name=AGENT["name"], agent_id=AGENT["id_number"],
                                  shown_id=AGENT["id_number"], seal_checked=True, actor_name="centre",
                                  office=OFFICE)
        pickups.count_cards(s, row.id, [n for _, n in made["cards"]], "centre")
        pickups.hand_over(s, row.id, "centre", today=china_today())
        return row.id


def form(data: dict) -> dict:
    """Form values as a browser sends them: text (files stay as they are)."""
    return {k: [str(x) for x in v] if isinstance(v, list) else v if isinstance(v, tuple) else str(v)
            for k, v in data.items()}


def roster_form(web, url) -> dict:
    """The roster page's form as a browser would send it untouched (hidden card ids, page)."""
    html = web.get(url).get_data(as_text=True)
    data = {"card": re.findall(r'name="card" value="(\d+)"', html),
            "page": re.search(r'name="page" value="(\d+)"', html).group(1)}
    return data


def state_of(app, card_id) -> str:
    with factory(app)() as s:
        return s.get(CardCustody, card_id).state


# -- the employer page -----------------------------------------------------------------------------

def test_the_employer_page_offers_the_pickup_and_starts_its_case(app):
    made = build(app)
    web = browser(app, "centre")
    page = web.get(f"/batches/employers/{made['employer']}").get_data(as_text=True)
    assert "领卡与发放" in page and 'id="start-pickup"' in page and "办理单位领卡" in page
    assert "在社保卡中心待领取 4 张" in page and "尚未领卡" in page
    no_codes(page)
    r = web.post(f"/distribution/employers/{made['employer']}/pickups", page=f"/batches/employers/{made['employer']}")
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"], r.headers.get("Location")
    task_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with factory(app)() as s:
        task = s.get(HumanTask, task_id)
        instance = s.get(ProcessInstance, task.instance_id)
        assert task.task_name == "check_agent" and task.state == "open" and task.assignee_name
        assert instance.process_key == "employer_pickup" and instance.office == OFFICE
        assert s.scalar(select(func.count()).select_from(CardCustody)
                        .where(CardCustody.employer_id == made["employer"], CardCustody.state == Custody.AT_CENTRE)) == 4
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "family")).all()
        assert event.detail["what"] == "start_pickup" and event.detail["family"] == "distribution"
    task_page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "核验领卡人" in task_page
    # the same employer again: the unfinished case is continued, not a second one started
    assert "继续办理单位领卡" in web.get(f"/batches/employers/{made['employer']}").get_data(as_text=True)
    r = web.post(f"/distribution/employers/{made['employer']}/pickups", page=f"/batches/employers/{made['employer']}")
    assert r.headers["Location"].endswith(f"/tasks/{task_id}")
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.process_key == "employer_pickup")) == 1
    # a reviewer reads the section, without the button
    page = browser(app, "reviewer").get(f"/batches/employers/{made['employer']}").get_data(as_text=True)
    assert "领卡与发放" in page and 'id="start-pickup"' not in page


def test_no_card_at_the_centre_no_pickup(app):
    made = build(app)
    with factory(app)() as s, s.begin():
        for p in s.scalars(select(Person).where(Person.employer_id == made["employer"])):
            p.production = Production.MADE
    web = browser(app, "centre")
    page = web.get(f"/batches/employers/{made['employer']}").get_data(as_text=True)
    assert 'id="start-pickup"' not in page and "没有在社保卡中心待领取的卡" in page
    r = web.post(f"/distribution/employers/{made['employer']}/pickups", page="/profile", follow_redirects=True)
    assert "没有在社保卡中心待领取的卡" in r.get_data(as_text=True)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.process_key == "employer_pickup")) == 0


# -- the pickup ------------------------------------------------------------------------------------

def test_the_pickup_page_shows_dates_documents_and_labels(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    web = browser(app, "centre")
    page = web.get(f"/distribution/pickups/{pickup_id}").get_data(as_text=True)
    text = visible(page)
    assert "已交接，单位发放中" in text and "王经办" in text and AGENT["id_number"] not in page
    assert AGENT["id_number"][:6] + "********" + AGENT["id_number"][-4:] in text
    assert "单位已领取，待发放" in text and "张三丰" in text
    assert made["cards"][0][1] not in page  # card numbers masked
    assert "社会保障卡交接单" in text and "发放花名册交回登记" in text and "退卡回收" in text
    assert "逾期" not in text
    no_codes(page)
    # the roster not back after the 3 working days: overdue
    with factory(app)() as s, s.begin():
        s.get(EmployerPickup, pickup_id).distribute_by = date(2026, 1, 5)
    assert "逾期" in visible(web.get(f"/distribution/pickups/{pickup_id}").get_data(as_text=True))
    # the handover sheet: HTML at once, audited
    r = web.get(f"/distribution/pickups/{pickup_id}/documents/handover.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    sheet = r.get_data(as_text=True)
    assert "第一联" in sheet and "第二联" in sheet
    assert r.headers["Cache-Control"] == "private, no-store"
    r = web.get(f"/distribution/pickups/{pickup_id}/documents/distribution_roster.xlsx")
    assert r.status_code == 200 and r.get_data()[:2] == b"PK"
    with factory(app)() as s:
        whats = [(e.detail["what"], e.detail.get("kind"), e.detail.get("format"))
                 for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))]
        assert ("document", "handover", "html") in whats and ("document", "distribution_roster", "xlsx") in whats
    r = web.get(f"/distribution/pickups/{pickup_id}/documents/handover.pdf")
    assert r.status_code == 200 and r.get_data().startswith(b"%PDF") and r.mimetype == "application/pdf"
    for url in (f"/distribution/pickups/{pickup_id}/documents/nothing.html",
                f"/distribution/pickups/{pickup_id}/documents/usage_notice.pdf",
                f"/distribution/pickups/{pickup_id}/documents/return_slip.html"):
        r = web.get(url)
        assert r.status_code == 404 and "单据" in r.get_data(as_text=True), url


# -- the signed roster -----------------------------------------------------------------------------

def test_the_roster_grid_saves_a_page_and_keeps_the_scan(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    web = browser(app, "centre")
    url = f"/distribution/pickups/{pickup_id}/roster"
    page = web.get(url).get_data(as_text=True)
    assert "本人已签字领取" in page and "未发出" in page and "信息错误" in page and "调离" in page
    no_codes(page)
    (c1, _), (c2, _), (c3, _), (c4, _) = made["cards"]
    data = roster_form(web, url)
    data.update({f"outcome-{c1}": OUTCOMES.index(Outcome.SIGNED) + 1,
                 f"outcome-{c2}": OUTCOMES.index(Outcome.NOT_HANDED_OUT) + 1,
                 f"reason-{c2}": REASONS.index(ReturnReason.MOVED) + 1, f"note-{c2}": "已调往泉州",
                 f"outcome-{c3}": OUTCOMES.index(Outcome.WRONG_DATA) + 1,
                 "scan": (io.BytesIO(b"%PDF-1.4\n%scan\n"), "花名册.pdf")})
    r = web.post(url, data=form(data), page=url, content_type="multipart/form-data")
    assert r.status_code == 302, visible(r.get_data(as_text=True))[:1500]
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "已登记 3 行，已存档扫描件" in page and "尚未登记 1" in page
    no_codes(page)
    assert state_of(app, c1) == Custody.WITH_HOLDER and state_of(app, c2) == Custody.WITH_EMPLOYER
    with factory(app)() as s:
        lines = {line.card_id: line for line in s.scalars(select(PickupCard).where(PickupCard.pickup_id == pickup_id))}
        assert (lines[c2].outcome, lines[c2].reason, lines[c2].note) == ("not_handed_out", "moved", "已调往泉州")
        assert lines[c3].outcome == "wrong_data" and lines[c4].outcome is None
        assert s.get(EmployerPickup, pickup_id).roster_scan_name == "花名册.pdf"
        assert any(e.detail["what"] == "roster" for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family")))
    scan = web.get(f"/distribution/pickups/{pickup_id}/roster-scan")
    assert scan.status_code == 200 and scan.mimetype == "application/pdf" and scan.get_data().startswith(b"%PDF")
    # the last line: the roster is back
    data = roster_form(web, url)
    data[f"outcome-{c4}"] = OUTCOMES.index(Outcome.SIGNED) + 1
    r = web.post(url, data=form(data), page=url, content_type="multipart/form-data", follow_redirects=True)
    assert "已登记 1 行" in r.get_data(as_text=True)
    with factory(app)() as s:
        assert s.get(EmployerPickup, pickup_id).status == "roster_back"


def test_a_bad_roster_line_is_refused_with_the_name_and_nothing_saved(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    web = browser(app, "centre")
    url = f"/distribution/pickups/{pickup_id}/roster"
    (c1, _), (c2, _), _, _ = made["cards"]
    data = roster_form(web, url)
    data.update({f"outcome-{c1}": OUTCOMES.index(Outcome.SIGNED) + 1,
                 f"outcome-{c2}": OUTCOMES.index(Outcome.NOT_HANDED_OUT) + 1})  # no reason
    with factory(app)() as s:
        before = s.scalar(select(func.count()).select_from(CustodyEvent))
    r = web.post(url, data=form(data), page=url, content_type="multipart/form-data")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="form-errors"' in page and "未保存" in page
    assert re.search(r'class="row-error">.*李四海.*须注明原因', page), visible(page)[:2000]
    no_codes(page)
    # what the clerk chose stays on the page
    assert re.search(rf'name="outcome-{c1}" value="1"\s+checked', page)
    assert state_of(app, c1) == Custody.WITH_EMPLOYER
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(CustodyEvent)) == before
        assert s.scalar(select(func.count()).select_from(PickupCard)
                        .where(PickupCard.pickup_id == pickup_id, PickupCard.outcome.is_not(None))) == 0
    # a file that is no scan
    data = roster_form(web, url)
    data["scan"] = (io.BytesIO(b"hello"), "roster.pdf")
    r = web.post(url, data=form(data), page=url, content_type="multipart/form-data")
    assert "PDF、JPEG或PNG" in r.get_data(as_text=True) or "PDF、JPEG 或 PNG" in r.get_data(as_text=True)
    # nothing changed
    r = web.post(url, data=roster_form(web, url), page=url, content_type="multipart/form-data", follow_redirects=True)
    assert "本页没有需要保存的更改" in r.get_data(as_text=True)


def test_the_roster_waits_for_the_handover(app):
    made = build(app)
    with factory(app)() as s, s.begin():
        row = pickups.check_agent(s, made["employer"], agent_name=AGENT["name"], agent_id=AGENT["id_number"],
                                  shown_id=AGENT["id_number"], seal_checked=True, actor_name="centre")
        pickup_id = row.id
    page = browser(app, "centre").get(f"/distribution/pickups/{pickup_id}/roster").get_data(as_text=True)
    assert "卡片尚未交接给单位" in page and 'id="roster-form"' not in page
    page = browser(app, "centre").get(f"/distribution/pickups/{pickup_id}").get_data(as_text=True)
    assert "经办人已核验，待清点" in page and "卡片当面清点后提供交接单等单据" in page
    no_codes(page)


# -- the return ------------------------------------------------------------------------------------

def _record_lines(app, pickup_id, lines):
    from app.procedures.distribution import roster
    with factory(app)() as s, s.begin():
        roster.record_roster(s, pickup_id, lines, "centre")


def test_the_return_takes_the_two_groups_and_shows_the_slip(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, _), (c2, n2), (c3, n3), _ = made["cards"]
    _record_lines(app, pickup_id, [{"card_id": c1, "outcome": "signed"},
                                   {"card_id": c2, "outcome": "not_handed_out", "reason": "died"},
                                   {"card_id": c3, "outcome": "wrong_data"}])
    web = browser(app, "centre")
    url = f"/distribution/pickups/{pickup_id}/return"
    page = web.get(url).get_data(as_text=True)
    text = visible(page)
    assert "未发出的卡" in text and "信息错误的卡" in text and "死亡" in text and "花名册未登记" in text
    assert "张三丰" not in text  # with its holder
    no_codes(page)
    groups = re.search(r'id="not-handed-out">(.*?)</table>', page, re.DOTALL).group(1)
    assert "李四海" in groups and "赵六合" in groups and "王五洲" not in groups
    assert "王五洲" in re.search(r'id="wrong-data">(.*?)</table>', page, re.DOTALL).group(1)
    r = web.post(url, data=form({"agent_name": "王经办", "card": [c2, c3],
                            f"reason-{c2}": REASONS.index(ReturnReason.DIED) + 1,
                            f"reason-{c3}": REASONS.index(ReturnReason.WRONG_DATA) + 1}), page=url)
    assert r.status_code == 302, visible(r.get_data(as_text=True))[:1500]
    assert "/distribution/returns/" in r.headers["Location"]
    slip = web.get(r.headers["Location"]).get_data(as_text=True)
    text = visible(slip)
    assert "退卡回收单" in text and "未发出 1 张，信息错误 1 张" in text and "死亡" in text
    assert "卡面信息与身份证不一致" in text and "更正期限" in text
    assert n2 not in slip and n3 not in slip
    no_codes(slip)
    assert state_of(app, c2) == Custody.RETURNED and state_of(app, c3) == Custody.RETURNED
    return_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = web.get(f"/distribution/returns/{return_id}/documents/return_slip.html")
    assert r.status_code == 200 and "退卡回收单" in r.get_data(as_text=True)
    with factory(app)() as s:
        whats = [e.detail["what"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))]
        assert "return" in whats and "document" in whats
    # the employer page lists the return; the pickup page links it
    page = web.get(f"/batches/employers/{made['employer']}").get_data(as_text=True)
    assert re.search(r'id="returns".*TK\d+-1', page, re.DOTALL)
    no_codes(page)


def test_the_return_refuses_a_card_already_with_its_holder_with_the_words(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, _), (c2, _), _, _ = made["cards"]
    _record_lines(app, pickup_id, [{"card_id": c1, "outcome": "signed"}])
    web = browser(app, "centre")
    url = f"/distribution/pickups/{pickup_id}/return"
    r = web.post(url, data=form({"agent_name": "王经办", "card": [c1, c2],
                            f"reason-{c1}": REASONS.index(ReturnReason.NOT_COLLECTED) + 1,
                            f"reason-{c2}": REASONS.index(ReturnReason.NOT_COLLECTED) + 1}), page=url)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="form-errors"' in page and "发放给本人" in page and "不能退回" in page and "张三丰" in page
    no_codes(page)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(CardReturn)) == 0
    assert state_of(app, c2) == Custody.WITH_EMPLOYER
    # "other" needs its note: said on the card's line
    r = web.post(url, data=form({"agent_name": "王经办", "card": [c2],
                                 f"reason-{c2}": REASONS.index(ReturnReason.OTHER) + 1}), page=url)
    page = r.get_data(as_text=True)
    assert re.search(rf'<tr data-card="{c2}" class="has-error">.*?class="row-error">.*?请注明具体原因', page, re.S)
    # no card ticked; no agent
    r = web.post(url, data=form({"agent_name": "王经办"}), page=url)
    assert "请勾选单位退回的卡" in r.get_data(as_text=True)
    r = web.post(url, data=form({"agent_name": "", "card": [c2], f"reason-{c2}": 4}), page=url)
    assert "请填写单位退卡人姓名" in r.get_data(as_text=True)


# -- the cards -------------------------------------------------------------------------------------

def test_find_a_card_and_its_history(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, n1), _, _, _ = made["cards"]
    _record_lines(app, pickup_id, [{"card_id": c1, "outcome": "signed"}])
    web = browser(app, "reviewer")
    r = web.get(f"/distribution/cards?q={n1.lower()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/distribution/cards/{c1}")
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    text = visible(page)
    assert "已发放到本人" in text and "张三丰" in text
    for words in ("到货验收合格", "在社保卡中心", "单位已领取，待发放", "已发放到本人", "中心经办 王强"):
        assert words in text, words
    assert re.search(r"JJ\d+-1", text)
    assert n1 not in page
    no_codes(page)
    with factory(app)() as s:
        ssn = s.get(Card, c1).ssn
    # by ID number, whole or its last digits; by name
    assert web.get(f"/distribution/cards?q={ssn}").headers["Location"].endswith(f"/cards/{c1}")
    assert web.get(f"/distribution/cards?q={ssn[-6:]}").headers["Location"].endswith(f"/cards/{c1}")
    r = web.get("/distribution/cards?q=张三丰")
    assert r.status_code == 302
    page = web.get("/distribution/cards?q=王").get_data(as_text=True)
    assert "至少输入 2 个字符" in page
    page = web.get("/distribution/cards?q=无此人").get_data(as_text=True)
    assert "没有找到" in page
    # another office's batch is not found
    with factory(app)() as s, s.begin():
        s.get(Batch, made["batch"]).office = "XM-CENTRE"
    page = web.get(f"/distribution/cards?q={ssn}").get_data(as_text=True)
    assert "没有找到" in page
    assert web.get(f"/distribution/cards/{c1}").status_code == 403


def test_counts_per_employer_and_per_batch(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, _), _, _, _ = made["cards"]
    _record_lines(app, pickup_id, [{"card_id": c1, "outcome": "signed"}])
    web = browser(app, "manager")
    page = web.get(f"/distribution/employers/{made['employer']}/cards").get_data(as_text=True)
    text = visible(page)
    assert "共 4 张" in text and "单位已领取，待发放 3 张" in text and "已发放到本人 1 张" in text
    no_codes(page)
    with_holder = list(Custody).index(Custody.WITH_HOLDER) + 1
    page = web.get(f"/distribution/employers/{made['employer']}/cards?state={with_holder}").get_data(as_text=True)
    rows = re.findall(r'<tr data-card="(\d+)"', page)
    assert rows == [str(c1)]
    page = web.get(f"/distribution/batches/{made['batch']}/cards").get_data(as_text=True)
    assert "共 4 张" in visible(page) and "石狮丙纺织有限公司" in page
    no_codes(page)
    assert web.get(f"/distribution/batches/{made['batch']}/cards?state=abc&page=x").status_code == 200


# -- who and bad ids -------------------------------------------------------------------------------

def test_a_window_clerk_gets_403_everywhere(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, _), _, _, _ = made["cards"]
    web = browser(app, "window")
    for url in (f"/distribution/pickups/{pickup_id}", f"/distribution/pickups/{pickup_id}/roster",
                f"/distribution/pickups/{pickup_id}/return", f"/distribution/pickups/{pickup_id}/documents/handover.html",
                f"/distribution/pickups/{pickup_id}/roster-scan", "/distribution/cards?q=张三丰",
                f"/distribution/cards/{c1}", f"/distribution/employers/{made['employer']}/cards",
                f"/distribution/batches/{made['batch']}/cards"):
        assert web.get(url).status_code == 403, url
    for url in (f"/distribution/employers/{made['employer']}/pickups", f"/distribution/pickups/{pickup_id}/roster",
                f"/distribution/pickups/{pickup_id}/return"):
        assert web.post(url, page="/profile").status_code == 403, url
    # readers do not work
    reviewer = browser(app, "reviewer")
    assert reviewer.post(f"/distribution/pickups/{pickup_id}/return", page="/profile").status_code == 403
    page = reviewer.get(f"/distribution/pickups/{pickup_id}/roster").get_data(as_text=True)
    assert 'id="roster-form"' not in page and "仅供查看" in page


def test_a_pickup_of_another_office_is_not_shown(app):
    made = build(app, office="XM-CENTRE")
    pickup_id = handed_over(app, made)
    web = browser(app, "centre")
    assert web.get(f"/distribution/pickups/{pickup_id}").status_code == 403
    assert web.get(f"/distribution/employers/{made['employer']}/cards").status_code == 403
    assert browser(app, "admin").get(f"/distribution/pickups/{pickup_id}").status_code == 200


@pytest.mark.parametrize("url, words", [
    ("/distribution/pickups/999999", "没有编号为 999999 的领卡交接单"),
    ("/distribution/pickups/999999/roster", "领卡交接单"),
    ("/distribution/pickups/999999/return", "领卡交接单"),
    ("/distribution/returns/999999", "没有编号为 999999 的退卡回收单"),
    ("/distribution/returns/999999/documents/return_slip.html", "退卡回收单"),
    ("/distribution/cards/999999", "批量制卡社会保障卡"),
    ("/distribution/employers/999999/cards", "单位申领"),
    ("/distribution/batches/999999/cards", "制卡批次"),
    ("/distribution/pickups/99999999999999999999", "页面不存在"),
])
def test_a_bad_id_is_a_404_page_with_words(app, url, words):
    r = browser(app, "centre").get(url)
    assert r.status_code == 404 and words in r.get_data(as_text=True)


def test_english_pages_have_no_chinese_outside_the_data(app):
    made = build(app)
    pickup_id = handed_over(app, made)
    (c1, _), (c2, _), (c3, _), _ = made["cards"]
    _record_lines(app, pickup_id, [{"card_id": c1, "outcome": "signed"},
                                   {"card_id": c2, "outcome": "not_handed_out", "reason": "died"},
                                   {"card_id": c3, "outcome": "wrong_data"}])
    web = browser(app, "centre")
    r = web.post(f"/distribution/pickups/{pickup_id}/return",
                 data=form({"agent_name": "王经办", "card": [c2, c3], f"reason-{c2}": 3, f"reason-{c3}": 6}),
                 page=f"/distribution/pickups/{pickup_id}/return")
    return_url = r.headers["Location"]
    web.get(return_url)  # the flash, said in Chinese when it was made
    web.get("/lang/en")
    data = (*NAMES, "石狮丙纺织有限公司", "2026年第九批", "王经办", "中心经办 王强", "中文")
    cjk = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
    for url in (f"/distribution/pickups/{pickup_id}", f"/distribution/pickups/{pickup_id}/roster",
                f"/distribution/pickups/{pickup_id}/return", return_url, f"/distribution/cards/{c2}",
                f"/distribution/employers/{made['employer']}/cards", f"/distribution/batches/{made['batch']}/cards",
                "/distribution/cards?q=00000", f"/batches/employers/{made['employer']}"):
        page = web.get(url).get_data(as_text=True)
        if url.startswith("/batches/"):
            page = re.search(r'<section class="card" id="distribution">.*?</section>', page, re.S).group(0)
        text = visible(page)
        for d in data:
            text = text.replace(d, "")
        assert cjk.findall(text) == [], (url, text[:3000])
        no_codes(page)
    page = web.get(f"/distribution/pickups/{pickup_id}").get_data(as_text=True)
    assert "Handed over, employer distributing" in page and "With its holder" in page


def test_the_pickup_offers_the_confirmation_form_copies_for_the_banks(app):
    pickup_id = handed_over(app, build(app))
    web = browser(app, "centre")
    html = web.get(f"/distribution/pickups/{pickup_id}").get_data(as_text=True)
    assert "确认表打印复件" in html and "/documents/confirmation.html" in html


def test_a_pdf_failure_says_so_and_the_handover_stays(app, monkeypatch):
    from app.procedures.distribution import documents
    pickup_id = handed_over(app, build(app))
    web = browser(app, "centre")

    def broken(*args, **kwargs):
        raise OSError("the PDF engine failed")
    monkeypatch.setattr(documents, "render_pdf", broken)
    r = web.get(f"/distribution/pickups/{pickup_id}/documents/handover.pdf")
    assert r.status_code == 503 and "请改用网页打印" in r.get_data(as_text=True)
    with factory(app)() as s:
        assert s.get(EmployerPickup, pickup_id).status == "handed_over"
    assert web.get(f"/distribution/pickups/{pickup_id}/documents/handover.html").status_code == 200
