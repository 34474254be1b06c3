"""The card service pages 卡片服务 (app/web/lifecycle.py): the search, the card page with its
history in words, the voice service line's temporary report, the formal report, lifting, the
PIN and chip jobs, the bank's debit function, the move; who may do what; bad ids and bad
input answered with words, never a code or a 500."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from app.cards.models import Card, CardJob
from app.cards.states import CardStatus
from app.engine.models import AuditEvent, ProcessInstance
from app.procedures.batch import city
from app.procedures.lifecycle.models import CardEvent, LossReport
from tests.api import app  # noqa: F401  (the platform with processes/ deployed)
from tests.fixtures_app import Browser

CODES = ("temp_lost", "not_activated", "cancelled_after_loss", "pin_changed", "formal_loss",
         "blocked_on_chip", "rewrite_region", "change_pin", "Traceback", "replace_via")


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def factory(app):
    return app.extensions["sscard"].session_factory


def browser(app, username) -> Browser:
    web = Browser(app.test_client())
    assert web.login(username).status_code == 302
    return web


def no_codes(html: str) -> None:
    for code in CODES:
        assert code not in html, code


@pytest.fixture
def card(app):
    with factory(app)() as s, s.begin():
        city.apply(s, city.load_file(city.CITIES_DIR / "ningbo.json"))
        c = Card(card_number="B7K334774", ssn=citizen_id("35058119800101001"), name="林秀英", sex="2",
                 birth_date=date(1980, 1, 1), region_code="330200", status=CardStatus.ACTIVE,
                 bank="中国工商银行", bank_card_number="6212261408000000012")
        s.add(c)
        s.flush()
        return c.id


def get_card(app, card_id) -> Card:
    with factory(app)() as s:
        return s.get(Card, card_id)


def test_the_search_finds_a_card_and_the_page_tells_its_story(app, card):
    web = browser(app, "centre")
    r = web.get("/lifecycle/cards?q=B7K334774")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/lifecycle/cards/{card}")
    html = web.get(f"/lifecycle/cards/{card}").get_data(as_text=True)
    assert "林秀英" in html and "正常" in html and "350581********1001"[:6] in html
    assert citizen_id("35058119800101001") not in html  # the ID number is masked
    no_codes(html)
    r = web.get("/lifecycle/cards?q=123")
    assert r.status_code == 200 and "没有找到" in r.get_data(as_text=True)


def test_the_hotline_reports_a_temporary_loss_after_the_identity_questions(app, card):
    web = browser(app, "centre")
    ssn = get_card(app, card).ssn
    wrong = {"id_number": ssn, "holder_name": "林秀英", "birth_date": "1981-01-01", "caller": "本人"}
    r = web.post("/lifecycle/hotline", wrong)
    assert r.status_code == 422 and "身份信息核对不符" in r.get_data(as_text=True)
    assert get_card(app, card).status == CardStatus.ACTIVE
    r = web.post("/lifecycle/hotline", {**wrong, "birth_date": "1980-01-01"})
    assert r.status_code == 302
    assert get_card(app, card).status == CardStatus.TEMP_LOST
    html = web.get(f"/lifecycle/cards/{card}").get_data(as_text=True)
    assert "临时挂失" in html and "医保个人账户已冻结" in html and "电话临时挂失" in html
    no_codes(html)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_key == "loss_report")) == 1
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "family")) >= 1


def test_the_hotline_form_refuses_bad_input_with_words(app):
    web = browser(app, "centre")
    r = web.post("/lifecycle/hotline", {"id_number": "123", "holder_name": "", "birth_date": "昨天",
                                        "mobile_last4": "12a"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "请更正以下错误" in html
    no_codes(html)


def test_a_formal_report_then_lifting_at_the_counter(app, card):
    web = browser(app, "centre")
    ssn = get_card(app, card).ssn
    r = web.post(f"/lifecycle/cards/{card}/loss", {"shown_id_number": citizen_id("35058119800101002"),
                                                   "id_seen": "y", "replace_via": "later"})
    assert r.status_code == 422 and "不是持卡人本人" in r.get_data(as_text=True)
    r = web.post(f"/lifecycle/cards/{card}/loss", {"shown_id_number": ssn, "id_seen": "y",
                                                   "replace_via": "instant"})
    assert r.status_code == 422 and "窗口或网点" in r.get_data(as_text=True)
    r = web.post(f"/lifecycle/cards/{card}/loss", {"shown_id_number": ssn, "id_seen": "y", "replace_via": "later"})
    assert r.status_code == 302 and get_card(app, card).status == CardStatus.LOST
    with factory(app)() as s:
        loss_id = s.scalars(select(LossReport.id)).one()
    receipt = web.get(f"/lifecycle/losses/{loss_id}/receipt").get_data(as_text=True)
    assert "挂失回执" in receipt and "本人持身份证正式挂失" in receipt
    r = web.post(f"/lifecycle/cards/{card}/lift", {"shown_id_number": ssn, "id_seen": "y"})
    assert r.status_code == 302 and get_card(app, card).status == CardStatus.ACTIVE
    with factory(app)() as s:
        kinds = list(s.scalars(select(CardEvent.kind).order_by(CardEvent.id)))
    assert kinds == ["formal_loss", "lifted"]


def test_pin_jobs_go_to_the_desks_station(app, card):
    web = browser(app, "centre")
    assert web.post(f"/lifecycle/cards/{card}/pin-change", page=f"/lifecycle/cards/{card}").status_code == 302
    r = web.post(f"/lifecycle/cards/{card}/pin-reset", {"shown_id_number": get_card(app, card).ssn, "id_seen": "y"})
    assert r.status_code == 302
    with factory(app)() as s:
        jobs = {j.kind: j.window for j in s.scalars(select(CardJob))}
    assert jobs == {"change_pin": "SS-CENTRE", "reset_pin": "SS-CENTRE"}
    html = web.get(f"/lifecycle/cards/{card}").get_data(as_text=True)
    assert "自助终端修改密码" in html and "等待工作站处理" in html
    no_codes(html)


def test_the_bank_window_activates_the_debit_function(app, card):
    ssn = get_card(app, card).ssn
    other_bank = browser(app, "window_abc")  # the card's account is at ICBC, not ABC
    r = other_bank.post(f"/lifecycle/cards/{card}/bank", {"shown_id_number": ssn, "id_seen": "y", "form_copy_seen": "y"})
    assert r.status_code == 422 and "该卡的金融账户在中国工商银行" in r.get_data(as_text=True)
    web = browser(app, "window")
    r = web.post(f"/lifecycle/cards/{card}/bank", {"shown_id_number": ssn, "id_seen": "y"})
    assert r.status_code == 422 and "确认表" in r.get_data(as_text=True)
    r = web.post(f"/lifecycle/cards/{card}/bank", {"shown_id_number": ssn, "id_seen": "y", "form_copy_seen": "y"})
    assert r.status_code == 302
    html = web.get(f"/lifecycle/cards/{card}").get_data(as_text=True)
    assert "金融借记功能已激活" in html


def test_the_move_starts_its_case_and_queues_the_rewrite(app, card):
    web = browser(app, "centre")
    ssn = get_card(app, card).ssn
    r = web.post(f"/lifecycle/cards/{card}/move", {"shown_id_number": ssn, "id_seen": "y", "to_region": "330200"})
    assert r.status_code == 422 and "无需迁移" in r.get_data(as_text=True)
    r = web.post(f"/lifecycle/cards/{card}/move", {"shown_id_number": ssn, "id_seen": "y", "to_region": "330282"})
    assert r.status_code == 302 and "/cases/" in r.headers["Location"]
    with factory(app)() as s:
        job = s.scalars(select(CardJob)).one()
    assert job.kind == "rewrite_region" and job.payload["region"]["region_code"] == "330282"


@pytest.mark.parametrize("who,path,method,status", [
    ("window", "/lifecycle/hotline", "get", 403),
    ("outlet", "/lifecycle/cards/{card}/loss", "get", 403),
    ("centre", "/lifecycle/cards/{card}/bank", "get", 403),
    ("window", "/lifecycle/cards/{card}/move", "get", 403),
    ("reviewer", "/lifecycle/cards/{card}", "get", 403),
    ("manager", "/lifecycle/cards/{card}", "get", 200),
])
def test_who_may_do_what(app, card, who, path, method, status):
    web = browser(app, who)
    assert web.get(path.format(card=card)).status_code == status


@pytest.mark.parametrize("path", ["/lifecycle/cards/abc", "/lifecycle/cards/99999999999999999999",
                                  "/lifecycle/cards/0/loss", "/lifecycle/losses/x/receipt"])
def test_bad_ids_are_a_page_in_words(app, path):
    r = browser(app, "centre").get(path)
    assert r.status_code == 404 and "Traceback" not in r.get_data(as_text=True)


def test_signed_out_is_sent_to_sign_in(app, card):
    r = app.test_client().get(f"/lifecycle/cards/{card}")
    assert r.status_code in (302, 401)


def test_a_window_opens_the_replacement_of_a_lost_card_from_its_page(app, card):
    with factory(app)() as s, s.begin():
        s.get(Card, card).status = CardStatus.LOST
    web = browser(app, "window")
    html = web.get(f"/lifecycle/cards/{card}").get_data(as_text=True)
    assert "办理补卡" in html and "办理换卡" not in html
    r = web.post(f"/lifecycle/cards/{card}/replace", {"purpose": "replacement"}, page=f"/lifecycle/cards/{card}")
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"]
    with factory(app)() as s:
        case = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "instant_issuance")).one()
        assert case.office == "ICBC-SS"
    # a card not lost cannot be replaced: the reason, nothing opened
    with factory(app)() as s, s.begin():
        other = Card(card_number="X00000019", ssn=citizen_id("35058119800101003"), name="陈志强", sex="1",
                     birth_date=date(1980, 1, 1), region_code="330200", status=CardStatus.ACTIVE)
        s.add(other)
        s.flush()
        other_id = other.id
    r = web.post(f"/lifecycle/cards/{other_id}/replace", {"purpose": "replacement"},
                 page=f"/lifecycle/cards/{other_id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/lifecycle/cards/{other_id}")
    assert "未正式挂失" in web.get(f"/lifecycle/cards/{other_id}").get_data(as_text=True)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_key == "instant_issuance")) == 1
