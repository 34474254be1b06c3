"""Imports every module that defines tables, so Base.metadata is complete (Alembic, tests)."""
import importlib

MODEL_MODULES = ("app.auth.models", "app.sla.models", "app.engine.models", "app.cards.models",
                 "app.adapters.police")


def load_all():
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from app.db import Base
    return Base.metadata
