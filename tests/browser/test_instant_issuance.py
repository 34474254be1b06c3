"""A window clerk issues a card while the applicant waits (立等可取), in headless Chromium:
sign in, accept the application, the card station writes the card on the virtual reader,
hand the card over, and the case is closed."""
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.adapters.demo import BY_KEY

pytestmark = [pytest.mark.browser, pytest.mark.hardware]


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


def test_window_clerk_issues_a_card(platform, page: Page, tmp_path):
    person = BY_KEY["lin_kun"]  # 林堃: in the police register, no card yet
    page.goto(platform + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#username", "window")
    page.fill("#password", "demo1234")
    page.click("#login")

    page.click("#nav-start")
    page.click("#start-instant_issuance")
    expect(page.locator("#task-title")).to_be_visible()

    # 福建省社会保障卡申领表
    page.fill("#name", person["name"])
    choose(page, "sex", "1")
    choose(page, "ethnicity", "01")
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
    page.screenshot(path=str(tmp_path / "application.png"), full_page=True)
    page.click("#complete")

    # The checks run, the card job goes to the station; the hand-over task appears once the
    # card was written and verified on the virtual reader.
    for _ in range(60):
        if page.locator("#case-tasks a").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    case_url = page.url
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    page.locator("#case-tasks a").first.click()
    expect(page.locator("#task-title")).to_be_visible()
    for box in page.locator("#task-form input[type=checkbox]").all():
        box.check()
    page.click("#complete")

    page.goto(case_url)
    expect(page.locator("#case-status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#case-status")).to_have_text("已办结")
    history = page.locator("#history").inner_text()
    assert "窗口经办 陈敏 办结「当场发卡给申请人」" in history
    assert "收到「制卡工作站回报结果」" in history and "hand_over_card" not in history
    page.screenshot(path=str(tmp_path / "closed.png"), full_page=True)

    # The chip holds the holder's data: the station's virtual card for the reserved blank card.
    cards = list((tmp_path / "instance" / "station" / "cards").glob("*.json"))
    assert len(cards) == 1
    state = json.loads(cards[0].read_text(encoding="utf-8"))
    ssn_record = bytes.fromhex(state["records"]["EF06"]["08"])
    assert ssn_record[2:].decode() == person["id_number"]
    name_record = bytes.fromhex(state["records"]["EF06"]["09"])
    assert name_record[2:].rstrip(b"\x00").decode("gbk") == "林堃"
