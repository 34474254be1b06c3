"""Domain rules 业务规则 of card issuance, as plain functions on a session.

- one person, one live card in the province (一人一卡): ``live_card_of``; the database enforces
  it with a partial unique index, ``LiveCardExists`` is its clerk-readable face;
- the complete card data 完整制卡数据 for the chip (``build_chip_data``) and the card face;
- dates: issue today (China time), expiry after ten years.
Nothing here commits: the caller's step owns the transaction.
"""
from __future__ import annotations

import secrets
from datetime import date

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.states import LIVE_CARD_STATES
from app.common.clock import china_today
from app.common.errors import BilingualError
from hardware import profile

REGION_CODE = "350581"         # 石狮市: issuing region of the card identifier
CARD_TYPE = "3"                # 卡类别: third-generation card
SPEC_VERSION = "3.00"          # 规范版本
INIT_ORG = "350581000001"      # 初始化机构编号 (12 digits)
VALID_YEARS = 10               # 卡有效期
ISSUER = "福建省人力资源和社会保障厅"  # printed on the card face


class Applicant(Protocol):
    """What the card data is made from: any family's row for the person (e.g. an application)."""
    id_number: str
    name: str
    sex: str
    ethnicity: str
    birth_date: date


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class LiveCardExists(BilingualError):
    """The person already holds a live card (number assigned ... temporarily lost)."""

    code = "live_card_exists"
    message_zh = "该公民身份号码在本省已有有效社保卡（或正在制卡），一人只能持有一张社保卡"
    message_en = ("This citizen ID number already has a live card in the province (or one in "
                  "production); one person holds one card")


def live_card_of(session: Session, ssn: str, for_update: bool = False) -> Card | None:
    """The person's live card in the province, if any (at most one, by the unique index)."""
    query = select(Card).where(Card.ssn == ssn.upper(), Card.status.in_(LIVE_CARD_STATES))
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def random_card_identifier(region_code: str = REGION_CODE) -> str:
    """卡识别码 without asking the database (bulk: the unique index refuses the rare clash of
    8 random bytes); ``region_code`` other than 6 digits gives the platform's region."""
    region = region_code if region_code and region_code.isdigit() and len(region_code) == 6 else REGION_CODE
    return profile.make_card_identifier(region, secrets.token_bytes(8)).hex().upper()


def new_card_identifier(session: Session, region_code: str = REGION_CODE) -> str:
    """卡识别码 as upper-case hex: region BCD + D156000005 + 8 random bytes, unique."""
    for _ in range(10):
        ident = profile.make_card_identifier(region_code, secrets.token_bytes(8)).hex().upper()
        if session.scalar(select(Card.id).where(Card.card_identifier == ident)) is None:
            return ident
    raise RuntimeError("could not draw a unique card identifier")


def build_chip_data(app: Applicant, card_number: str, card_identifier: str,
                    issue_date: date | None = None) -> dict:
    """The complete card data for the chip (keys of ``hardware.profile.FIELDS``), checked
    against the card profile: raises ``hardware.errors.ProfileError`` listing every problem
    (e.g. a name GBK cannot encode)."""
    issued = issue_date or china_today()
    ssn = app.id_number.upper()
    data = {
        "card_identifier": card_identifier,
        "card_type": CARD_TYPE,
        "spec_version": SPEC_VERSION,
        "init_org": INIT_ORG,
        "issue_date": issued.isoformat(),
        "expiry_date": add_years(issued, VALID_YEARS).isoformat(),
        "card_number": card_number,
        "ssn": ssn,
        "name": app.name,
        "sex": app.sex,
        "ethnicity": (app.ethnicity or "").zfill(2),
        "birthplace": ssn[:6],  # 出生地: the ID number's region code
        "birth_date": app.birth_date.isoformat(),
    }
    profile.encode_card(data)  # validates every field and the consistency of the whole
    return data


def card_face(card: Card, bank: str) -> dict:
    """What the printer needs besides the chip data (``hardware.printer.CardFace``); the
    photo is added when the job is handed to the station (it is not kept in the job row)."""
    return {"name": card.name, "ssn": card.ssn, "card_number": card.card_number,
            "issue_date": card.issue_date.isoformat() if card.issue_date else None,
            "bank": bank, "issuer": ISSUER}
