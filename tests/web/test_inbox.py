"""Inbox and task pages 待办与任务办理, through the Flask test client on the real platform:
start a procedure, fill in the application form (errors per field, zh/en), complete it and be
taken on; my tasks / my groups' tasks; claim, release, reassign; filters; keyset paging."""
import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.engine.models import HumanTask, ProcessInstance
from app.procedures.application.models import Application
from tests.api import (  # noqa: F401
    PHOTO,
    add_user,
    app,
    application_json,
    application_post,
    calendar,
    complete,
    db,
    deadline_in,
    local_today,
    make_next_year_missing,
    open_task,
    start,
)


def field_errors(html: str) -> dict[str, list[str]]:
    errors = {}
    for name, message in re.findall(r'<li data-field="(\w*)">([^<]*)</li>', html):
        errors.setdefault(name, []).append(htmllib.unescape(message))
    return errors


def task_rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="task-row" data-task="(\d+)"', html)]


def flashes(html: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<div class="flash">([^<]*)</div>', html)]


def start_on_page(web, process="instant_issuance") -> str:
    r = web.post("/start", {"process": process}, page="/start")
    assert r.status_code == 302, r.get_data(as_text=True)
    return r.headers["Location"]


# -- start and the application form --------------------------------------------------------------

def test_window_clerk_starts_instant_issuance_and_lands_on_the_application_form(app, web):
    web.login("window")
    page = web.get("/start").get_data(as_text=True)
    assert 'id="start-instant_issuance"' in page
    assert 'id="start-outlet_application"' not in page  # the outlet's lane, not the window's
    location = start_on_page(web)
    assert re.fullmatch(r"/tasks/\d+", location)
    html = web.get(location).get_data(as_text=True)
    assert "受理：填写申领表" in html and 'id="task-form"' in html
    assert 'name="id_number"' in html and 'type="file"' in html and 'enctype="multipart/form-data"' in html
    task_id = int(location.rsplit("/", 1)[1])
    with db(app) as s:
        task = s.get(HumanTask, task_id)
        assert (task.task_name, task.group, task.state) == ("accept_application", "window_clerk", "open")


def test_starting_a_procedure_of_another_lane_is_refused(web):
    web.login("window")
    r = web.post("/start", {"process": "outlet_application"}, page="/start")
    assert r.status_code == 403


def test_invalid_application_is_shown_again_with_chinese_messages_per_field(app, web):
    web.login("window")
    location = start_on_page(web)
    bad = application_post("lin_kun", photo=None, name="", mobile="12345", signed=None,
                           id_number="350581199003071312")  # wrong check character
    r = web.post(location, bad, page=location)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    errors = field_errors(html)
    assert errors["name"] == ["请填写“姓名”"]
    assert errors["photo"] == ["请提供申请人照片"]
    assert errors["signed"] == ["请确认申请人已在纸质申领表上签字"]
    assert "mobile" in errors and "id_number" in errors
    assert all(re.search(r"[\u4e00-\u9fff]", m) for msgs in errors.values() for m in msgs)
    assert 'id="error-name"' in html  # next to the field too
    # what the clerk typed is kept, and nothing was recorded
    assert 'value="13805951234"' not in html and 'value="12345"' in html
    task_id = int(location.rsplit("/", 1)[1])
    with db(app) as s:
        assert s.get(HumanTask, task_id).state == "open"
        assert s.scalar(select(Application.id)) is None


def test_form_errors_in_english_with_lang_parameter_and_language_switch(web):
    web.login("window")
    location = start_on_page(web)
    bad = application_post("lin_kun", photo=None, name="")
    r = web.post(location + "?lang=en", bad, page=location + "?lang=en")
    errors = field_errors(r.get_data(as_text=True))
    assert errors["photo"] == ["Please provide the applicant's photo"]
    assert errors["name"] and "Name" in errors["name"][0]
    assert not re.search(r"[\u4e00-\u9fff]", " ".join(errors["name"] + errors["photo"]))

    # the language switch keeps English for the session ...
    web.get("/lang/en", headers={"Referer": "http://localhost" + location})
    r = web.post(location, application_post("lin_kun", photo=None), page=location)
    html = r.get_data(as_text=True)
    assert '<html lang="en">' in html and field_errors(html)["photo"] == ["Please provide the applicant's photo"]
    # ... until switched back
    web.get("/lang/zh")
    r = web.post(location, application_post("lin_kun", photo=None), page=location)
    assert field_errors(r.get_data(as_text=True))["photo"] == ["请提供申请人照片"]


def test_valid_application_completes_and_goes_to_the_case_while_the_card_is_made(app, web):
    web.login("window")
    location = start_on_page(web)
    task_id = int(location.rsplit("/", 1)[1])
    r = web.post(location, application_post("lin_kun"), page=location)
    assert r.status_code == 302, field_errors(r.get_data(as_text=True))
    with db(app) as s:
        task = s.get(HumanTask, task_id)
        inst = s.get(ProcessInstance, task.instance_id)
        application = s.scalar(select(Application).where(Application.instance_id == inst.id))
        assert task.state == "completed" and task.completed_by == "window"
        # police check passed, card number allocated, card job queued: waiting for the station
        assert inst.status == "waiting" and inst.business_key == application.number
        assert application.name == "林堃" and application.photo == PHOTO
    assert r.headers["Location"] == f"/cases/{inst.id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "任务已完成。" in flashes(html)


def test_valid_application_takes_the_clerk_to_the_next_task_of_the_case(app, web):
    """张伟 writes 张伟, the police register says 张玮: the window clerk checks it on the spot,
    a task in his own lane, so the page goes straight there."""
    web.login("window")
    location = start_on_page(web)
    r = web.post(location, application_post("zhang_wei"), page=location)
    assert r.status_code == 302
    task_id = int(location.rsplit("/", 1)[1])
    with db(app) as s:
        instance_id = s.get(HumanTask, task_id).instance_id
    nxt = open_task(app, instance_id)
    assert nxt.task_name == "correct_data"
    assert r.headers["Location"] == f"/tasks/{nxt.id}"
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    # the flash says why the case came to the correction, not just "任务已完成。"
    assert flashes(html) == ["已提交。公安户籍联网比对未通过：姓名与公安户籍登记不一致；姓名：公安户籍“张玮”，申领数据“张伟”"]
    assert 'id="task-form"' in html
    # the check starts from what the applicant wrote (dates too)
    assert 'value="张伟"' in html and 'value="1992-07-15"' in html


def test_completing_someone_elses_task_is_refused(app, web):
    add_user(app, "window2", ["window_clerk"])
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("window2")
    assert web.post(f"/tasks/{task.id}/claim", {}, page="/inbox").status_code == 302
    web.post("/logout", {}, page="/inbox")
    web.login("window")
    assert web.get(f"/tasks/{task.id}").status_code == 403  # claimed by window2
    r = web.client.post(f"/tasks/{task.id}", data={"csrf_token": web.csrf("/inbox"),
                                                   **application_post("lin_kun")})
    assert r.status_code == 403
    assert open_task(app, instance_id).state == "open"


# -- scopes, claim, release, other groups ---------------------------------------------------------

def test_mine_and_group_scopes_with_claim_and_release(app, web):
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("window")
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == [task.id]
    assert task_rows(web.get("/inbox?scope=mine").get_data(as_text=True)) == []
    # no tab asked for: the one with work (mine is empty, so the group's)
    assert task_rows(web.get("/inbox").get_data(as_text=True)) == [task.id]
    group_page = web.get("/inbox?scope=group").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/claim"' in group_page

    r = web.post(f"/tasks/{task.id}/claim", {}, page="/inbox?scope=group")
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{task.id}"
    assert "已领取任务。" in flashes(web.get(r.headers["Location"]).get_data(as_text=True))
    assert task_rows(web.get("/inbox?scope=mine").get_data(as_text=True)) == [task.id]
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == []
    with db(app) as s:
        assert s.get(HumanTask, task.id).assignee_name == "窗口经办 陈敏"

    r = web.post(f"/tasks/{task.id}/release", {}, page=f"/tasks/{task.id}")
    assert r.status_code == 302
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == [task.id]
    assert task_rows(web.get("/inbox?scope=mine").get_data(as_text=True)) == []


def test_claim_of_a_task_claimed_by_a_colleague_says_who_has_it(app, web):
    add_user(app, "window2", ["window_clerk"])
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("window2")
    web.post(f"/tasks/{task.id}/claim", {}, page="/inbox")
    web.post("/logout", {}, page="/inbox")
    web.login("window")
    r = web.post(f"/tasks/{task.id}/claim", {"next": "/inbox?scope=group"}, page="/inbox")
    assert r.status_code == 302
    assert flashes(web.get("/inbox?scope=group").get_data(as_text=True))
    with db(app) as s:
        assert s.get(HumanTask, task.id).assignee_name == "window2"


@pytest.mark.parametrize("username", ["outlet", "centre", "reviewer"])
def test_user_of_another_group_cannot_see_or_claim_the_task(app, web, username):
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login(username)
    assert web.get(f"/tasks/{task.id}").status_code == 403
    assert web.post(f"/tasks/{task.id}/claim", {}, page="/inbox").status_code == 403
    assert web.post(f"/tasks/{task.id}/release", {}, page="/inbox").status_code == 403
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == []
    with db(app) as s:
        assert s.get(HumanTask, task.id).assignee_id is None


def test_only_a_manager_reassigns(app, web):
    add_user(app, "window2", ["window_clerk"])
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("window")
    assert web.post(f"/tasks/{task.id}/reassign", {"username": "window"}, page="/inbox").status_code == 403
    web.post("/logout", {}, page="/inbox")

    web.login("manager")
    case_page = web.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/reassign"' in case_page
    # not in the task's group: refused with a message, nothing changes
    r = web.post(f"/tasks/{task.id}/reassign", {"username": "outlet"}, page=f"/cases/{instance_id}")
    assert r.status_code == 302
    assert "该用户不存在或不属于该岗位组。" in flashes(web.get(r.headers["Location"]).get_data(as_text=True))
    assert open_task(app, instance_id).assignee_id is None
    r = web.post(f"/tasks/{task.id}/reassign", {"username": "window2"}, page=f"/cases/{instance_id}")
    assert r.status_code == 302 and r.headers["Location"] == f"/cases/{instance_id}"
    assert open_task(app, instance_id).assignee_name == "window2"
    web.post("/logout", {}, page="/inbox")

    web.login("window2")
    assert task_rows(web.get("/inbox?scope=mine").get_data(as_text=True)) == [task.id]
    web.post("/logout", {}, page="/inbox")
    web.login("window")
    assert web.get(f"/tasks/{task.id}").status_code == 403


# -- filters, deadlines, paging ---------------------------------------------------------------------

def _outlet_case_at_production(app, person: str) -> int:
    """An outlet application accepted at the outlet: the window clerk's produce_card task."""
    instance_id = start(app, "outlet_application", "outlet")
    complete(app, open_task(app, instance_id).id, application_json(person), "outlet")
    assert open_task(app, instance_id).task_name == "produce_card"
    return instance_id


def test_filter_by_procedure_and_deadline_state_and_working_days_left(app, web):
    instant = start(app, "instant_issuance", "window")
    outlet_ids = [_outlet_case_at_production(app, p) for p in ("chen_xiuying", "wang_jianguo", "huang_lihua")]
    overdue, at_risk, on_time = outlet_ids
    today = local_today()
    with db(app) as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id == overdue)
                  .values(deadline_at=deadline_in(-30)))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == at_risk)
                  .values(deadline_at=deadline_in(0)))
        s.commit()
        cal = calendar(s)
        left = {i: cal.working_days_left(s.get(ProcessInstance, i).deadline_at, today) for i in outlet_ids}
    assert left[overdue] < 0 and left[at_risk] == 0 and left[on_time] == 15
    task_of = {i: open_task(app, i).id for i in [instant, *outlet_ids]}

    web.login("window")
    html = web.get("/inbox?scope=group").get_data(as_text=True)
    assert sorted(task_rows(html)) == sorted(task_of.values())
    for i, name in zip(outlet_ids, ("陈秀英", "王建国", "黄丽华")):  # working days left on the rows
        row = re.search(rf'data-task="{task_of[i]}">(.*?)</tr>', html, re.S).group(1)
        assert re.search(rf'<span class="tag [a-z_]+">{left[i]}</span>', row), row
        assert name in row and "********" in row  # applicant, ID number masked

    rows = task_rows(web.get("/inbox?scope=group&process=outlet_application").get_data(as_text=True))
    assert sorted(rows) == sorted(task_of[i] for i in outlet_ids)
    rows = task_rows(web.get("/inbox?scope=group&process=instant_issuance").get_data(as_text=True))
    assert rows == [task_of[instant]]
    for state, case in (("overdue", overdue), ("at_risk", at_risk), ("on_time", on_time)):
        rows = task_rows(web.get(f"/inbox?scope=group&deadline={state}").get_data(as_text=True))
        assert rows == [task_of[case]], state
        html = web.get(f"/inbox?scope=group&deadline={state}").get_data(as_text=True)
        assert f'class="tag {state}"' in html
    rows = task_rows(web.get("/inbox?scope=group&process=instant_issuance&deadline=overdue")
                     .get_data(as_text=True))
    assert rows == []


def _follow_pages(web, first: str) -> tuple[list[int], int]:
    seen, pages, url = [], 0, first
    while url:
        html = web.get(url).get_data(as_text=True)
        seen += task_rows(html)
        pages += 1
        m = re.search(r'href="([^"]+)" id="next-page"', html)
        url = m.group(1).replace("&amp;", "&") if m else None
        assert pages < 50
    return seen, pages


def test_keyset_paging_has_no_duplicates_and_misses_nothing(app, web):
    ids = [start(app, "instant_issuance", "window") for _ in range(30)]
    with db(app) as s:
        tasks = list(s.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids))
                               .order_by(HumanTask.id)))
        # due dates with ties and gaps, and tasks without one (sorted last)
        base = deadline_in(3)
        for n, task in enumerate(tasks[:20]):
            task.due_at = base + timedelta(days=n % 4)
        s.commit()
        expected = {t.id for t in tasks}
    assert len(expected) == 30
    web.login("window")
    # by due date (the column sort): the default order puts instant-issuance cases (the
    # applicant waits at the window) first in arrival order, tests/web/test_inbox_experience.py
    seen, pages = _follow_pages(web, "/inbox?scope=group&sort=due")
    assert pages == 2 and len(seen) == len(set(seen)) == 30 and set(seen) == expected
    first_page = task_rows(web.get("/inbox?scope=group&sort=due").get_data(as_text=True))
    assert len(first_page) == 25

    app.config["PAGE_SIZE"] = 4  # many pages, page borders inside runs of equal due dates
    seen, pages = _follow_pages(web, "/inbox?scope=group&sort=due")
    assert pages == 8 and len(seen) == len(set(seen)) == 30 and set(seen) == expected
    # sorted by due date (none last), then id
    with db(app) as s:
        due = {t.id: t.due_at for t in s.scalars(select(HumanTask).where(HumanTask.id.in_(expected)))}
    assert seen == sorted(seen, key=lambda i: (due[i] is None, due[i] or base, i))


def test_paging_keeps_the_filters(app, web):
    ids = [start(app, "instant_issuance", "window") for _ in range(6)]
    app.config["PAGE_SIZE"] = 4
    web.login("window")
    html = web.get("/inbox?scope=group&process=instant_issuance").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="next-page"', html).group(1)
    assert "process=instant_issuance" in link and "scope=group" in link
    seen, _ = _follow_pages(web, "/inbox?scope=group&process=instant_issuance")
    assert sorted(seen) == sorted(open_task(app, i).id for i in ids)


def test_a_tampered_cursor_gives_an_empty_page_not_an_error(app, web):
    start(app, "instant_issuance", "window")
    web.login("window")
    for cursor in ("garbage", "2026-13-45|1", "|x", "|"):
        r = web.get(f"/inbox?scope=group&after={cursor}")
        assert r.status_code == 200, cursor


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example"])
def test_claim_does_not_redirect_off_site(app, web, target):
    task = open_task(app, start(app, "instant_issuance", "window"))
    web.login("window")
    r = web.post(f"/tasks/{task.id}/claim", {"next": target}, page="/inbox")
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{task.id}"
    assert open_task(app, task.instance_id).assignee_name == "窗口经办 陈敏"


def test_deadline_filter_when_next_year_is_missing_still_filters(app, web):
    """At the end of December the "at risk" horizon (3 working days) may need next year's
    calendar: deadlines still known all fall before it, so the filter works without refusing
    (the instant-issuance task, which has no deadline, is not "at risk")."""
    task = open_task(app, start(app, "instant_issuance", "window"))
    year = make_next_year_missing(app)
    web.login("window")
    r = web.get("/inbox?scope=group&deadline=at_risk")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert not any(f"{year} 年的法定节假日安排尚未录入" in m for m in flashes(html))
    assert task_rows(html) == []
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == [task.id]
