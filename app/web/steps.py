"""The sequence every page that runs an engine step follows (办理一步): run it; on success say
so; when it was refused roll back and tell the clerk why — 403 for "not yours", 404 for "no
such thing", otherwise the engine's words on the next page. Then go on to ``back``."""
from __future__ import annotations

from typing import Callable

from flask import abort, flash, redirect

from app.cases.errors import STEP_ERRORS, case_errors
from app.extensions import db_session


def page_step(run: Callable[[], object], back: str, done: str | None = None):
    """Run ``run()`` (an engine step) and redirect to ``back`` with the outcome flashed."""
    try:
        run()
    except STEP_ERRORS as e:
        db_session().rollback()
        kind = getattr(e, "kind", None)
        if kind == "forbidden":
            abort(403)
        if kind == "not_found":
            abort(404)
        flash(case_errors(e))
        return redirect(back)
    if done:
        flash(done)
    return redirect(back)
