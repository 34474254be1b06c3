"""The card service pages 卡片服务 as the clerks walk them, in headless Chromium against the whole
platform (python -m app.run with demo data; README "Card lifecycle"):

1. ``centre`` (the voice service line): 卡片服务 from the navigation, 电话临时挂失, the identity
   questions for a demo holder whose card is with the holder — first a wrong date of birth
   (身份信息核对不符, nothing changes), then the right answers: the card page says 临时挂失 and
   医保个人账户已冻结;
2. the same clerk: the inbox's task 挂失确认：<name>, 解除挂失 with the holder's ID card: the card
   is 正常 or 未启用 again, the account unfrozen, the history lists 电话临时挂失 and 解除挂失;
3. the same clerk: 正式挂失 at the counter on another demo card (暂不补卡; a stranger's ID card
   is refused first): the card says 挂失, its 挂失回执 opens (and prints to PDF);
4. ``manager``: 统一启用, the demo's closed round 2025年第一批（已发放完毕） activated, its figures
   in words and numbers as the platform recorded them, and its announcement 启用公告;
5. ``window`` (the ICBC window): an ICBC card in use, 激活金融功能 — without the confirmation-
   form copy ticked the browser holds the form back (the box is required), with it the card
   page says 已激活.

The holders, their ID numbers, birth dates and mobiles are read from the platform's SQLite
database (read-only: no page shows them whole). Every Chinese page seen shows no raw code and
no response of the platform is a server error (5xx)."""
from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import started_platform
from tests.browser.pages import Seen, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.hardware, pytest.mark.timeout(600)]

ROUND_NAME = "2025年第一批（已发放完毕）"  # app/procedures/lifecycle/demo.py
CODES = ("temp_lost", "not_activated", "formal_loss", "pin_changed", "temp_loss", "bank_activated",
         "lifted", "temporary", "formal", "replaced", "active", "lost", "cancelled", "with_holder",
         "at_centre", "loss_report", "confirm_loss", "identity_mismatch", "not_holder", "form_copy",
         "running", "done", "failed", "closed", "later", "instant", "task_id=", "Traceback", "None")
WAIT = 60  # seconds for the background worker (jobs, the activation round)
STATUS_WORDS = {"not_activated": "未启用", "active": "正常"}


@pytest.fixture(scope="module")
def platform(pcscd, tmp_path_factory):
    folder = tmp_path_factory.mktemp("card_services")
    with started_platform(folder) as base:
        yield SimpleNamespace(base=base, db=folder / "instance" / "sscard.db")


# -- the database, read-only -------------------------------------------------------------------

def query(platform, sql: str, *args) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(f"file:{platform.db}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def holder_card(platform, *, bank: bool = False) -> SimpleNamespace:
    """A demo card with its holder and in use (未启用 or 正常): no loss report ever, the holder's
    only card, a name no other card has (the inbox's task says the name), a medical account
    not frozen, and not in an activation round still running. ``bank``: with an ICBC account
    whose debit function is not activated yet."""
    rows = query(platform, f"""
        SELECT c.id, c.card_number, c.name, c.ssn, c.birth_date, c.status, c.application_id
        FROM card c JOIN card_custody cu ON cu.card_id = c.id
        WHERE cu.state = 'with_holder' AND c.status IN ('not_activated', 'active')
          AND c.birth_date IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM lifecycle_loss l WHERE l.card_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM lifecycle_region_move m WHERE m.card_id = c.id)
          AND (SELECT count(*) FROM card o WHERE o.ssn = c.ssn) = 1
          AND (SELECT count(*) FROM card o WHERE o.name = c.name) = 1
          AND EXISTS (SELECT 1 FROM medical_account a WHERE a.ssn = c.ssn AND NOT a.frozen)
          AND NOT EXISTS (SELECT 1 FROM lifecycle_activation_round r
                          WHERE r.batch_id = cu.batch_id AND r.state <> 'done')
          {"AND c.bank LIKE '%工商银行%' AND c.bank_card_number IS NOT NULL AND NOT EXISTS ("
           "SELECT 1 FROM bank_debit_activation b WHERE b.bank_card_number = c.bank_card_number)"
           if bank else ""}
        ORDER BY c.id""")
    assert rows, "the demo has no such card"
    card_id, number, name, ssn, born, status, application_id = rows[0]
    return SimpleNamespace(id=card_id, number=number, name=name, ssn=ssn, birth_date=date.fromisoformat(born),
                           status=status, mobile=holder_mobile(platform, card_id, ssn, application_id))


def holder_mobile(platform, card_id: int, ssn: str, application_id: int | None) -> str | None:
    """The mobile the voice line asks about (app.procedures.lifecycle.cards.holder_mobile)."""
    for sql, args in (("SELECT mobile FROM card_application WHERE id = ?", (application_id,)),
                      ("SELECT mobile FROM batch_person WHERE card_id = ? ORDER BY id DESC", (card_id,)),
                      ("SELECT mobile FROM card_application WHERE id_number = ? ORDER BY id DESC", (ssn,))):
        rows = query(platform, sql, *args) if args[0] is not None else []
        if rows and rows[0][0]:
            return rows[0][0]
    return None


def loss_rows(platform, card_id: int) -> list[tuple]:
    return query(platform, "SELECT id, kind, state FROM lifecycle_loss WHERE card_id = ? ORDER BY id", card_id)


# -- the browser -------------------------------------------------------------------------------

class Walk:
    """One clerk's page, the pages seen (scanned for codes) and the server errors met."""

    def __init__(self, page: Page, base: str, seen: Seen):
        self.page, self.base, self.seen = page, base, seen
        self.errors: list[tuple[int, str]] = []
        page.on("response", lambda r: self.errors.append((r.status, r.url)) if r.status >= 500 else None)

    def read(self) -> str:
        body = self.seen.read(self.page)
        assert "Traceback" not in body and "Internal Server Error" not in body, body[:2000]
        return body

    def goto(self, path: str) -> str:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 500, (path, response and response.status)
        return self.read()

    def check(self) -> None:
        assert self.errors == [], self.errors
        self.seen.assert_no_codes()


def new_walk(browser: Browser, base: str, username: str, seen: Seen) -> Walk:
    page = browser.new_context(locale="zh-CN").new_page()
    walk = Walk(page, base, seen)
    sign_in(page, base, username)
    walk.read()
    return walk


def reload_until(walk: Walk, locator_of, wanted: str, timeout: float = WAIT) -> None:
    """Reload the page until ``locator_of(page)`` has the text ``wanted`` (a background job may
    still be working); expect's own wait covers each load."""
    deadline = time.monotonic() + timeout
    while True:
        walk.read()
        try:
            expect(locator_of(walk.page)).to_have_text(wanted, timeout=2_000)
            walk.read()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        walk.page.reload()


def find_card(walk: Walk, card) -> None:
    """卡片服务 from the navigation, the holder's ID number typed: the card's page."""
    page = walk.page
    page.click("#nav-cards")
    expect(page.locator("#card-search")).to_be_visible()
    walk.read()
    page.fill("#q", card.ssn)
    page.locator("#card-search button[type=submit]").click()
    page.wait_for_url(f"**/lifecycle/cards/{card.id}")
    expect(page.locator("#card-facts")).to_be_visible()
    walk.read()


def open_task(walk: Walk, title: str, timeout: float = WAIT) -> None:
    """待办任务 from the navigation: the task titled ``title`` (mine, else the group's, claimed),
    looking again until ``timeout`` while the case may still be opening it."""
    page = walk.page
    deadline = time.monotonic() + timeout
    while True:
        page.click("#nav-inbox")
        expect(page.locator("#tasks")).to_be_visible()
        for tab in ("#tab-mine", "#tab-group"):
            page.click(tab)
            expect(page.locator("#tasks")).to_be_visible()
            for _ in range(40):
                walk.read()
                link = page.locator("#tasks tr.task-row td:first-child a", has_text=title)
                if link.count():
                    link.first.click()
                    expect(page.locator("#task-title")).to_have_text(title)
                    walk.read()
                    if page.locator("#claim").count():
                        page.click("#claim")
                    expect(page.locator("#task-form")).to_be_visible()
                    walk.read()
                    return
                if not page.locator("#next-page").count():
                    break
                page.click("#next-page")
        if time.monotonic() > deadline:
            pytest.fail(f"no task {title!r} in the inbox after {timeout} s")
        page.wait_for_timeout(500)


def submit(walk: Walk, button: str = "#action-form button[type=submit]") -> str:
    """Click a form's button and read the page the platform answers with."""
    with walk.page.expect_navigation():
        walk.page.click(button)
    return walk.read()


# -- 1.-3. the centre clerk: phone report, lifted in person, a formal report -----------------------

def test_centre_clerk_reports_lost_by_phone_lifts_it_and_reports_another_formally(platform, browser: Browser):
    seen = Seen(CODES, 12)
    walk = new_walk(browser, platform.base, "centre", seen)
    page = walk.page
    card = holder_card(platform)
    before = STATUS_WORDS[card.status]

    # -- 1. the voice service line: a wrong date of birth, then the right answers --------------
    page.click("#nav-cards")
    expect(page.locator("#to-hotline")).to_have_text("电话临时挂失")
    walk.read()
    page.click("#to-hotline")
    expect(page.locator("#hotline-form")).to_be_visible()
    walk.read()

    def call(birth_date: date) -> str:
        page.fill("#id_number", card.ssn)
        page.fill("#holder_name", card.name)
        page.fill("#birth_date", birth_date.isoformat())
        page.fill("#mobile_last4", card.mobile[-4:] if card.mobile else "")
        page.fill("#caller", "本人")
        return submit(walk, "#hotline-form button[type=submit]")

    body = call(card.birth_date + timedelta(days=1))
    expect(page.locator("#form-errors")).to_contain_text("身份信息核对不符")
    assert "/lifecycle/hotline" in page.url, page.url
    assert loss_rows(platform, card.id) == []
    assert query(platform, "SELECT status FROM card WHERE id = ?", card.id) == [(card.status,)]
    assert card.ssn not in body  # masked wherever it is shown

    body = call(card.birth_date)
    page.wait_for_url(f"**/lifecycle/cards/{card.id}")
    assert "已临时挂失" in body and "医保个人账户已冻结" in body, body[:2000]
    expect(page.locator("#card-status")).to_have_text("临时挂失")
    expect(page.locator("#medical-frozen")).to_contain_text("医保个人账户已冻结")
    expect(page.locator("#open-loss")).to_contain_text("临时挂失（待本人持身份证确认）")
    expect(page.locator("#history")).to_contain_text("电话临时挂失")
    walk.read()
    card_url = page.url
    assert [(k, s) for _, k, s in loss_rows(platform, card.id)] == [("temporary", "temporary")]

    # -- 2. the holder comes with the ID card: the task, 解除挂失 ---------------------------------
    open_task(walk, f"挂失确认：{card.name}")
    page.check("input[name=decision][value=lift]")
    page.fill("#shown_id_number", card.ssn)
    page.check("#id_seen")
    body = submit(walk, "#complete")
    assert re.search(r"/cases/\d+$", page.url), page.url  # the case's page: the task is done
    assert "任务已完成" in body, body[:2000]
    expect(page.locator("#form-errors")).to_have_count(0)

    page.goto(card_url)
    reload_until(walk, lambda p: p.locator("#card-status"), before)
    expect(page.locator("#medical-frozen")).to_have_count(0)
    expect(page.locator("#open-loss")).to_have_count(0)
    history = page.locator("#history")
    expect(history).to_contain_text("电话临时挂失")
    expect(history).to_contain_text("解除挂失")
    expect(history).to_contain_text("已解挂")
    walk.read()
    assert [(k, s) for _, k, s in loss_rows(platform, card.id)] == [("temporary", "lifted")]

    # -- 3. 正式挂失 at the counter on another card, no replacement yet ---------------------------
    other = holder_card(platform)
    assert other.id != card.id
    find_card(walk, other)
    expect(page.locator("#card-status")).to_have_text(STATUS_WORDS[other.status])
    page.click("#do-loss")
    expect(page.locator("#action-form")).to_be_visible()
    expect(page.locator("h1")).to_have_text("正式挂失")
    walk.read()
    # a stranger's ID card first: refused, nothing changes
    page.check("input[name=replace_via][value=later]")
    page.fill("#shown_id_number", card.ssn)
    page.check("#id_seen")
    submit(walk)
    expect(page.locator("#form-errors")).to_contain_text("出示的身份证不是持卡人本人的")
    assert loss_rows(platform, other.id) == []
    # the holder's own
    page.check("input[name=replace_via][value=later]")
    page.fill("#shown_id_number", other.ssn)
    page.check("#id_seen")
    body = submit(walk)
    page.wait_for_url(f"**/lifecycle/cards/{other.id}")
    assert "已正式挂失，原卡已停用。" in body, body[:2000]
    expect(page.locator("#card-status")).to_have_text("挂失")
    expect(page.locator("#open-loss")).to_contain_text("已正式挂失（待补卡）")
    expect(page.locator("#medical-frozen")).to_contain_text("医保个人账户已冻结")
    expect(page.locator("#history")).to_contain_text("暂不补卡")
    walk.read()
    [(loss_id, kind, state)] = loss_rows(platform, other.id)
    assert (kind, state) == ("formal", "formal")

    receipt = page.locator("#open-loss a", has_text="挂失回执")
    expect(receipt).to_be_visible()
    receipt.click()
    page.wait_for_url(f"**/lifecycle/losses/{loss_id}/receipt")
    expect(page.locator("h1")).to_have_text("社会保障卡挂失回执")
    walk.read()
    table = page.locator("#receipt")
    expect(table).to_contain_text(f"GS{loss_id}")
    expect(table).to_contain_text(other.name)
    expect(table).to_contain_text(f"{other.ssn[:6]}********{other.ssn[-4:]}")
    expect(table).to_contain_text("本人持身份证正式挂失")
    expect(table).to_contain_text("暂不补卡")
    expect(table).to_contain_text("已正式挂失（待补卡）")
    expect(page.locator("body")).to_contain_text("持卡人签字")
    assert other.ssn not in page.inner_text("body")
    pdf = page.pdf(format="A4")  # Chromium's print to PDF
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000

    walk.check()
    page.context.close()


# -- 4. the manager: the demo's closed round, activated --------------------------------------------

def test_manager_sees_the_closed_round_activated_and_its_announcement(platform, browser: Browser):
    seen = Seen(CODES, 3)
    walk = new_walk(browser, platform.base, "manager", seen)
    page = walk.page
    [(batch_id,)] = query(platform, "SELECT id FROM batch WHERE name = ?", ROUND_NAME)

    page.click("#nav-activation")
    page.wait_for_url("**/activation")
    row = page.locator(f"#rounds tr[data-batch='{batch_id}']")
    expect(row.locator("td").first).to_have_text(ROUND_NAME)
    # the round's job runs in the background worker after the start: look again until it is done
    reload_until(walk, lambda p: p.locator(f"#rounds tr[data-batch='{batch_id}'] td.status"), "已统一启用")
    [(announced, activated, waiting, state)] = query(
        platform, "SELECT announced_on, activated, waiting, state FROM lifecycle_activation_round "
                  "WHERE batch_id = ?", batch_id)
    assert state == "done" and activated > 0
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells == [ROUND_NAME, "已结束", "已统一启用", announced, str(activated), str(waiting)], cells

    row.locator("a", has_text=ROUND_NAME).click()
    page.wait_for_url(f"**/activation/batches/{batch_id}")
    expect(page.locator("#round-state")).to_have_text("已统一启用")
    walk.read()
    [(late, cents)] = query(platform, "SELECT count(*) FILTER (WHERE late), coalesce(sum(moved_cents), 0) "
                                      "FROM lifecycle_card_activation a JOIN lifecycle_activation_round r "
                                      "ON r.id = a.round_id WHERE r.batch_id = ?", batch_id)
    moved = f"{cents // 100:,}.{cents % 100:02d}"
    expect(page.locator("#activated")).to_have_text(str(activated))
    expect(page.locator("#late")).to_have_text(str(late))
    expect(page.locator("#waiting")).to_have_text(str(waiting))
    expect(page.locator("#moved")).to_have_text(moved)
    figures = page.inner_text("#figures")
    for words in ("统一启用的卡（张）", "尚未领卡、仍锁定的卡（张）", "转入社会保障卡的医保个人账户资金（元）"):
        assert words in figures, figures
    expect(page.locator("#activation-progress")).to_contain_text("已完成")
    expect(page.locator("#activation-form")).to_have_count(0)
    expect(page.locator("#retry-form")).to_have_count(0)

    # 启用公告: the A4 announcement, opened from the round's page
    expect(page.locator("#announcement-link")).to_have_text("打印启用公告（A4）")
    with page.expect_response(lambda r: "/announcement" in r.url) as answered:
        page.click("#announcement-link")
    response = answered.value
    assert response.ok and "text/html" in response.headers["content-type"], response.status
    body = page.inner_text("body")
    seen.pages.append((page.url, body))  # a document of its own: scanned whatever its lang
    assert f"关于{ROUND_NAME}社会保障卡统一启用的公告" in body, body[:2000]
    assert "统一启用" in body and "特此公告" in body
    assert re.search(rf"统一启用的社会保障卡\s*{activated} 张", body), body
    assert re.search(rf"尚未领卡、继续使用原医疗保险卡\s*{waiting} 张", body), body
    assert f"{moved} 元" in body, body
    y, m, d = (int(x) for x in announced.split("-"))
    assert f"{y}年{m}月{d}日" in body, body

    walk.check()
    page.context.close()


# -- 5. the bank window: the debit function --------------------------------------------------------

def test_window_clerk_activates_the_debit_function(platform, browser: Browser):
    seen = Seen(CODES, 4)
    walk = new_walk(browser, platform.base, "window", seen)
    page = walk.page
    card = holder_card(platform, bank=True)

    find_card(walk, card)
    expect(page.locator("#card-status")).to_have_text(STATUS_WORDS[card.status])
    expect(page.locator("#debit")).to_contain_text("未激活")
    page.click("#do-bank")
    expect(page.locator("h1")).to_have_text("激活金融借记功能")
    walk.read()

    # without the confirmation-form copy the browser holds the form back (the box is required)
    bank_url = page.url
    page.fill("#shown_id_number", card.ssn)
    page.check("#id_seen")
    assert not page.locator("#action-form").evaluate("f => f.checkValidity()")
    page.locator("#action-form button[type=submit]").click()
    copy_box = page.locator("#form_copy_seen")
    assert copy_box.evaluate("e => e.validity.valueMissing && e.validationMessage !== ''")
    assert page.url == bank_url
    expect(page.locator("h1")).to_have_text("激活金融借记功能")
    assert query(platform, "SELECT count(*) FROM bank_debit_activation WHERE id_number = ?", card.ssn) == [(0,)]

    page.fill("#shown_id_number", card.ssn)
    page.check("#id_seen")
    page.check("#form_copy_seen")
    body = submit(walk)
    page.wait_for_url(f"**/lifecycle/cards/{card.id}")
    assert "金融借记功能已激活。" in body, body[:2000]
    expect(page.locator("#debit")).to_contain_text("已激活")
    expect(page.locator("#debit")).not_to_contain_text("未激活")
    expect(page.locator("#do-bank")).to_have_count(0)
    expect(page.locator("#history")).to_contain_text("金融借记功能已激活")
    expect(page.locator("#card-status")).to_have_text(STATUS_WORDS[card.status])
    walk.read()
    assert query(platform, "SELECT count(*) FROM bank_debit_activation WHERE id_number = ?", card.ssn) == [(1,)]

    walk.check()
    page.context.close()
