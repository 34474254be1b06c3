"""Database ids from the outside (编号校验): URL parts, form fields, query strings, JSON bodies.

Ids are positive 64-bit integers (SQLite's INTEGER, PostgreSQL's BIGINT); anything else, e.g.
"abc", "1.5", "-3", True or 99999999999999999999 (SQLite's ``OverflowError``), is not an id:

    parse_id("42") -> 42        parse_id(" 42 ") -> 42        parse_id(42) -> 42
    parse_id("abc") -> None     parse_id("99999999999999999999") -> None     parse_id(0) -> None
"""
from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest signed 64-bit integer
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value) -> int | None:
    """The id ``value`` stands for (1 .. 2**63-1), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        # ASCII digits only: str.isdigit() also takes "²" and other scripts' digits
        if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None
