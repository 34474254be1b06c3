"""Words the paper forms print 单据用语: sex and ethnicity in words (the batch family's codes);
counts in Chinese, lists, dates and the 18 boxes of an ID number come from the document kit."""
from __future__ import annotations

from app.documents.words import ID_BOXES, count, date_zh, enumerate_zh, id_boxes
from forms.choices import ETHNICITIES

__all__ = ["ID_BOXES", "SEXES", "count", "date_zh", "enumerate_zh", "ethnicity", "id_boxes", "sex"]

SEXES = {"1": "男", "2": "女"}
_ETHNICITIES = {code: str(label.zh) for code, label in ETHNICITIES}


def sex(code: str | None) -> str:
    return SEXES.get(code or "", code or "")


def ethnicity(code: str | None) -> str:
    return _ETHNICITIES.get(code or "", code or "")
