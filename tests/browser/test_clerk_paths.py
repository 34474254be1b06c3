"""The procedure paths as a clerk walks them in headless Chromium (clerk-experience issue,
"Tests" and "Done when"), asserting the words the clerk needs, in Chinese and English:

1. instant issuance, the police check fails for 张伟 (the register says 张玮): the correction
   task shows why and whose card it is; the corrected name passes, the card is made and
   handed over, the case says 已制发;
2. instant issuance refused for 刘洋 (household in 厦门): only ending is offered, with the
   sentence for the applicant; the case says 已终止 with the reason, the refusal notice too;
3. an outlet application: the receipt (number, 15 working days on), the ICBC window's inbox
   (tab counts, the task), not the ABC window's, and the case search;
4. every Chinese page seen on the way shows no code (``outlet_application``, ``task_id=`` ...).

With ``SSCARD_SCREENSHOTS=1`` the correction task and the refused case page are saved to
docs/screenshots/ for the closing note (docs/screenshots/README.md).

One platform serves the module (starting it takes 20-30 s); each test has its own browser
context, signs in afresh and works on its own demo person."""
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.adapters.demo import APPLIES_AS, BY_KEY
from app.sla.calendar import WorkingDayCalendar
from app.sla.overrides import DbOverrides
from forms.validators import today
from tests.browser.conftest import ROOT, started_platform

pytestmark = [pytest.mark.browser, pytest.mark.hardware]

SCREENSHOTS = Path(ROOT) / "docs" / "screenshots"

# what must never reach a clerk's eyes on a Chinese page: process, task and status codes
CODES = ("outlet_application", "instant_issuance", "accept_application", "task_id=",
         "in_production", "handed_over", "rejected", "correct_data", "produce_card",
         "hand_over_card", "name_differs", "not_local_household", "police_unsolvable",
         "Traceback", "None")


@pytest.fixture(scope="module")
def platform(pcscd, tmp_path_factory):
    """The whole platform (as scripts/start), shared by this module's tests."""
    folder = tmp_path_factory.mktemp("clerk_paths")
    with started_platform(folder) as base:
        yield SimpleNamespace(base=base, db=folder / "instance" / "sscard.db")


class Pages:
    """The Chinese pages a walk has seen: (url, visible text), checked for codes at the end."""

    def __init__(self, page: Page):
        self.page = page
        self.seen: list[tuple[str, str]] = []

    def read(self, selector: str = "body") -> str:
        """The visible text (of the page, or of one element); the page's is kept for the scan."""
        body = self.page.inner_text("body")
        if self.page.locator("html").get_attribute("lang") == "zh-CN":
            self.seen.append((self.page.url, body))
        return body if selector == "body" else self.page.inner_text(selector)

    def assert_no_codes(self) -> None:
        assert len(self.seen) >= 5
        found = [(url, code) for url, text in self.seen for code in CODES if code in text]
        assert found == [], found


@pytest.fixture
def pages(page):
    return Pages(page)


def _photo(tmp_path) -> str:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (295, 413), (200, 60, 60)).save(path, "JPEG", quality=85)
    return str(path)


def choose(page: Page, name: str, value: str) -> None:
    """Pick a choice whether the form renders it as a select or as radio buttons."""
    if page.locator(f"select[name={name}]").count():
        page.select_option(f"select[name={name}]", value)
    else:
        page.check(f"input[name={name}][value='{value}']")


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    page.click("#login")
    expect(page.locator("#nav-inbox")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header .me button", has_text="退出").click()
    expect(page.locator("#username")).to_be_visible()


def language(page: Page, link: str) -> None:
    """Click 中文 or English in the header: the same page comes back in that language."""
    url = page.url
    page.locator("header .lang a", has_text=link).click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if link == "English" else "zh-CN")
    assert page.url == url


def apply(page: Page, pages: Pages, tmp_path, process: str, key: str) -> None:
    """Start ``process`` and submit the application form as person ``key`` fills it in."""
    person = {**BY_KEY[key], **APPLIES_AS.get(key, {})}
    page.click("#nav-start")
    pages.read()
    page.click(f"#start-{process}")
    expect(page.locator("#task-form")).to_be_visible()
    pages.read()
    page.fill("#name", person["name"])
    choose(page, "sex", person["sex"])
    choose(page, "ethnicity", person["ethnicity"])
    page.set_input_files("#photo", _photo(tmp_path))
    page.fill("#birth_date", person["birth_date"].isoformat())
    page.fill("#mobile", "13805951234")
    choose(page, "id_type", "resident_id")
    page.fill("#id_valid_from", "2016-03-01")
    page.fill("#id_valid_to", "2036-03-01")
    page.fill("#id_number", person["id_number"])
    page.fill("#household_address", person["household_address"])
    page.fill("#residence_address", person["household_address"])
    page.fill("#residence_postcode", "362700")
    choose(page, "medical_insurance_type", "urban_employee")
    page.fill("#insurance_agency", "石狮市医疗保险管理中心")
    choose(page, "first_card", "yes")
    page.check("#signed")
    page.click("#complete")


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("SSCARD_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


# -- 1. the name differs: correct it on the spot, the card is made -----------------------------------

def test_name_differs_correct_it_and_the_card_is_issued(platform, page: Page, pages, tmp_path):
    person = BY_KEY["zhang_wei"]  # the register: 张玮; he writes 张伟
    sign_in(page, platform.base, "window")
    pages.read()
    apply(page, pages, tmp_path, "instant_issuance", "zhang_wei")

    # the correction task: why the clerk is here, at the top, and whose card it is
    expect(page.locator("#check-result")).to_be_visible()
    body = pages.read()
    assert "与申请人当场核实" in body
    note = page.locator("#check-result")
    expect(note).to_have_attribute("data-code", "name_differs")
    assert "姓名与公安户籍登记不一致" in note.inner_text()
    name_row = note.locator("tr[data-field=name]")
    expect(name_row.locator(".register")).to_have_text("张玮")
    expect(name_row.locator(".form")).to_have_text("张伟")
    assert "逐字核对姓名" in page.inner_text("#check-ask")
    assert "更正后可再次比对" in page.inner_text("#check-retry")
    expect(page.locator("#check-say")).to_have_count(0)  # it can be solved: nothing to tell
    assert note.bounding_box()["y"] < page.locator("#task-form").bounding_box()["y"]
    expect(page.locator("#header-name")).to_have_text("张伟")
    expect(page.locator("#header-id-number")).to_have_text(masked(person["id_number"]))
    assert person["id_number"] not in body
    assert "办理时限：立等可取" in page.inner_text("#header-deadline")
    expect(page.locator("input[name=decision][value=corrected]")).to_have_count(1)
    expect(page.locator("input[name=decision][value=unsolvable]")).to_have_count(1)
    screenshot(page, "correction-zhang-wei.png")
    task_url = page.url
    case_url = page.locator("#case-link").get_attribute("href")

    # the same in English
    language(page, "English")
    note_en = page.inner_text("#check-result")
    assert "The name differs from the police household register" in note_en
    assert "Police register" in note_en and "张玮" in note_en and "张伟" in note_en
    assert "compare the name character by character" in note_en
    assert "A correction can pass the next check" in note_en
    header_en = page.inner_text("#task-header")
    assert "ID number" in header_en and "Deadline: while the applicant waits" in header_en
    language(page, "中文")
    assert page.url == task_url

    # checked with his ID card: 张玮; the check passes and the station writes the card
    page.check("input[name=decision][value=corrected]")
    page.fill("#name", "张玮")
    choose(page, "sex", "1")
    page.fill("#birth_date", person["birth_date"].isoformat())
    choose(page, "checked_document", "resident_id")
    page.click("#complete")
    page.goto(platform.base + case_url)
    for _ in range(60):
        if page.locator("#case-tasks a").count():
            break
        page.wait_for_timeout(1000)
        page.goto(platform.base + case_url)
    pages.read()
    page.locator("#case-tasks a").first.click()
    expect(page.locator("#header-name")).to_have_text("张玮")  # the corrected name
    expect(page.locator("#check-result")).to_have_count(0)
    pages.read()
    for box in page.locator("#task-form input[type=checkbox]").all():
        box.check()
    page.click("#complete")

    page.goto(platform.base + case_url)
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator("#case-result")).to_have_attribute("data-outcome", "issued")
    expect(page.locator("#case-result")).to_have_text("已制发")
    expect(page.locator("#receipt-link")).to_be_visible()
    expect(page.locator("#refusal-notice-link")).to_have_count(0)
    pages.read()
    language(page, "English")
    expect(page.locator("#case-result")).to_have_text("Card issued")
    language(page, "中文")
    pages.assert_no_codes()


# -- 2. not a local household: only ending, the refusal notice -----------------------------------------

def test_not_a_local_household_is_ended_with_the_reason(platform, page: Page, pages, tmp_path):
    person = BY_KEY["liu_yang"]  # household in 厦门市思明区
    sign_in(page, platform.base, "window")
    apply(page, pages, tmp_path, "instant_issuance", "liu_yang")

    expect(page.locator("#check-result")).to_be_visible()
    pages.read()
    expect(page.locator("#check-result")).to_have_attribute("data-code", "not_local_household")
    assert "非本地户籍" in page.inner_text("#check-result")
    expect(page.locator("#check-retry")).to_have_attribute("data-retry", "no")
    assert "再次比对无法通过，只能终止本次申领。" in page.inner_text("#check-retry")
    say = page.inner_text("#check-say")
    assert "请向申请人说明" in say and "您的户籍不在本地" in say and "户籍所在地" in say
    # only ending is offered, chosen already, with the register's reason; nothing to correct
    decisions = page.locator("input[name=decision]")
    expect(decisions).to_have_count(1)
    expect(decisions).to_have_attribute("value", "unsolvable")
    expect(decisions).to_be_checked()
    expect(page.locator("#task-form [name=name]")).to_have_count(0)
    assert "非本地户籍" in page.input_value("#task-form textarea[name=reason]")
    expect(page.locator("#header-name")).to_have_text("刘洋")
    case_url = page.locator("#case-link").get_attribute("href")

    language(page, "English")
    note_en = page.inner_text("#check-result")
    assert "Another check cannot pass: the application can only be ended." in note_en
    say_en = page.inner_text("#check-say")
    assert "Tell the applicant:" in say_en and "Your household is not registered here" in say_en
    assert "您的户籍不在本地" in say_en  # the sentence to read out, in Chinese too
    language(page, "中文")

    page.click("#complete")  # end it, with the reason offered
    page.goto(platform.base + case_url)
    expect(page.locator("#case-result")).to_have_attribute("data-outcome", "refused")
    expect(page.locator("#case-result")).to_have_text("已终止")
    outcome = page.inner_text("#case-outcome")  # the application's status with the reason
    assert "公安户籍比对不一致，当场无法解决" in outcome and "非本地户籍" in outcome
    expect(page.locator("#refusal-notice-link")).to_be_visible()
    expect(page.locator("#receipt-link")).to_have_count(0)
    expect(page.locator("#cancel-form")).to_have_count(0)
    pages.read()
    screenshot(page, "refused-case-liu-yang.png")

    language(page, "English")
    expect(page.locator("#case-result")).to_have_text("Ended without a card")
    assert "The police check failed and could not be solved on the spot" in \
        page.inner_text("#case-outcome")
    language(page, "中文")

    # the notice for the applicant: why, in plain words
    page.click("#refusal-notice-link")
    expect(page.locator("#notice-name")).to_have_text("刘洋")
    body = pages.read()
    assert "社会保障卡终止制卡告知书" in body
    expect(page.locator("#notice-id")).to_have_text(masked(person["id_number"]))
    reason = page.inner_text("#notice-reason")
    assert "您的户籍不在本地" in reason and "公安户籍比对不一致" not in reason
    assert "非本地户籍" in page.inner_text("#notice-detail")
    assert "户籍所在地" in page.inner_text("#notice-steps")
    page.goto(page.url + "?lang=en")  # the paper page has no header with the language links
    assert "Notice: no social security card is made" in page.inner_text("body")
    assert "household is not registered here" in page.inner_text("#notice-reason")
    page.goto(page.url.split("?")[0] + "?lang=zh")
    pages.read()

    # the case list tells it from an issued one
    page.goto(platform.base + "/cases?q=" + "刘洋")
    row = page.locator(f"tr[data-case='{case_url.rsplit('/', 1)[1]}'] td.outcome")
    expect(row).to_have_attribute("data-outcome", "refused")
    assert row.inner_text().startswith("已终止：")
    pages.read()
    pages.assert_no_codes()


# -- 3. at the outlet: receipt, the windows' inboxes, search ---------------------------------------------

def test_outlet_application_receipt_inbox_and_search(platform, page: Page, pages, tmp_path):
    person = BY_KEY["lin_kun"]  # clean: in the register, no card yet
    sign_in(page, platform.base, "outlet")
    apply(page, pages, tmp_path, "outlet_application", "lin_kun")

    # the outlet clerk lands on the case page: the window makes the card
    expect(page.locator("#case-status")).to_be_visible()
    assert re.search(r"/cases/\d+$", page.url), page.url
    case_path = page.url[len(platform.base):]
    case_id = case_path.rsplit("/", 1)[1]
    pages.read()
    page.click("#receipt-link")
    expect(page.locator("#receipt-number")).to_be_visible()
    body = pages.read()
    assert "社会保障卡申领受理回执" in body
    number = page.inner_text("#receipt-number").strip()
    assert number
    expect(page.locator("#receipt-name")).to_have_text("林堃")
    expect(page.locator("#receipt-date")).to_have_text(today().isoformat())
    expect(page.locator("#receipt-where")).to_have_text("宝盖镇代办网点")
    engine = create_engine(f"sqlite:///{platform.db}")
    with Session(engine) as s:
        due = WorkingDayCalendar(DbOverrides(s)).add_working_days(today(), 15)
    engine.dispose()
    deadline = page.locator("#receipt-deadline")
    expect(deadline).to_have_attribute("data-due", due.isoformat())
    expect(deadline).to_have_text(f"自受理之日起 15个工作日 内通知您领卡，最迟 {due.isoformat()}")
    assert "本人居民身份证原件" in page.inner_text("#receipt-holder")
    page.goto(page.url + "?lang=en")
    en = page.inner_text("body")
    assert "Receipt for your social security card application" in en and due.isoformat() in en
    assert number in en
    page.goto(page.url.split("?")[0] + "?lang=zh")

    # the outlet finds the case by the applicant's name; an unknown name finds nothing
    page.goto(platform.base + "/cases")
    page.fill("#case-search input[name=q]", "林堃")
    page.locator("#case-search button").click()
    found = page.locator(f"tr[data-case='{case_id}']")
    expect(found).to_be_visible()
    assert f"林堃（{masked(person['id_number'])}）" in found.inner_text()
    expect(page.locator("#not-found")).to_have_count(0)
    pages.read()
    page.fill("#case-search input[name=q]", "赵无名")
    page.locator("#case-search button").click()
    expect(page.locator("#not-found")).to_be_visible()
    assert page.inner_text("#not-found").startswith("未找到与“赵无名”相符的案件")
    expect(page.locator("#cases tr[data-case]")).to_have_count(0)
    pages.read()
    language(page, "English")
    assert page.inner_text("#not-found").startswith("Nothing found for “赵无名”")
    language(page, "中文")
    sign_out(page)

    # the ICBC window (the outlet's producing window): the task waits in its group's tab
    sign_in(page, platform.base, "window")
    page.click("#nav-inbox")
    body = pages.read()
    assert re.search(r"我的任务 \(\d+\)", body) and re.search(r"岗位组待领取 \(\d+\)", body)
    page.click("#tab-group")
    expect(page.locator("#tab-group")).to_have_class(re.compile(r"\bon_time\b"))
    rows = page.locator("tr.task-row")
    expect(page.locator("#count-group")).to_have_text(f"({rows.count()})")
    assert rows.count() >= 1
    mine = page.locator(f"tr.task-row:has(a[href='{case_path}'])")
    expect(mine).to_have_count(1)
    row_text = mine.inner_text()
    assert "取半成品卡制卡" in row_text and "林堃" in row_text and "代办网点申领" in row_text
    assert "申请人在窗口等候" not in row_text
    pages.read()
    language(page, "English")
    assert re.search(r"My tasks \(\d+\)", page.inner_text("#tab-mine"))
    assert re.search(r"My groups' tasks \(\d+\)", page.inner_text("#tab-group"))
    language(page, "中文")
    page.goto(platform.base + "/cases?q=林堃")
    expect(page.locator(f"tr[data-case='{case_id}']")).to_be_visible()
    pages.read()
    sign_out(page)

    # the ABC window neither has the task nor finds the case
    sign_in(page, platform.base, "window_abc")
    for scope in ("mine", "group"):
        page.goto(platform.base + f"/inbox?scope={scope}")
        expect(page.locator(f"tr.task-row:has(a[href='{case_path}'])")).to_have_count(0)
        assert "林堃" not in pages.read("#tasks")
    page.goto(platform.base + "/cases?q=林堃")
    expect(page.locator("#not-found")).to_be_visible()
    pages.read()
    pages.assert_no_codes()
