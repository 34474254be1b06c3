"""Demo data 演示数据: the Shishi service points, blank-card stock, people already holding a
card, and the police register (``app.adapters.demo``). ``seed_demo`` is idempotent: run it
as often as you like; it only adds what is missing and never commits.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.adapters.demo import BY_KEY, seed_police_register
from app.cards.models import BlankCard, Card, ServicePoint
from app.cards.rules import CARD_TYPE, INIT_ORG, REGION_CODE, SPEC_VERSION, add_years
from app.cards.states import BlankCardStatus, CardStatus, ServicePointKind
from hardware.profile import make_card_identifier

ICBC = "中国工商银行石狮支行"
ABC = "中国农业银行石狮支行"
ICBC_WINDOW = "ICBC-SS"
ABC_WINDOW = "ABC-SS"
OUTLET = "BAOGAI"
CENTRE = "SS-CENTRE"

SERVICE_POINTS = [
    {"code": ICBC_WINDOW, "name": "工商银行石狮支行制卡窗口", "kind": ServicePointKind.WINDOW,
     "bank": ICBC},
    {"code": ABC_WINDOW, "name": "农业银行石狮支行制卡窗口", "kind": ServicePointKind.WINDOW,
     "bank": ABC},
    {"code": OUTLET, "name": "宝盖镇代办网点", "kind": ServicePointKind.OUTLET,
     "window_code": ICBC_WINDOW},
    {"code": CENTRE, "name": "石狮市社会保障卡服务中心", "kind": ServicePointKind.CENTRE},
]

BLANK_CARDS_PER_WINDOW = 20
# BIN + branch part of the 19-digit debit card numbers on the blank cards
BANK_PREFIX = {ICBC_WINDOW: ("6212261408", ICBC), ABC_WINDOW: ("6228481408", ABC)}

# People who already hold a card in the province (to exercise stopping the old card).
EXISTING_CARDS = [
    {"person": "li_minghui", "card_number": "B6C989166", "bank": ICBC,
     "bank_card_number": "6212261402000000015", "issue_date": date(2016, 3, 15)},
    {"person": "zheng_shuzhen", "card_number": "188347080", "bank": ABC,
     "bank_card_number": "6228481402000000023", "issue_date": date(2017, 9, 4)},
]


def luhn_complete(body: str) -> str:
    """``body`` plus its Luhn check digit (bank card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def blank_card_numbers(window: str, count: int = BLANK_CARDS_PER_WINDOW) -> list[str]:
    prefix, _ = BANK_PREFIX[window]
    return [luhn_complete(f"{prefix}{i:08d}") for i in range(1, count + 1)]


def seed_demo(session: Session) -> dict:
    """Add the demo rows that are missing; returns counts of what was added."""
    added = {"service_points": 0, "blank_cards": 0, "cards": 0}
    for point in SERVICE_POINTS:
        if session.scalar(select(ServicePoint.id).where(ServicePoint.code == point["code"])) is None:
            session.add(ServicePoint(**point))
            added["service_points"] += 1
    for window, (_, bank) in BANK_PREFIX.items():
        for number in blank_card_numbers(window):
            if session.scalar(select(BlankCard.id).where(BlankCard.bank_card_number == number)) is None:
                session.add(BlankCard(bank_card_number=number, bank=bank, window=window,
                                      status=BlankCardStatus.AVAILABLE))
                added["blank_cards"] += 1
    added["police_register"] = seed_police_register(session)
    for i, existing in enumerate(EXISTING_CARDS, start=1):
        if session.scalar(select(Card.id).where(Card.card_number == existing["card_number"])):
            continue
        person = BY_KEY[existing["person"]]
        issued = existing["issue_date"]
        session.add(Card(
            card_number=existing["card_number"], ssn=person["id_number"], name=person["name"],
            sex=person["sex"], ethnicity=person["ethnicity"], birthplace=person["id_number"][:6],
            birth_date=person["birth_date"], region_code=REGION_CODE,
            card_identifier=make_card_identifier(REGION_CODE, i.to_bytes(8, "big")).hex().upper(),
            card_type=CARD_TYPE, spec_version=SPEC_VERSION, init_org=INIT_ORG,
            issue_date=issued, expiry_date=add_years(issued, 10), bank=existing["bank"],
            bank_card_number=existing["bank_card_number"], status=CardStatus.ACTIVE,
            issued_at=datetime.combine(issued, datetime.min.time(), timezone.utc),
            activated_at=datetime.combine(issued, datetime.min.time(), timezone.utc)))
        added["cards"] += 1
    session.flush()
    return added
