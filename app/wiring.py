"""Plugging the platform into the engine (装配): its task forms and working-day calendar go
through the interfaces of ``app.engine.ports``. Called once by the app factory, the standalone
scheduler and the tests; idempotent."""
from __future__ import annotations

import forms as _task_forms  # noqa: F401  (importing the package registers the built-in forms)
from app.engine import ports
from app.sla.overrides import calendar_for
from forms.base import validate_data
from forms.registry import get_form, has_form


class TaskForms:
    """``app.engine.ports.Forms`` over the WTForms task forms of ``forms/``."""

    def has_form(self, key: str) -> bool:
        return has_form(key)

    def validate(self, key: str, data: dict):
        form, errors = validate_data(get_form(key), data or {})
        return (None, errors) if errors else (form.cleaned(), {})


def configure_engine() -> None:
    ports.configure(calendar=calendar_for, forms=TaskForms())
