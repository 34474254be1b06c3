"""The authorization matrix 权限矩阵, generated from the app's routes: every route x every
method x anonymous x every demo role x a clerk of another office, checked against the
declaration next to the route (``app.permissions``). A route without a declaration fails.

Requests carry a CSRF token (pages) or the user's API token, and empty bodies, so allowed
calls are refused by validation rather than changing the sample case much; the check is on
who gets through, and that nobody gets a server error.
"""
from __future__ import annotations



from app.cases.access import may_view_case
from app.engine.models import ProcessInstance
from app.auth.service import actor_of
from app.engine import runtime
from app.engine.models import HumanTask
from app.permissions import CASE_DATA, GROUPS, PUBLIC, SIGNED_IN, STATION, TASK_WORK, access_of
from tests.api import app, bearer, db, open_task, start, token, user  # noqa: F401

USERS = ("window", "window_abc", "outlet", "centre", "reviewer", "manager", "analyst", "admin")
ANONYMOUS = None
SKIP_METHODS = {"HEAD", "OPTIONS"}


def routes(flask_app):
    for rule in flask_app.url_map.iter_rules():
        for method in sorted(rule.methods - SKIP_METHODS):
            yield rule, method


def test_every_route_declares_who_may_call_it(app):
    undeclared = sorted({rule.endpoint for rule, _ in routes(app)
                         if access_of(app.view_functions[rule.endpoint]) is None})
    assert undeclared == [], f"routes without an app.permissions declaration: {undeclared}"


def _url(rule, sample: dict) -> str:
    values = {}
    for name in rule.arguments:
        if name in sample:
            values[name] = sample[name]
        elif rule._converters[name].__class__.__name__.lower().startswith("integer"):
            values[name] = 999999  # no such row: 404 for whoever may ask
        elif name == "code":
            values[name] = "en"
        elif name == "filename":
            values[name] = "style.css"
        else:
            values[name] = "1"
    return rule.build(values, append_unknown=False)[1]


def _clients(flask_app):
    """A signed-in test client (pages) and an API token per user; one anonymous client."""
    from tests.fixtures_app import Browser
    clients = {ANONYMOUS: (Browser(flask_app.test_client()), None)}
    for username in USERS:
        web = Browser(flask_app.test_client())
        assert web.login(username).status_code == 302, username
        clients[username] = (web, token(flask_app, username))
    return clients


def _call(web, secret, method, url):
    if url.startswith("/api/"):
        headers = bearer(secret) if secret else {}
        return web.client.open(url, method=method, json={}, headers=headers)
    data = {}
    if method not in ("GET", "HEAD"):  # a valid CSRF token, as a browser's form has
        data["csrf_token"] = web.csrf("/profile" if secret else "/login")
    return web.client.open(url, method=method, data=data)


def _signed_out_answer(response, url) -> bool:
    if url.startswith("/api/"):
        return response.status_code in (401, 403)
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def test_the_matrix(app):
    case_id = start(app, "instant_issuance", "window")  # a case of the ICBC window
    sample = {"instance_id": case_id, "task_id": open_task(app, case_id).id}
    clients = _clients(app)
    with db(app) as s:
        case = s.get(ProcessInstance, case_id)
        may_see = {u: may_view_case(s, user(s, u), case) for u in USERS}
        groups_of = {u: user(s, u).group_names for u in USERS}
        ids = {user(s, u).id: u for u in USERS}
    assert may_see["window"] and not may_see["window_abc"]  # the other office's clerk

    def may_work(username: str) -> bool:
        """The engine's candidate rule, now (an earlier call may have claimed the task)."""
        with db(app) as s:
            return runtime.may_work_on(s.get(HumanTask, sample["task_id"]), actor_of(user(s, username)))

    def assignee() -> str | None:
        with db(app) as s:
            task = s.get(HumanTask, sample["task_id"])
            return ids.get(task.assignee_id)

    problems, calls = [], 0
    for rule, method in routes(app):
        access = access_of(app.view_functions[rule.endpoint])
        url = _url(rule, sample)
        for username, (web, secret) in clients.items():
            allowed_before = access.kind == TASK_WORK and username is not ANONYMOUS and may_work(username)
            r = _call(web, secret, method, url)
            calls += 1
            code = r.status_code
            where = f"{method} {url} as {username or 'anonymous'}: {code}"
            if code >= 500:
                problems.append(f"server error: {where}")
                continue
            if url == "/logout" and username is not ANONYMOUS:
                assert web.login(username).status_code == 302  # signed out: sign in again
            if access.kind == PUBLIC:
                ok = code != 403 and not _signed_out_answer(r, url)
            elif username is ANONYMOUS:
                ok = _signed_out_answer(r, url) or (access.kind == STATION and code in (401, 403))
            elif access.kind == STATION:
                ok = code in (401, 403)
            elif access.kind == SIGNED_IN:
                ok = code != 403
            elif access.kind == GROUPS:
                allowed = bool(groups_of[username] & {*access.groups, "administrator"})
                ok = (code != 403) if allowed else (code == 403)
            elif access.kind == CASE_DATA:
                ok = (code != 403) if may_see[username] else (code in (403, 404))
            elif access.kind == TASK_WORK:  # non-candidates never get through
                if allowed_before:
                    ok = code < 500
                else:  # refused: an error answer, or the page's message (the task not theirs)
                    ok = code in (403, 404, 409) or (code == 302 and assignee() != username)
            else:
                ok = False
            if not ok:
                problems.append(f"{access.kind}{list(access.groups) or ''}: {where}")
    print(f"authorization matrix: {calls} calls "
          f"({len(list(routes(app)))} route-methods x {len(clients)} users)")
    assert problems == [], "\n".join(problems)
