"""The pages of a replacement 补卡 or exchange 换卡 (application family): the application form
with its purpose, the way back to the form when the old card does not qualify (what the page
says), the form opened prefilled by ``start_replacement``, the case page (purpose, old card
masked, fee) and the fee receipt 工本费收据 printed from it."""
import html as htmllib
import re

from sqlalchemy import select

from app.cards.models import Card
from app.cards.states import CardStatus
from app.engine.services import Actor
from app.procedures.application.models import Application
from app.procedures.application.replacement import start_replacement
from tests.api import (  # noqa: F401
    app,
    application_json,
    application_post,
    complete,
    db,
    local_today,
    open_task,
    person,
    start,
)

LI_CARD = "B6C989166"  # 李明辉's card (demo)


def text(page: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", page))


def lose(flask_app, number: str) -> None:
    """正式挂失 (the lifecycle family's formal loss report)."""
    with db(flask_app) as s:
        s.scalars(select(Card).where(Card.card_number == number)).one().status = CardStatus.LOST
        s.commit()


def replacement_case(flask_app) -> int:
    lose(flask_app, LI_CARD)
    case_id = start(flask_app, "instant_issuance", "window")
    complete(flask_app, open_task(flask_app, case_id).id,
             application_json("li_minghui", purpose="replacement", first_card="no",
                              old_card_number=LI_CARD), "window")
    return case_id


def test_the_fee_receipt_shows_the_amount_in_yuan_and_the_receipt_number(app, web):
    case_id = replacement_case(app)
    with db(app) as s:
        application = s.scalars(select(Application).where(Application.instance_id == case_id)).one()
        number, receipt = application.number, application.fee_receipt_number
    assert receipt == f"GBF{local_today():%Y%m%d}0001"
    web.login("window")
    page = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/fee-receipt" id="fee-receipt-link"' in page
    panel = text(page)
    assert "申领类型：补卡" in panel and "工本费：20.00 元" in panel and receipt in panel
    assert "原社会保障卡：B6C****66（挂失后注销）" in panel and LI_CARD not in page
    english = text(web.get(f"/cases/{case_id}?lang=en").get_data(as_text=True))
    assert "Type of application: Replacement (card lost)" in english
    assert "Old card: B6C****66 (Cancelled after loss)" in english
    assert f"Card fee: 20.00 yuan · receipt {receipt}" in english and "Print the fee receipt" in english

    response = web.get(f"/cases/{case_id}/fee-receipt")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    words = text(html)
    assert "<title>社会保障卡工本费收据 · " + receipt in html
    assert words.count("社会保障卡工本费收据") >= 2  # two copies: the payer's and the counterfoil
    assert "第一联交款人收执" in words and "第二联收款单位存根" in words
    assert html.count(f'<span class="receipt-number">{receipt}</span>') == 2
    assert "¥20.00 元" in words and "人民币贰拾元整" in words
    assert "社会保障卡工本费（补卡）" in words and "李明辉" in words and number in words
    assert "收款单位：工商银行石狮支行制卡窗口" in words
    today = local_today()
    assert f"{today.year}年{today.month}月{today.day}日" in words
    assert 'href="/static/documents.css"' in html
    # personal numbers masked, and no codes: purpose, service point, status
    id_number = person("li_minghui")["id_number"]
    assert id_number not in html and f"{id_number[:6]}********{id_number[-4:]}" in words
    assert LI_CARD not in html and "B6C****66" in words
    for code in ("replacement", "ICBC-SS", "cancelled_after_loss", "lost", "window"):
        assert code not in words, code


def test_no_fee_receipt_for_a_first_card_or_for_another_office(app, web):
    first = start(app, "instant_issuance", "window")
    complete(app, open_task(app, first).id, application_json("lin_kun"), "window")
    web.login("window")
    assert web.get(f"/cases/{first}/fee-receipt").status_code == 404
    assert 'id="fee-receipt-link"' not in web.get(f"/cases/{first}").get_data(as_text=True)
    case_id = replacement_case(app)
    web.post("/logout", page="/profile")
    web.login("outlet")  # an outlet does not see the window's cases
    assert web.get(f"/cases/{case_id}/fee-receipt").status_code == 403


def test_the_form_asks_for_the_purpose_and_comes_back_with_the_reason(app, web):
    case_id = start(app, "instant_issuance", "window")
    task = open_task(app, case_id)
    web.login("window")
    page = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "申领类型" in text(page) and 'name="purpose"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="first"|<input[^>]*value="first"[^>]*checked', page)
    assert "申请人已交回原卡" in text(page)
    # 补卡 of a card that was never formally reported lost: back to the form, saying why
    response = web.post(f"/tasks/{task.id}", application_post(
        "li_minghui", purpose="replacement", first_card="no", old_card_number=LI_CARD),
        content_type="multipart/form-data")
    assert response.status_code == 302
    again = open_task(app, case_id)
    assert again.task_name == "accept_application" and response.headers["Location"].endswith(
        f"/tasks/{again.id}")
    page = web.get(f"/tasks/{again.id}").get_data(as_text=True)
    words = text(page)
    assert "申领未受理：该卡未正式挂失，不能补卡，请先办理正式挂失" in words  # the flash
    assert 'id="check-result" data-kind="old_card"' in page
    assert "原卡不符合补卡、换卡条件，申领未受理" in words and "B6C****66" in words
    assert LI_CARD not in words.replace(f'value="{LI_CARD}"', "")
    # the form kept what was typed (but the photo)
    assert f'value="{LI_CARD}"' in page and 'value="李明辉"' in page
    with db(app) as s:
        assert s.scalars(select(Application)).all() == []
    english = text(web.get(f"/tasks/{again.id}?lang=en").get_data(as_text=True))
    assert "The old card does not qualify" in english and "formally reported lost" in english


def test_a_prefilled_replacement_form_opens_with_the_old_card_and_the_person(app, web):
    lose(app, LI_CARD)
    with db(app) as s:
        card = s.scalars(select(Card).where(Card.card_number == LI_CARD)).one()
        case_id = start_replacement(s, process="outlet_application", service_point="BAOGAI",
                                    purpose="replacement", old_card_id=card.id,
                                    actor=Actor.system("lifecycle"))
    task = open_task(app, case_id)
    web.login("outlet")
    page = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="replacement"|<input[^>]*value="replacement"[^>]*checked', page)
    assert f'value="{LI_CARD}"' in page and 'value="李明辉"' in page
    assert f'value="{person("li_minghui")["id_number"]}"' in page
    assert 'value="1983-05-21"' in page
    # in the outlet's case list, where the old card number finds it
    listing = web.get("/cases", query_string={"q": LI_CARD}).get_data(as_text=True)
    assert f'href="/cases/{case_id}"' not in listing  # nothing recorded yet: no application row
    complete(app, task.id, application_json("li_minghui", purpose="replacement", first_card="no",
                                            old_card_number=LI_CARD), "outlet")
    listing = web.get("/cases", query_string={"q": LI_CARD}).get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in listing
    row = re.search(rf'<tr data-case="{case_id}">(.*?)</tr>', listing, re.S).group(1)
    assert "李明辉" in row and LI_CARD not in row
