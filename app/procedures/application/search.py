"""Finding a case by its applicant 按申请人查找办件, and how lists describe it (the family's
``search``, ``subject`` and ``outcome`` hooks).

A clerk at the window is asked "where is my card?" by someone who knows their name, their ID
number (or its last digits), their mobile, maybe the card number or the application number on
the receipt. :func:`search` turns what was typed into a ``select`` of case ids; the case list
joins it with ``app.cases.access.visible_cases``, so nobody finds a case they may not see.

What is matched, on the application rows (``card_application``) and their cards:

- an application number (SQ + date + sequence), case-insensitive;
- a citizen ID number: all 18 characters, or its last 4 to 17;
- a mobile number (11 digits);
- a social security card number (9 characters) or the card's bank card number; also the old card
  a replacement 补卡 or exchange 换卡 was for;
- a name: any text that is not a number, as a part of the name (``施雅婷``, ``雅婷``).
"""
from __future__ import annotations

import re

from sqlalchemy import or_, select

from app.cards.models import Card
from app.common.i18n import T
from app.common.masking import mask_id
from app.procedures.application.models import Application
from app.procedures.application.reasons import REASONS
from app.procedures.application.states import (
    FINAL_APPLICATION_STATES,
    ApplicationStatus,
)

MIN_ID_DIGITS = 4    # fewer trailing digits find half the town
MAX_TEXT = 50

_ID_PART = re.compile(r"\d{3,17}[\dX]")      # the last 4..18 characters of an ID number
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CARD_NUMBER = re.compile(r"[0-9A-Z]{9}")
_BANK_CARD = re.compile(r"\d{16,19}")
_APPLICATION_NUMBER = re.compile(r"SQ\d{8,}")
_DIGITS = re.compile(r"\d+X?")


def normalise(text: str | None) -> str:
    """What was typed, without spaces (ID numbers are often read out in groups), upper case."""
    return re.sub(r"\s+", "", str(text or ""))[:MAX_TEXT].upper()


def search(session, text: str | None):
    """A ``select`` of the ids of cases whose application matches ``text``; None when nothing
    could match (empty text)."""
    key = normalise(text)
    if not key:
        return None
    conditions = []
    if _APPLICATION_NUMBER.fullmatch(key):
        conditions.append(Application.number == key)
    if len(key) == 18 and _ID_PART.fullmatch(key):
        conditions.append(Application.id_number == key)
    elif len(key) >= MIN_ID_DIGITS and _ID_PART.fullmatch(key):
        conditions.append(Application.id_number.endswith(key, autoescape=True))
    if _MOBILE.fullmatch(key):
        conditions.append(Application.mobile == key)
    cards = []
    if _CARD_NUMBER.fullmatch(key):
        cards.append(Card.card_number == key)
    if _BANK_CARD.fullmatch(key):
        cards.append(Card.bank_card_number == key)
    if cards:
        conditions.append(Application.id.in_(
            select(Card.application_id).where(Card.application_id.is_not(None), or_(*cards))))
    if _CARD_NUMBER.fullmatch(key):
        conditions.append(Application.old_card_number == key)
    if not _DIGITS.fullmatch(key):  # a name (Chinese, or a foreigner's in Latin letters)
        name = re.sub(r"\s+", " ", str(text or "")).strip()[:MAX_TEXT]
        conditions.append(Application.name.contains(name, autoescape=True))
    if not conditions:
        return None
    return select(Application.instance_id).where(Application.instance_id.is_not(None),
                                                 or_(*conditions))


def subjects(session, instance_ids) -> dict[int, str]:
    """{case id: "name（masked ID number）"} for a page of cases: the newest application of
    each (the data as corrected, not as first typed)."""
    ids = [i for i in instance_ids if i is not None]
    if not ids:
        return {}
    rows = session.execute(select(Application.instance_id, Application.name, Application.id_number)
                           .where(Application.instance_id.in_(ids)).order_by(Application.id)).all()
    return {iid: f"{name}（{mask_id(number)}）" for iid, name, number in rows}


# -- how a case ended 办结结果 (the family's ``outcome`` hook) -------------------------------------

ISSUED, REFUSED, CANCELLED = "issued", "refused", "cancelled"
OUTCOME_LABELS = {
    ISSUED: T("已制发", "Card issued"),
    REFUSED: T("已终止", "Ended without a card"),
    CANCELLED: T("已撤销", "Cancelled"),
}
_ISSUED_STATES = (ApplicationStatus.HANDED_OVER, ApplicationStatus.PICKED_UP)


def reason_code(app: Application) -> tuple[str | None, T | None]:
    """(code, the clerk's own words or None) of why the application ended, read back from the
    stored text (``reasons.reason_texts``: the code's text, then "：" and the clerk's detail)."""
    zh, en = app.reason_zh or "", app.reason_en or ""
    for code, (code_zh, code_en) in REASONS.items():
        if zh == code_zh:
            return code, None
        if zh.startswith(code_zh + "："):
            detail_zh = zh[len(code_zh) + 1:]
            detail_en = en[len(code_en) + 2:] if en.startswith(code_en + ": ") else detail_zh
            return code, T(detail_zh, detail_en)
    return None, None


def outcome_of(app: Application | None) -> tuple[str, T, T | None] | None:
    """(kind, label, reason) of a finished application: issued; refused (checks failed, card
    production given up: the reason as stored); cancelled (the case was withdrawn: the
    clerk's reason). None while it runs."""
    if app is None or app.status not in FINAL_APPLICATION_STATES:
        return None
    if app.status in _ISSUED_STATES:
        return ISSUED, OUTCOME_LABELS[ISSUED], None
    code, detail = reason_code(app)
    if code == "case_cancelled":
        return CANCELLED, OUTCOME_LABELS[CANCELLED], detail
    reason = T(app.reason_zh, app.reason_en or app.reason_zh) if app.reason_zh else None
    return REFUSED, OUTCOME_LABELS[REFUSED], reason


def outcomes(session, instance_ids) -> dict[int, tuple[str, T, T | None]]:
    """{case id: (kind, label, reason)} for the finished applications among ``instance_ids``."""
    ids = [i for i in instance_ids if i is not None]
    if not ids:
        return {}
    rows = session.scalars(select(Application).where(Application.instance_id.in_(ids))
                           .order_by(Application.id)).all()
    found = {}
    for app in rows:  # the newest application of a case wins
        found[app.instance_id] = outcome_of(app)
    return {iid: o for iid, o in found.items() if o is not None}
