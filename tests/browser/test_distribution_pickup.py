"""An agent picks up an employer's cards at the counter and the clerk prints the handover sheet
(单位批量领卡), in headless Chromium against the whole platform (python -m app.run with demo
data): the demo batch's employer whose cards were accepted and who was told to collect them
(已通知单位领卡).

1. ``centre``: the employer page's section 领卡与发放 (the cards waiting at the centre), the
   button 办理单位领卡, which opens the case's first task;
2. 核验领卡人: the introduction letter's agent (the demo voucher's 陈经办, the ID number the demo
   recorded: app/procedures/batch/demo.py ``_voucher``), the ID card shown, the seal;
3. 当面清点卡片: the card numbers typed (read from the platform's SQLite database: no page
   shows them whole);
4. 交接单签字: the pickup page, its handover sheet opened (第一联 and 第二联, the count) and
   printed (Chromium's print to PDF), then both signed: the cards are with the employer.

Every Chinese page seen on the way shows no raw code."""
import re
import sqlite3
import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect
from stdnum.cn import ric

from tests.browser.conftest import started_platform
from tests.browser.pages import Seen, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.hardware, pytest.mark.timeout(900)]

AGENT_NAME = "陈经办"  # app/procedures/batch/demo.py _voucher
CODES = ("check_agent", "count_cards", "sign_handover", "record_roster", "employer_pickup",
         "at_centre", "with_employer", "with_holder", "agent_checked", "handed_over", "roster_back",
         "not_handed_out", "wrong_data", "notified", "task_id=", "Traceback", "None")
WAIT = 60


@pytest.fixture(scope="module")
def platform(pcscd, tmp_path_factory):
    folder = tmp_path_factory.mktemp("distribution_pickup")
    with started_platform(folder) as base:
        yield SimpleNamespace(base=base, db=folder / "instance" / "sscard.db", folder=folder)


def demo_agent_id(employer_id: int) -> str:
    """The agent's ID number the demo's voucher records (demo.py ``_voucher``)."""
    body = f"35058119780{employer_id % 10}01{employer_id % 100:03d}"[:17]
    return body + ric.calc_check_digit(body + "0")


def notified_employer(db_path) -> tuple[int, int, str, list[str]]:
    """The demo employer told to collect its cards, its batch, its name and its accepted cards'
    numbers in roster order (waiting for the demo's background jobs when they are not done yet)."""
    deadline = time.monotonic() + WAIT
    while True:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT id, batch_id, name FROM batch_employer "
                             "WHERE status = 'notified' ORDER BY id LIMIT 1").fetchone()
            if row is not None:
                numbers = [n for (n,) in db.execute(
                    "SELECT c.card_number FROM batch_person p JOIN card c ON c.id = p.card_id "
                    "WHERE p.employer_id = ? AND p.production = 'accepted' ORDER BY p.seq", (row[0],))]
                return row[0], row[1], row[2], numbers
        if time.monotonic() > deadline:
            pytest.fail("the demo has no employer told to collect its cards")
        time.sleep(0.5)


def complete(page: Page, seen: Seen, next_title: str | None) -> str:
    page.click("#complete")
    page.wait_for_load_state()
    body = seen.read(page)
    assert page.locator("#form-errors").count() == 0, body[:2000]
    if next_title is not None:
        expect(page.locator("#task-title")).to_contain_text(next_title)
    return body


def test_an_agent_picks_up_the_cards_and_the_clerk_prints_the_handover_sheet(platform, page: Page):
    base, seen = platform.base, Seen(CODES, 6)
    employer_id, batch_id, employer_name, numbers = notified_employer(platform.db)
    assert numbers and all(re.fullmatch(r"[A-Z0-9]{9}", n) for n in numbers)
    agent_id = demo_agent_id(employer_id)

    # -- 1. the employer page: the cards waiting at the centre, the button ----------------------
    sign_in(page, base, "centre")
    page.goto(f"{base}/batches")
    seen.read(page)
    # the demo has several batches (the activation round's closed one too): the employer's own
    page.locator(f"#batches tr[data-batch='{batch_id}'] a").click()
    expect(page.locator("#employers")).to_be_visible()
    seen.read(page)
    page.locator(f"#employers tr[data-employer='{employer_id}'] a").click()
    expect(page.locator("#employer-status")).to_have_text("已通知单位领卡")
    body = seen.read(page)
    employer_url = page.url
    expect(page.locator("#distribution")).to_contain_text("领卡与发放")
    expect(page.locator("#cards-waiting")).to_contain_text(f"在社保卡中心待领取 {len(numbers)} 张")
    expect(page.locator("#no-pickups")).to_be_visible()
    # the voucher's agent: the demo's, masked on the page
    expect(page.locator("#current-voucher")).to_contain_text(AGENT_NAME)
    expect(page.locator("#current-voucher")).to_contain_text(agent_id[:6] + "********" + agent_id[-4:])
    assert agent_id not in body

    page.click("#start-pickup")
    expect(page.locator("#task-title")).to_contain_text(f"核验领卡人：{employer_name}")
    expect(page.locator("#task-form")).to_be_visible()
    seen.read(page)

    # -- 2. the agent's letter, the ID card shown, the seal ----------------------------------
    page.fill("#agent_name", AGENT_NAME)
    page.fill("#agent_id_number", agent_id)
    page.fill("#shown_id_number", agent_id)
    page.check("#seal_checked")
    complete(page, seen, f"清点卡片：{employer_name}")

    # -- 3. the cards counted in front of both ---------------------------------------------
    page.fill("#scanned", "\n".join(numbers))
    complete(page, seen, f"交接单签字：{employer_name}")
    task_url = page.url
    pickup_link = page.locator("#pickup-summary a").first
    pickup_number = pickup_link.inner_text().strip()
    assert re.fullmatch(rf"JJ{employer_id}-\d+", pickup_number), pickup_number

    # -- 4. the pickup page, the handover sheet opened and printed, both sign -------------------
    pickup_link.click()
    expect(page.locator("#pickup-status")).to_have_text("已清点，待双方签字")
    expect(page.locator("#card-count")).to_have_text(str(len(numbers)))
    expect(page.locator("#agent")).to_contain_text(AGENT_NAME)
    seen.read(page)
    pickup_url = page.url
    handover = page.locator("#documents tr[data-kind='handover'] a", has_text="网页（打印）")
    href = handover.get_attribute("href")
    assert href.endswith("/documents/handover.html")
    response = page.goto(base + href)
    assert response.ok and "text/html" in response.headers["content-type"]
    sheet = page.inner_text("body")
    assert "交接单" in sheet and "第一联" in sheet and "第二联" in sheet
    assert f"{len(numbers)} 张" in sheet and AGENT_NAME in sheet and employer_name in sheet
    assert agent_id not in sheet  # masked on the sheet too
    page.emulate_media(media="print")
    printed = page.pdf(format="A4", print_background=True)
    page.emulate_media(media="screen")
    assert printed.startswith(b"%PDF") and len(printed) > 1000
    (platform.folder / "handover.pdf").write_bytes(printed)

    page.goto(task_url)
    expect(page.locator("#task-title")).to_contain_text(f"交接单签字：{employer_name}")
    seen.read(page)
    page.check("#signed")
    complete(page, seen, None)

    page.goto(pickup_url)
    expect(page.locator("#pickup-status")).to_have_text("已交接，单位发放中")
    expect(page.locator("#distribute-by")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    expect(page.locator("#return-by")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    expect(page.locator("#figures")).to_contain_text(f"仍在单位 {len(numbers)} 张")
    expect(page.locator("#roster-link")).to_be_visible()
    seen.read(page)

    page.goto(employer_url)
    seen.read(page)
    expect(page.locator("#pickups")).to_contain_text(pickup_number)
    expect(page.locator("#pickups")).to_contain_text("已交接，单位发放中")
    expect(page.locator("#custody-counts")).to_contain_text(f"单位已领取，待发放 {len(numbers)} 张")
    expect(page.locator("#start-pickup")).to_have_count(0)

    # the cards are found with their place and history
    page.goto(f"{base}/distribution/cards?q={numbers[0]}")
    expect(page.locator("#card-place")).to_have_text("单位已领取，待发放")
    expect(page.locator("#history")).to_contain_text(pickup_number)
    seen.read(page)

    seen.assert_no_codes()
