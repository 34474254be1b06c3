"""The clerk's inbox shows the waiting work (clerk-experience issue, items 3, 7 and 8c):
counts on both tabs, the tab with work opens first, the applicant waiting at the window
first, column sorts both ways with keyset paging, the next task stays the clerk's; menus
without dead ends; "put back for the group" instead of "退回"."""
import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.engine.models import HumanTask, ProcessInstance
from tests.api import (  # noqa: F401
    app,
    application_json,
    application_post,
    complete,
    db,
    deadline_in,
    open_task,
    start,
)


def task_rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="task-row" data-task="(\d+)"', html)]


def page(web, url: str) -> str:
    r = web.get(url)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def count(html: str, scope: str) -> int:
    return int(re.search(rf'id="count-{scope}">\((\d+)\)</span>', html).group(1))


def active_tab(html: str) -> str:
    return re.search(r'class="tag on_time" id="tab-(\w+)"', html).group(1)


def sentences(html: str) -> list[str]:
    """The case history's lines."""
    return [htmllib.unescape(m) for m in re.findall(r'<td class="sentence">([^<]*)</td>', html)]


def follow_pages(web, first: str) -> list[int]:
    seen, url, pages = [], first, 0
    while url:
        html = page(web, url)
        seen += task_rows(html)
        m = re.search(r'href="([^"]+)" id="next-page"', html)
        url = htmllib.unescape(m.group(1)) if m else None
        pages += 1
        assert pages < 50
    return seen


def outlet_case_at_production(app, person: str) -> int:
    """An outlet application accepted at the outlet: a produce_card task of the windows."""
    instance_id = start(app, "outlet_application", "outlet")
    complete(app, open_task(app, instance_id).id, application_json(person), "outlet")
    assert open_task(app, instance_id).task_name == "produce_card"
    return instance_id


# -- counts and the default tab ---------------------------------------------------------------

def test_both_tabs_show_their_counts_with_the_lists_conditions(app, web):
    mine_case, *group_cases = [start(app, "instant_issuance", "window") for _ in range(3)]
    start(app, "instant_issuance", "window_abc")  # another window's queue: not counted
    web.login("window")
    mine_task = open_task(app, mine_case)
    assert web.post(f"/tasks/{mine_task.id}/claim", {}, page="/inbox").status_code == 302

    for url in ("/inbox", "/inbox?scope=mine", "/inbox?scope=group"):
        html = page(web, url)
        assert (count(html, "mine"), count(html, "group")) == (1, 2), url
    assert task_rows(page(web, "/inbox?scope=mine")) == [mine_task.id]
    assert sorted(task_rows(page(web, "/inbox?scope=group"))) == \
        sorted(open_task(app, i).id for i in group_cases)
    # the counts are of the whole tab (a tab link opens it without filters)
    html = page(web, "/inbox?scope=group&process=outlet_application")
    assert task_rows(html) == [] and count(html, "group") == 2
    assert 'My tasks <span class="count" id="count-mine">(1)</span>' in page(web, "/inbox?lang=en")


def test_the_inbox_opens_on_the_tab_with_work(app, web):
    web.login("window")
    assert active_tab(page(web, "/inbox")) == "mine"  # nothing anywhere: my tasks

    first = start(app, "instant_issuance", "window")
    html = page(web, "/inbox")  # three tasks waiting for the group, none of mine
    assert active_tab(html) == "group" and task_rows(html) == [open_task(app, first).id]

    second = open_task(app, start(app, "instant_issuance", "window"))
    web.post(f"/tasks/{second.id}/claim", {}, page="/inbox")
    html = page(web, "/inbox")  # something of mine: mine first
    assert active_tab(html) == "mine" and task_rows(html) == [second.id]
    # asked for, a tab opens even when empty
    web.post(f"/tasks/{second.id}/release", {}, page=f"/tasks/{second.id}")
    assert active_tab(page(web, "/inbox?scope=mine")) == "mine"
    assert task_rows(page(web, "/inbox?scope=mine")) == []


# -- the applicant waiting first, and column sorts --------------------------------------------------

def test_the_applicant_waiting_at_the_window_comes_first(app, web):
    """Instant issuance (立等可取) has no due date, and sorted last by due date; the applicant
    stands at the counter, so the default order puts those cases first, in arrival order."""
    outlet = [outlet_case_at_production(app, p) for p in ("chen_xiuying", "wang_jianguo", "huang_lihua")]
    with db(app) as s:  # one of the outlet's cases is overdue: still after the waiting applicants
        s.execute(update(ProcessInstance).where(ProcessInstance.id == outlet[0])
                  .values(deadline_at=deadline_in(-30)))
        s.commit()
    waiting = [start(app, "instant_issuance", "window") for _ in range(2)]
    waiting_tasks = [open_task(app, i).id for i in waiting]
    outlet_tasks = [open_task(app, i).id for i in outlet]
    with db(app) as s:
        due = {t.id: t.due_at for t in s.scalars(select(HumanTask).where(HumanTask.id.in_(outlet_tasks)))}
    web.login("window")

    html = page(web, "/inbox")
    rows = task_rows(html)
    assert rows[:2] == waiting_tasks and sorted(rows[2:]) == sorted(outlet_tasks)
    assert rows[2:] == sorted(outlet_tasks, key=lambda i: (due[i] is None, due[i] or deadline_in(0), i))
    for task_id in waiting_tasks:
        row = re.search(rf'data-task="{task_id}">(.*?)</tr>', html, re.S).group(1)
        assert "立等可取 · 申请人在窗口等候" in row
    row = re.search(rf'data-task="{outlet_tasks[1]}">(.*?)</tr>', html, re.S).group(1)
    assert "申请人在窗口等候" not in row
    assert "Instant issuance · applicant waiting" in page(web, "/inbox?lang=en")

    # the keyset cursor carries the order across pages: nothing twice, nothing missed
    app.config["PAGE_SIZE"] = 2
    assert follow_pages(web, "/inbox?scope=group") == rows
    # the due-date column sort is the plain one: no due date last
    assert follow_pages(web, "/inbox?scope=group&sort=due")[-2:] == waiting_tasks


def test_columns_sort_by_received_and_due_both_ways_across_pages(app, web):
    ids = [start(app, "instant_issuance", "window") for _ in range(7)]
    with db(app) as s:
        tasks = list(s.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids)).order_by(HumanTask.id)))
        base = tasks[0].created_at
        # received times with ties and out of id order; due dates with ties, two without one
        for n, task in enumerate(tasks):
            task.created_at = base - timedelta(minutes=[5, 1, 5, 3, 0, 1, 9][n])
            task.due_at = None if n in (2, 5) else deadline_in([4, 2, 0, 2, 6, 0, 3][n])
        s.commit()
        received = {t.id: t.created_at for t in tasks}
        due = {t.id: t.due_at for t in tasks}
    all_ids = sorted(received)
    by_received = sorted(all_ids, key=lambda i: (received[i], i))
    dated = sorted((i for i in all_ids if due[i]), key=lambda i: (due[i], i))
    undated = [i for i in all_ids if due[i] is None]
    expected = {
        "received": by_received,
        "-received": by_received[::-1],
        "due": dated + undated,
        "-due": dated[::-1] + undated[::-1],  # no due date last either way
    }
    web.login("window")
    for page_size in (25, 3, 1):
        app.config["PAGE_SIZE"] = page_size
        for sort, order in expected.items():
            assert follow_pages(web, f"/inbox?scope=group&sort={sort}") == order, (sort, page_size)
    # the sort survives the filter form and the tabs
    app.config["PAGE_SIZE"] = 25
    html = page(web, "/inbox?scope=group&sort=-received")
    assert '<input type="hidden" name="sort" value="-received">' in html
    assert re.search(r'href="/inbox\?scope=mine&amp;sort=-received" [^>]*id="tab-mine"', html)


def test_column_headers_link_to_their_sort_and_back(app, web):
    start(app, "instant_issuance", "window")
    web.login("window")
    link = lambda html, column: htmllib.unescape(  # noqa: E731
        re.search(rf'href="([^"]+)" id="sort-{column}">([^<]*)</a>', html).group(1))
    html = page(web, "/inbox?scope=group")
    assert "sort=due" in link(html, "due") and "sort=received" in link(html, "received")
    assert 'id="sort-urgent"' not in html  # the default order
    html = page(web, link(html, "due"))
    assert "sort=-due" in link(html, "due") and "到期 ↑" in html
    html = page(web, link(html, "due"))
    assert "到期 ↓" in html and "sort=due" in link(html, "due")
    default = re.search(r'href="([^"]+)" id="sort-urgent"', html).group(1)
    assert "sort=" not in default and "scope=group" in default
    html = page(web, "/inbox?scope=group&sort=received")
    assert "sort=-received" in link(html, "received") and "收到时间 ↑" in html
    assert page(web, "/inbox?scope=group&sort=nonsense")  # an unknown sort: the default order


# -- the task a clerk starts stays theirs ---------------------------------------------------------------

def test_the_first_task_and_the_correction_stay_with_the_clerk(app, web):
    """张伟 writes 张伟, the police register says 张玮: the correction comes back to the clerk
    who took the application, claimed for them (in "my tasks" if they step away)."""
    web.login("window")
    r = web.post("/start", {"process": "instant_issuance"}, page="/start")
    first_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with db(app) as s:
        first = s.get(HumanTask, first_id)
        assert first.assignee_name == "窗口经办 陈敏"  # cases.start claims the first task
        instance_id = first.instance_id
    r = web.post(f"/tasks/{first_id}", application_post("zhang_wei"), page=f"/tasks/{first_id}")
    correction = open_task(app, instance_id)
    assert correction.task_name == "correct_data"
    assert r.headers["Location"] == f"/tasks/{correction.id}"
    assert correction.assignee_name == "窗口经办 陈敏"
    assert task_rows(page(web, "/inbox?scope=mine")) == [correction.id]
    assert task_rows(page(web, "/inbox?scope=group")) == []
    with db(app) as s:
        assert s.get(HumanTask, correction.id).claimed_at is not None


def test_a_next_task_of_another_group_is_not_claimed(app, web):
    """The outlet accepts; the card is produced at the window: the outlet clerk goes to the
    case page, and the window's task stays up for the window clerks."""
    web.login("outlet")
    r = web.post("/start", {"process": "outlet_application"}, page="/start")
    first_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = web.post(f"/tasks/{first_id}", application_post("chen_xiuying"), page=f"/tasks/{first_id}")
    with db(app) as s:
        instance_id = s.get(HumanTask, first_id).instance_id
    produce = open_task(app, instance_id)
    assert produce.task_name == "produce_card" and produce.assignee_id is None
    assert r.headers["Location"] == f"/cases/{instance_id}"


# -- menus ----------------------------------------------------------------------------------------------

NAV = ("nav-start", "nav-sla", "nav-calendar", "nav-sms", "nav-processes", "nav-operations", "nav-drafts")


def nav_links(html: str) -> dict[str, str]:
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S).group(1)
    return {id_: href for href, id_ in re.findall(r'<a href="([^"]+)" id="(nav-[\w-]+)"', nav)}


@pytest.mark.parametrize("username, shown", [
    ("window", {"nav-start", "nav-sms"}),
    ("outlet", {"nav-start", "nav-sms"}),
    ("manager", {"nav-sla", "nav-calendar", "nav-sms", "nav-drafts"}),
    ("analyst", {"nav-processes", "nav-operations", "nav-drafts"}),
    ("reviewer", set()),
    ("admin", set(NAV)),
])
def test_the_menu_shows_only_links_the_user_can_use(app, web, username, shown):
    web.login(username)
    links = nav_links(page(web, "/inbox"))
    assert {k for k in links if k in NAV} == shown
    for id_, href in links.items():  # no dead end: every link opens, and 受理业务 offers something
        html = page(web, href)
        if id_ == "nav-start":
            assert "您的岗位没有可发起的业务。" not in html


def test_the_managers_menu_has_no_start_link_but_the_window_clerks_has(app, web):
    web.login("manager")
    html = page(web, "/inbox")
    assert 'id="nav-start"' not in html and "受理业务" not in html
    web.post("/logout", {}, page="/inbox")
    web.login("window")
    html = page(web, "/inbox")
    assert '<a href="/start" id="nav-start">受理业务</a>' in html


def test_the_profile_page_links_to_change_password(app, web):
    web.login("window")
    html = page(web, "/profile")
    assert '<a href="/password" id="change-password">修改密码</a>' in html
    assert page(web, "/password")
    assert '<a href="/password" id="change-password">Change password</a>' in page(web, "/profile?lang=en")


# -- wording: put back for the group, not 退回 ---------------------------------------------------------------

def test_putting_a_task_back_for_the_group_is_worded_so_in_chinese_and_english(app, web):
    instance_id = start(app, "instant_issuance", "window")
    task = open_task(app, instance_id)
    web.login("window")
    web.post(f"/tasks/{task.id}/claim", {}, page="/inbox?scope=group")
    html = page(web, f"/tasks/{task.id}")
    assert re.search(r'id="release">放回岗位组待他人领取</button>', html)
    assert "退回岗位组" not in html
    assert web.post(f"/tasks/{task.id}/release", {}, page=f"/tasks/{task.id}").status_code == 302
    history = sentences(page(web, f"/cases/{instance_id}"))
    assert "窗口经办 陈敏 将「受理：填写申领表」放回岗位组待他人领取" in history
    assert not [line for line in history if "退回" in line]

    web.get("/lang/en")
    web.post(f"/tasks/{task.id}/claim", {}, page="/inbox?scope=group")
    html = page(web, f"/tasks/{task.id}")
    assert re.search(r'id="release">Put back for the group</button>', html)
    history = sentences(page(web, f"/cases/{instance_id}"))
    assert [line for line in history if re.fullmatch(r".+ put “[^”]+” back for the group", line)]
    assert not [line for line in history if "released" in line]
