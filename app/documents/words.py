"""Words the paper forms print 单据用语: counts in Chinese (三家银行), lists (工商银行、建设银行和
中国银行), dates (2026年7月1日), the 18 boxes of an ID number, masked numbers."""
from __future__ import annotations

from datetime import date

from app.common import masking

_DIGITS = "〇一二三四五六七八九"

#: boxes of a citizen ID number on the forms (GB 11643: 18 characters)
ID_BOXES = 18


def count(n: int) -> str:
    """一 ... 十 for the small counts of the text (两 for 2: 两家银行)."""
    if n == 2:
        return "两"
    if 0 <= n <= 10:
        return "十" if n == 10 else _DIGITS[n]
    return str(n)


def enumerate_zh(items) -> str:
    """A、B和C."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


def id_boxes(value: str | None) -> list[str]:
    """The characters of an ID number in its 18 boxes (empty boxes to fill in by hand)."""
    chars = list((value or "").strip())[:ID_BOXES]
    return chars + [""] * (ID_BOXES - len(chars))


def date_zh(d: date | None) -> str:
    if d is None:
        return ""
    return f"{d.year}年{d.month}月{d.day}日"


def mask_id(value) -> str:
    """350581********1311 (the platform's one rule, app.common.masking)."""
    return masking.mask_id(value) if value else ""


def mask_card(value) -> str:
    """B7K****74."""
    return masking.mask_card_number(value) if value else ""
