"""3. Acceptance on arrival 到货验收: the employer's pile against its cards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.adapters.manufacturer import (
    CardManufacturer,
)
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import utcnow
from app.procedures.batch.models import (
    Batch,
    Employer,
    Person,
)
from app.procedures.batch.production.common import (
    ProductionError,
    _chunks,
    _expire,
    _history,
    _set_production,
)
from app.procedures.batch.production.order import _remake
from app.procedures.batch.states import EmployerStatus, Production

# -- 3. acceptance on arrival 到货验收 -----------------------------------------------------------

@dataclass(frozen=True)
class UnknownCard:
    """A scanned card that is not this employer's, and whose it is (if the platform knows)."""

    card_number: str
    zh: str
    en: str
    employer: str | None = None
    batch: str | None = None


class ForeignCards(ProductionError):
    """The scanned pile holds cards that are not this employer's: nothing is accepted until
    they are taken out. ``unknown`` says whose each one is."""

    def __init__(self, unknown: list[UnknownCard]):
        self.unknown = unknown
        shown = unknown[:10]
        more_zh = f"等 {len(unknown)} 张" if len(unknown) > len(shown) else ""
        more_en = f" ({len(unknown)} cards in all)" if len(unknown) > len(shown) else ""
        super().__init__(
            "以下卡片不是本单位的卡，请取出后重新验收：" + "；".join(u.zh for u in shown) + more_zh,
            "These cards are not this employer's; take them out and check the delivery again: "
            + "; ".join(u.en for u in shown) + more_en,
            code="foreign_cards", kind="invalid")


@dataclass
class AcceptanceResult:
    """The outcome of checking an employer's pile (card numbers upper case, no spaces)."""

    employer_id: int
    expected: int                                   # cards made for the employer, to check
    accepted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)    # expected, not in the pile
    damaged: list[str] = field(default_factory=list)    # listed by the clerk
    unknown: list[UnknownCard] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # scanned more than once
    already_accepted: list[str] = field(default_factory=list)  # accepted on an earlier check
    remake_order: str | None = None
    complete: bool = False                          # every card of the employer accepted


def normalise(numbers: Iterable[str]) -> list[str]:
    """Scanned or typed card numbers: no spaces, upper case, blanks dropped (order kept)."""
    return [n for n in ("".join(str(x or "").split()).upper() for x in numbers) if n]


def check_delivery(session: Session, employer_id: int, scanned: list[str],
                   damaged: list[str]) -> AcceptanceResult:
    """到货验收 without changing anything: what accepting this pile would do (a page shows it
    before the clerk confirms)."""
    employer = _employer(session, employer_id)
    scans, broken = normalise(scanned), list(dict.fromkeys(normalise(damaged)))
    expected, before = _employer_cards(session, employer.id)
    seen = list(dict.fromkeys(scans + broken))
    result = AcceptanceResult(employer.id, len(expected))
    result.duplicates = [n for n, k in Counter(scans).items() if k > 1]
    result.already_accepted = [n for n in seen if n in before]
    result.unknown = _describe_unknown(session, employer,
                                       [n for n in seen if n not in expected and n not in before])
    result.damaged = [n for n in broken if n in expected]
    result.accepted = [n for n in dict.fromkeys(scans) if n in expected and n not in broken]
    present = set(scans) | set(broken)
    result.missing = [n for n in expected if n not in present]
    return result


def accept_delivery(session: Session, employer_id: int, scanned: list[str], damaged: list[str],
                    actor_name: str, manufacturer: CardManufacturer | None = None) -> AcceptanceResult:
    """到货验收: accept the employer's pile. Refused, with nothing changed, when nothing was
    scanned or a card in it is not this employer's. Accepted cards wait for activation (未启用);
    missing and damaged cards are cancelled and remade (a remake order is sent)."""
    if not normalise(scanned):
        raise ProductionError("未扫描或录入任何卡号，请逐张扫描到货的卡片",
                              "No card number was scanned or typed; scan every card delivered",
                              code="nothing_scanned", kind="invalid")
    result = check_delivery(session, employer_id, scanned, damaged)
    if result.unknown:
        raise ForeignCards(result.unknown)
    cards = _cards_by_number(session, employer_id, result.accepted + result.missing + result.damaged)
    _accept(session, [cards[n] for n in result.accepted], actor_name)
    _send_back_on_arrival(session, [cards[n] for n in result.missing], Production.MISSING,
                          ("到货验收短缺", "missing on delivery"), actor_name)
    _send_back_on_arrival(session, [cards[n] for n in result.damaged], Production.DAMAGED,
                          ("到货验收卡片损坏", "damaged on delivery"), actor_name)
    employer = session.get(Employer, employer_id)
    back = [cards[n].person_id for n in result.missing + result.damaged]
    remake = _remake(session, employer.batch_id, back, actor_name, manufacturer)
    result.remake_order = remake.number if remake else None
    result.complete = _all_accepted(session, employer)
    return result


def _employer(session: Session, employer_id: int) -> Employer:
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise ProductionError(f"单位申领 {employer_id} 不存在",
                              f"Employer application {employer_id} does not exist",
                              code="employer_not_found", kind="not_found")
    return employer


def _employer_cards(session: Session, employer_id: int) -> tuple[dict[str, int], set[str]]:
    """The employer's made cards to check (card number -> person id, roster order) and the
    numbers of its cards accepted before."""
    rows = session.execute(
        select(Card.card_number, Person.id, Person.production)
        .join(Card, Card.id == Person.card_id)
        .where(Person.employer_id == employer_id,
               Person.production.in_([Production.MADE, Production.ACCEPTED]))
        .order_by(Person.seq, Person.id)).all()
    expected = {number: pid for number, pid, production in rows if production == Production.MADE}
    return expected, {number for number, _, production in rows if production == Production.ACCEPTED}


def _describe_unknown(session: Session, employer: Employer, numbers: list[str]) -> list[UnknownCard]:
    """Whose each card is: another employer's (which, in which batch), a card of this employer
    no longer expected (cancelled), or a number the platform does not know."""
    if not numbers:
        return []
    owners = {}
    for chunk in _chunks(numbers):
        for row in session.execute(
                select(Card.card_number, Card.status, Employer.id.label("employer_id"),
                       Employer.name.label("employer"), Batch.name.label("batch"))
                .outerjoin(Person, Person.card_id == Card.id)
                .outerjoin(Employer, Employer.id == Person.employer_id)
                .outerjoin(Batch, Batch.id == Employer.batch_id)
                .where(Card.card_number.in_(chunk))):
            owners[row.card_number] = row
    return [_unknown(number, owners.get(number), employer.id) for number in numbers]


def _unknown(number: str, owner, employer_id: int) -> UnknownCard:
    if owner is None:
        return UnknownCard(number, f"{number}（本平台无此卡号，可能是制卡失败未登记的卡）",
                           f"{number} (no such card on the platform: possibly a failed card)")
    if owner.employer_id == employer_id:
        return UnknownCard(number, f"{number}（本单位已作废的卡）",
                           f"{number} (a card of this employer that was cancelled)")
    if owner.employer_id is not None:
        return UnknownCard(number, f"{number}（属于“{owner.batch}”批次的“{owner.employer}”）",
                           f"{number} (belongs to {owner.employer}, batch {owner.batch})",
                           owner.employer, owner.batch)
    return UnknownCard(number, f"{number}（不是批量制卡的卡）", f"{number} (not a card of a batch)")


@dataclass(frozen=True)
class _HeldCard:
    card_id: int
    person_id: int
    number: str


def _cards_by_number(session: Session, employer_id: int, numbers: list[str]) -> dict[str, _HeldCard]:
    held = {}
    for chunk in _chunks(numbers):
        for card_id, person_id, number in session.execute(
                select(Card.id, Person.id, Card.card_number).join(Card, Card.id == Person.card_id)
                .where(Person.employer_id == employer_id, Card.card_number.in_(chunk))):
            held[number] = _HeldCard(card_id, person_id, number)
    return held


def _accept(session: Session, cards: list[_HeldCard], actor_name: str) -> None:
    """验收合格: the card waits for central activation (未启用, seed 000 §4.2)."""
    for chunk in _chunks(cards):
        _set_production(session, [c.person_id for c in chunk], Production.ACCEPTED)
        session.execute(update(Card).where(Card.id.in_([c.card_id for c in chunk]))
                        .values(status=CardStatus.NOT_ACTIVATED)
                        .execution_options(synchronize_session=False))
    _history(session, [(c.person_id, f"到货验收合格（卡号 {c.number}）",
                        f"Accepted on arrival (card {c.number})") for c in cards], actor_name)


def _send_back_on_arrival(session: Session, cards: list[_HeldCard], production: Production,
                          why: tuple[str, str], actor_name: str) -> None:
    """Missing or damaged: the card is cancelled (it never reaches its holder) and remade."""
    now = utcnow()
    for chunk in _chunks(cards):
        _set_production(session, [c.person_id for c in chunk], production)
        session.execute(update(Card).where(Card.id.in_([c.card_id for c in chunk]))
                        .values(status=CardStatus.CANCELLED, stopped_at=now,
                                stop_reason=f"{why[0]}，退回重制")
                        .execution_options(synchronize_session=False))
    _history(session, [(c.person_id, f"{why[0]}（卡号 {c.number}），该卡作废，重新制卡",
                        f"Card {c.number} {why[1]}: cancelled and remade") for c in cards],
             actor_name)


def _all_accepted(session: Session, employer: Employer) -> bool:
    """已验收: every person of the employer in production has an accepted card."""
    if employer.status in (EmployerStatus.ACCEPTED, EmployerStatus.NOTIFIED):
        return True  # a late re-check of the pile: keep the first acceptance's time
    session.flush()
    open_ = session.scalar(select(func.count()).select_from(Person).where(
        Person.employer_id == employer.id, Person.production.is_not(None),
        Person.production != Production.ACCEPTED))
    any_ = session.scalar(select(exists().where(Person.employer_id == employer.id,
                                                Person.production == Production.ACCEPTED)))
    _expire(session, Person, Card, Employer)
    if open_ or not any_:
        return False
    employer.status, employer.accepted_at = EmployerStatus.ACCEPTED, utcnow()
    session.flush()
    return True
