"""Words the paper forms print 单据用语: sex and ethnicity in words, counts in Chinese (三家银行),
lists of banks (工商银行、建设银行和中国银行), the 18 boxes of an ID number."""
from __future__ import annotations

from datetime import date

from forms.choices import ETHNICITIES

SEXES = {"1": "男", "2": "女"}
_ETHNICITIES = {code: str(label.zh) for code, label in ETHNICITIES}
_DIGITS = "〇一二三四五六七八九"

#: boxes of a citizen ID number on the forms (GB 11643: 18 characters)
ID_BOXES = 18


def sex(code: str | None) -> str:
    return SEXES.get(code or "", code or "")


def ethnicity(code: str | None) -> str:
    return _ETHNICITIES.get(code or "", code or "")


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


def date_zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
