"""Route permissions 路由权限: who may call a route, declared next to it and enforced here.

Every route of the app carries one declaration (``tests/test_authorization_matrix.py`` fails
for a route without one, and calls every route as every role):

- ``@public``: no sign-in (the sign-in page, static files, the health check);
- ``@signed_in``: any signed-in user (their own inbox, profile, ...);
- ``@groups("manager", ...)``: members of these groups (administrators always), enforced here;
- ``@case_data``: a case's data: the view checks the one rule of ``app.cases.access`` (role
  by the case's lanes and the case's office) on the case it finds, and answers 403 or 404;
- ``@task_work``: work on a task (claim, release, complete): the engine's candidate rule
  (``app.engine.tasks.is_candidate``: the task's group at its case's office, or its assignee);
- ``@station``: the card station's token (``app.api.auth.require_station``).

Signing in itself is checked for every route but the public ones (``app.web`` for pages and
``app.api.auth`` for API tokens): a declaration only narrows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

PUBLIC, SIGNED_IN, GROUPS, CASE_DATA, TASK_WORK, STATION = (
    "public", "signed_in", "groups", "case_data", "task_work", "station")
ALWAYS = "administrator"  # administrators pass every group check


@dataclass(frozen=True)
class Access:
    kind: str
    groups: tuple[str, ...] = ()


def access_of(view: Callable) -> Access | None:
    """The declaration of a view function (None: undeclared)."""
    return getattr(view, "sscard_access", None)


def _declare(view: Callable, access: Access) -> Callable:
    view.sscard_access = access
    return view


def public(view: Callable) -> Callable:
    return _declare(view, Access(PUBLIC))


def signed_in(view: Callable) -> Callable:
    return _declare(view, Access(SIGNED_IN))


def case_data(view: Callable) -> Callable:
    return _declare(view, Access(CASE_DATA))


def task_work(view: Callable) -> Callable:
    return _declare(view, Access(TASK_WORK))


def station(view: Callable) -> Callable:
    return _declare(view, Access(STATION))


def request_user():
    """The signed-in user of this request: the page session's, or the API token's."""
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user
    return current_user if current_user.is_authenticated else None


def groups(*names: str):
    """Members of ``names`` (and administrators) only; others get 403."""
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(*args, **kwargs):
            user = request_user()
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if not user.in_group(*names, ALWAYS):
                abort(403)
            return view(*args, **kwargs)
        return _declare(inner, Access(GROUPS, tuple(names)))
    return wrap
