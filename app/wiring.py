"""Plugging the platform together (装配), the one place every process starts from (the app
factory, the standalone scheduler, Alembic, the tests): the kernel's tables, the procedure
families (their tables, operations, task forms and rounds, from ``app.procedures.FAMILIES``),
and the engine's ports (task forms and the working-day calendar, ``app.engine.ports``).
Idempotent."""
from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from app.database import Base
from app.engine import ports
from app.procedures import Family, load_families
from app.sla.overrides import calendar_for
from forms.base import validate_data
from forms.registry import get_form, has_form

#: Tables of the platform itself; each family brings its own in its manifest's ``modules``.
PLATFORM_TABLES = ("app.auth.models", "app.engine.models", "app.engine.jobs", "app.sla.models", "app.cards.models",
                   "app.adapters.police", "app.adapters.sms", "app.adapters.manufacturer",
                   "app.adapters.province")


class TaskForms:
    """``app.engine.ports.Forms`` over the WTForms task forms of ``forms/``."""

    def has_form(self, key: str) -> bool:
        return has_form(key)

    def validate(self, key: str, data: dict):
        form, errors = validate_data(get_form(key), data or {})
        return (None, errors) if errors else (form.cleaned(), {})


def load_all() -> MetaData:
    """Every table of the platform and its families (``Base.metadata`` complete)."""
    for name in PLATFORM_TABLES:
        importlib.import_module(name)
    load_families()
    return Base.metadata


def configure_engine() -> list[Family]:
    """Load everything and plug the forms and the calendar into the engine; the families."""
    load_all()
    ports.configure(calendar=calendar_for, forms=TaskForms())
    return load_families()
