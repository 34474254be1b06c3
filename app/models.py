"""Imports every module that defines tables, so Base.metadata is complete (Alembic, tests)."""
import importlib

MODEL_MODULES = ("app.auth.models", "app.sla.models", "app.engine.models", "app.cards.models",
                 "app.adapters.models")


def load_all():
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:  # a module not written yet (or optional)
            if not name.startswith(e.name or "?"):
                raise
    from app.db import Base
    return Base.metadata
