"""URL converters of the platform: ``<int:...>`` is bounded to database ids (2**63-1), so an
id beyond 64 bits in any URL (``/cases/99999999999999999999``) is a 404, not SQLite's
``OverflowError``."""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.common.ids import MAX_ID


class BoundedIntConverter(IntegerConverter):
    """Flask's ``int`` converter with ``max`` defaulting to the largest database id."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app: Flask) -> None:
    """Replace the built-in ``int`` converter; call before any blueprint registers its rules."""
    app.url_map.converters["int"] = BoundedIntConverter
