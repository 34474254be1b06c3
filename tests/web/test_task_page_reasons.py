"""The task page says why the clerk is there and whose card it is (clerk-experience issue,
items 1-3): a failed check's result at the top of the task it leads to (the police check's
differing fields, what to ask, whether another check can pass, the sentence for the
applicant; the blank-card stock's refusal; the card the archive found), a flash that says the
check failed again instead of "任务已完成。", the application family's header (applicant,
masked ID, photo, card, route, statutory deadline) and the claim button / whose task it is."""
import html as htmllib
import json
import re

from sqlalchemy import select

from app.adapters.demo import BY_KEY
from app.cards.models import Card
from app.engine import runtime
from app.engine.models import HumanTask
from app.procedures.application.models import Application
from tests.api import (  # noqa: F401
    add_user,
    app,
    application_json,
    application_post,
    complete,
    db,
    open_task,
    start,
)

UNKNOWN_BLANK_CARD = "6212269999999999990"


def flashes(html: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<div class="flash">([^<]*)</div>', html)]


def text_of(html: str) -> str:
    """The page's text (tags removed, entities resolved, whitespace squeezed)."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, element_id: str) -> str:
    m = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>', html)
    assert m, f"no #{element_id}"
    tag, start = m.group(1), m.start()
    depth = 0
    for t in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start:]):
        depth += -1 if t.group(1) else 1
        if depth == 0:
            return html[start:start + t.end()]
    return html[start:]


def accept_at_window(app, web, person: str, **changes) -> tuple[str, int]:
    """Start instant issuance on the page, post the form; (where it went, case id)."""
    r = web.post("/start", {"process": "instant_issuance"}, page="/start")
    location = r.headers["Location"]
    r = web.post(location, application_post(person, **changes), page=location)
    assert r.status_code == 302, r.get_data(as_text=True)
    with db(app) as s:
        instance_id = s.get(HumanTask, int(location.rsplit("/", 1)[1])).instance_id
    return r.headers["Location"], instance_id


def correction_page(app, web, person: str) -> tuple[str, str, int]:
    location, instance_id = accept_at_window(app, web, person)
    assert re.fullmatch(r"/tasks/\d+", location), location
    html = web.get(location).get_data(as_text=True)
    assert "与申请人当场核实" in html
    return location, html, instance_id


def outlet_case_at_production(app, person: str = "chen_xiuying") -> int:
    instance_id = start(app, "outlet_application", "outlet")
    complete(app, open_task(app, instance_id).id, application_json(person), "outlet")
    assert open_task(app, instance_id).task_name == "produce_card"
    return instance_id


# -- 1. the police check's result at the top of the correction task ------------------------------

def test_correction_task_for_zhang_wei_shows_the_name_difference_and_what_to_do(app, web):
    web.login("window")
    _, html, instance_id = correction_page(app, web, "zhang_wei")
    note = section(html, "check-result")
    assert 'data-kind="police"' in note and 'data-code="name_differs"' in note
    assert "姓名与公安户籍登记不一致" in note
    row = re.search(r'<tr data-field="name">(.*?)</tr>', note, re.S).group(1)
    assert '<td class="register">张玮</td>' in row and '<td class="form">张伟</td>' in row
    assert "逐字核对姓名" in text_of(note)  # what to ask
    assert 'data-retry="yes"' in note and "更正后可再次比对" in note
    assert 'id="check-say"' not in note  # nothing to tell the applicant: it can be solved
    # the result sits above the form, which still offers both decisions
    assert html.index('id="check-result"') < html.index('id="task-form"')
    assert 'value="corrected"' in html and 'value="unsolvable"' in html
    # kept in the task data as a structure, without a full ID number
    task = open_task(app, instance_id)
    with db(app) as s:
        police = runtime.task_data(s, task.id)["police"]
    assert police["fields"] == [{"field": "name", "register": "张玮", "form": "张伟"}]
    assert police["retry"] is True and police["match"] is False
    assert BY_KEY["zhang_wei"]["id_number"] not in json.dumps(police, ensure_ascii=False)


def test_sex_difference_is_shown_in_words_and_may_still_be_corrected(app, web):
    web.login("window")
    _, html, _ = correction_page(app, web, "xu_xiaoyan")  # register: male; she writes female
    note = section(html, "check-result")
    row = re.search(r'<tr data-field="sex">(.*?)</tr>', note, re.S).group(1)
    assert '<td class="register">男</td>' in row and '<td class="form">女</td>' in row
    assert 'data-retry="yes"' in note and "户籍所在地派出所更正" in note


def test_not_local_household_offers_only_ending_with_the_sentence_for_the_applicant(app, web):
    web.login("window")
    location, html, instance_id = correction_page(app, web, "liu_yang")
    note = section(html, "check-result")
    assert 'data-code="not_local_household"' in note and "非本地户籍" in note
    assert 'data-retry="no"' in note and "再次比对无法通过，只能终止本次申领。" in note
    say = text_of(section(note, "check-say"))
    assert "请向申请人说明" in say and "您的户籍不在本地" in say and "户籍所在地" in say
    form = section(html, "task-form")
    # only ending is offered (chosen already), with the register's reason; no fields to correct
    assert 'value="unsolvable"' in form and 'value="corrected"' not in form
    assert re.search(r'value="unsolvable"[^>]*checked|checked[^>]*value="unsolvable"', form)
    assert 'name="name"' not in form and 'name="birth_date"' not in form
    assert "非本地户籍，本地户籍库无法比对" in re.search(r'<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>',
                                                   form, re.S).group(1)
    # the clerk submits what is offered: the application ends with the reason
    r = web.post(location, {"decision": "unsolvable", "reason": "非本地户籍，本地户籍库无法比对"},
                 page=location)
    assert r.status_code == 302
    with db(app) as s:
        application = s.scalar(select(Application).where(Application.instance_id == instance_id))
        assert application.status == "rejected" and "非本地户籍" in application.reason_zh


def test_not_in_register_says_so_with_the_masked_number(app, web):
    web.login("window")
    _, html, _ = correction_page(app, web, "qiu_zhiqiang")
    note = section(html, "check-result")
    number = BY_KEY["qiu_zhiqiang"]["id_number"]
    assert 'data-code="unknown_person"' in note and "公安户籍库中无此公民身份号码" in note
    assert f"{number[:6]}********{number[-4:]}" in note and number not in html
    assert 'data-retry="no"' in note and "公安户籍库中查不到您的身份证号码" in note
    assert "本任务不能更正证件号码" in text_of(note)
    assert 'value="corrected"' not in section(html, "task-form")


def test_unchanged_resubmission_says_the_check_failed_again_and_why(app, web):
    web.login("window")
    location, html, instance_id = correction_page(app, web, "zhang_wei")
    first = open_task(app, instance_id)
    r = web.post(location, {"decision": "corrected", "name": "张伟", "sex": "1",
                            "birth_date": "1992-07-15", "checked_document": "resident_id"},
                 page=location)
    assert r.status_code == 302
    again = open_task(app, instance_id)
    assert again.task_name == "correct_data" and again.id != first.id
    assert r.headers["Location"] == f"/tasks/{again.id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    messages = flashes(html)
    assert "任务已完成。" not in messages
    [message] = [m for m in messages if "仍未通过" in m]
    assert message.startswith("已重新比对，仍未通过：") and "姓名与公安户籍登记不一致" in message
    assert "张玮" in message and "张伟" in message
    assert "第 2 次比对" in section(html, "check-result")


# -- the blank card and the old card --------------------------------------------------------------

def test_unknown_blank_card_number_shows_the_stock_message(app, web):
    instance_id = outlet_case_at_production(app)
    task = open_task(app, instance_id)
    web.login("window")
    location = f"/tasks/{task.id}"
    assert 'id="check-result"' not in web.get(location).get_data(as_text=True)
    r = web.post(location, {"bank_card_number": UNKNOWN_BLANK_CARD, "card_inserted": "y"},
                 page=location)
    assert r.status_code == 302
    again = open_task(app, instance_id)
    assert again.task_name == "produce_card" and r.headers["Location"] == f"/tasks/{again.id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "半成品卡未能领用：库存中没有该银行卡号的半成品卡" in flashes(html)
    assert "任务已完成。" not in flashes(html)
    note = section(html, "check-result")
    assert 'data-kind="stock"' in note and 'data-code="blank_card_unknown"' in note
    assert "库存中没有该银行卡号的半成品卡" in note and "留空" in note
    assert "621226*********9990" in note and UNKNOWN_BLANK_CARD not in note


def test_confirm_old_card_stop_names_the_card_found_masked(app, web):
    web.login("window")
    location, instance_id = accept_at_window(app, web, "zheng_shuzhen")  # holds 188347080 (2017)
    assert open_task(app, instance_id).task_name == "confirm_old_card_stop"
    html = web.get(location).get_data(as_text=True)
    note = section(html, "check-result")
    assert 'data-kind="archive"' in note
    assert "188****80" in note and "188347080" not in html
    assert "泉州市" in note and "2017" in note and "中国农业银行石狮支行" in note
    assert "申领表未填写" in note and "一人只能持有一张社保卡" in note


# -- 2. the header: whose card it is -------------------------------------------------------------

def test_header_shows_name_masked_id_photo_card_route_and_deadline(app, web):
    instance_id = outlet_case_at_production(app)
    task = open_task(app, instance_id)
    with db(app) as s:
        card = s.scalar(select(Card).where(Card.name == "陈秀英"))
        masked_card = card.card_number_masked
        full_card = card.card_number
    number = BY_KEY["chen_xiuying"]["id_number"]
    web.login("window")
    html = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    header = section(html, "task-header")
    assert '<strong id="header-name">陈秀英</strong>' in header
    assert f'<span id="header-id-number">{number[:6]}********{number[-4:]}</span>' in header
    assert number not in html and full_card not in html
    assert f'src="/cases/{instance_id}/photo"' in header
    assert masked_card in section(header, "header-card") and "中国工商银行石狮支行" in header
    route = text_of(section(header, "header-route"))
    assert "宝盖镇代办网点" in route and "工商银行石狮支行制卡窗口" in route
    deadline = section(header, "header-deadline")
    assert "办理时限（受理至通知领卡）" in deadline
    assert re.search(r'data-deadline="statutory">剩余 \d+ 个工作日</span>', deadline)
    # shown once: the page's own line leaves the header's deadline out
    assert html.count('data-deadline="statutory"') == 1


def test_no_header_before_there_is_an_application(app, web):
    web.login("window")
    r = web.post("/start", {"process": "instant_issuance"}, page="/start")
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="task-form"' in html and 'id="task-header"' not in html


# -- English -------------------------------------------------------------------------------------

def test_english_correction_task_and_header(app, web):
    web.login("window")
    location, _, _ = correction_page(app, web, "zhang_wei")
    web.get("/lang/en")
    html = web.get(location).get_data(as_text=True)
    note = section(html, "check-result")
    assert "The police check failed (check 1)" in note
    assert "The name differs from the police household register" in note
    assert "Police register" in note and "张玮" in note
    assert "compare the name character by character" in text_of(note)
    assert "A correction can pass the next check" in note
    header = section(html, "task-header")
    assert "ID number" in header and "Deadline: while the applicant waits" in header


def test_english_not_local_household_says_another_check_cannot_pass(app, web):
    web.login("window")
    location, _, _ = correction_page(app, web, "liu_yang")
    web.get("/lang/en")
    html = web.get(location).get_data(as_text=True)
    note = section(html, "check-result")
    assert "Another check cannot pass: the application can only be ended." in note
    say = text_of(section(note, "check-say"))
    assert "Tell the applicant:" in say and "Your household is not registered here" in say
    assert "您的户籍不在本地" in say  # the sentence to read out, in Chinese too
    assert "Not a local household" in re.search(r'<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>',
                                                html, re.S).group(1)


def test_english_again_message_for_the_blank_card(app, web):
    instance_id = outlet_case_at_production(app)
    task = open_task(app, instance_id)
    web.login("window")
    web.get("/lang/en")
    location = f"/tasks/{task.id}"
    r = web.post(location, {"bank_card_number": UNKNOWN_BLANK_CARD, "card_inserted": "y"},
                 page=location)
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert ("The blank card could not be taken: No blank card with this bank card number in stock"
            in flashes(html))


# -- 3. claim button, whose task it is ---------------------------------------------------------

def test_unclaimed_task_has_a_claim_button_back_to_the_task(app, web):
    task = open_task(app, start(app, "instant_issuance", "window"))
    web.login("window")
    html = web.get(f"/tasks/{task.id}").get_data(as_text=True)
    claim = section(html, "claim-form")
    assert f'action="/tasks/{task.id}/claim"' in claim and 'name="csrf_token"' in claim
    assert f'name="next" value="/tasks/{task.id}"' in claim
    r = web.post(f"/tasks/{task.id}/claim", {"next": f"/tasks/{task.id}"}, page=f"/tasks/{task.id}")
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{task.id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "已领取任务。" in flashes(html) and 'id="claim-form"' not in html
    assert open_task(app, task.instance_id).assignee_name == "窗口经办 陈敏"


def test_task_claimed_by_a_colleague_says_whose_it_is(app, web):
    add_user(app, "window2", ["window_clerk"])
    task = open_task(app, start(app, "instant_issuance", "window"))
    web.login("window2")
    web.post(f"/tasks/{task.id}/claim", {}, page="/inbox")
    web.post("/logout", {}, page="/inbox")
    web.login("window")
    r = web.get(f"/tasks/{task.id}")
    assert r.status_code == 403
    html = r.get_data(as_text=True)
    assert "该任务已由 window2 领取。" in section(html, "task-owner")
    assert 'id="task-form"' not in html and 'id="claim-form"' not in html
    web.get("/lang/en")
    assert "This task was claimed by window2." in web.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_manager_looking_at_a_claimed_task_reads_whose_it_is(app, web):
    add_user(app, "window2", ["window_clerk"])
    task = open_task(app, start(app, "instant_issuance", "window"))
    web.login("window2")
    web.post(f"/tasks/{task.id}/claim", {}, page="/inbox")
    web.post("/logout", {}, page="/inbox")
    web.login("manager")
    r = web.get(f"/tasks/{task.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "该任务已由 window2 领取。" in section(html, "task-owner")
    assert 'id="task-form"' not in html and 'id="claim-form"' not in html


def test_user_of_another_group_gets_a_reason_but_no_case_data(app, web):
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("outlet")
    r = web.get(f"/tasks/{task.id}")
    assert r.status_code == 403
    html = r.get_data(as_text=True)
    assert "该任务不属于您所在的岗位组或机构" in section(html, "task-owner")
    assert 'id="case-link"' not in html and 'id="task-header"' not in html
