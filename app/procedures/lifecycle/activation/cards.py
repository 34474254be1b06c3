"""Switching cards on 启用卡片: which cards of a batch are due, and one set-based chunk of them
(the medical-insurance system, the card's status, its activation row and history line)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.adapters import medical_insurance
from app.cards.models import Card
from app.cards.states import CardStatus
from app.database import insert_ignoring
from app.engine.db import UtcDateTime
from app.procedures.distribution.models import CardCustody, CustodyEvent
from app.procedures.distribution.states import Custody
from app.procedures.lifecycle.models import CardActivation, CardEvent
from app.procedures.lifecycle.states import EventKind

CHUNK = 1000  # cards per transaction
#: custody states of a card that has left the centre: it is switched on
LEFT = (Custody.WITH_EMPLOYER, Custody.WITH_HOLDER, Custody.REISSUED)
#: custody states of a card not picked up yet: it stays locked (the old medical card goes on)
WAITING = (Custody.MADE, Custody.ACCEPTED, Custody.AT_CENTRE, Custody.RETURNED)
#: custody events younger than this are looked at again by the next late round
LATE_LAG = timedelta(minutes=5)

LEFT_VALUES = [s.value for s in LEFT]
WAITING_VALUES = [s.value for s in WAITING]


@dataclass(frozen=True)
class Activator:
    """The round on whose behalf cards are switched on (the history line names it)."""

    id: int
    batch_id: int
    actor: str
    office: str | None


def event_mark(session: Session, now: datetime) -> int:
    """The newest custody event older than :data:`LATE_LAG` (0: none)."""
    return int(session.scalar(select(func.max(CustodyEvent.id))
                              .where(CustodyEvent.at <= now - LATE_LAG)) or 0)


def not_activated():
    return ~exists().where(CardActivation.card_id == Card.id)


def lock(query, session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(of=Card)
    return query  # SQLite: the transaction took the write lock at its start


def switch_on(session: Session, rows, *, by: Activator, late: bool, now: datetime) -> tuple[int, int]:
    """Switch on ``rows`` — (card id, ID number, card number) of locked cards that are
    NOT_ACTIVATED and have no activation — for the round ``by``, in a few statements;
    (cards, cents moved)."""
    if not rows:
        return 0, 0
    moved = medical_insurance(session).switch_to_cards({ssn: number for _, ssn, number in rows})
    cents = {card_id: int(moved.get(str(ssn).upper(), 0) or 0) for card_id, ssn, _ in rows}
    ids = [card_id for card_id, _, _ in rows]
    insert_ignoring(session, CardActivation.__table__,
                    [{"card_id": c, "round_id": by.id, "activated_at": now,
                      "moved_cents": cents[c], "late": late} for c in ids], conflict=["card_id"])
    done = session.execute(
        update(Card).where(Card.id.in_(ids), Card.status == CardStatus.NOT_ACTIVATED)
        .values(status=CardStatus.ACTIVE, activated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if done != len(ids):  # cannot happen: the rows are locked
        raise RuntimeError(f"{len(ids) - done} cards changed while they were being activated")
    session.execute(insert(CardEvent).from_select(
        ["card_id", "kind", "at", "by", "office", "detail"],
        select(CardActivation.card_id, literal(EventKind.ACTIVATED.value, String()),
               literal(now, UtcDateTime()), literal(by.actor, String()), literal(by.office, String()),
               _detail(session, by.id, by.batch_id))
        .where(CardActivation.card_id.in_(ids)).order_by(CardActivation.card_id)))
    return len(ids), sum(cents.values())


def _detail(session: Session, round_id: int, batch_id: int):
    """The event's ``detail`` built in SQL from the activation row: {"round", "batch",
    "moved_cents", "late"} (a JSON object on both databases)."""
    pairs = ("round", literal(round_id, Integer()), "batch", literal(batch_id, Integer()),
             "moved_cents", CardActivation.moved_cents)
    if session.get_bind().dialect.name == "postgresql":
        return func.json_build_object(*pairs, "late", CardActivation.late)
    return func.json_object(*pairs, "late", func.json(case((CardActivation.late, "true"), else_="false")))


def candidates(batch_id: int):
    """The batch's cards that left the centre and are still locked, not yet activated."""
    return (select(Card.id, Card.ssn, Card.card_number)
            .join(CardCustody, CardCustody.card_id == Card.id)
            .where(CardCustody.batch_id == batch_id, CardCustody.state.in_(LEFT_VALUES),
                   Card.status == CardStatus.NOT_ACTIVATED, not_activated()))


def remaining(session: Session, batch_id: int) -> int:
    sub = candidates(batch_id).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def waiting_now(session: Session, batch_id: int) -> int:
    """The batch's cards not picked up yet, still locked (the old medical card goes on)."""
    return int(session.scalar(
        select(func.count()).select_from(CardCustody).join(Card, Card.id == CardCustody.card_id)
        .where(CardCustody.batch_id == batch_id, CardCustody.state.in_(WAITING_VALUES),
               Card.status == CardStatus.NOT_ACTIVATED)) or 0)
