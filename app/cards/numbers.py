"""Numbers the platform hands out 编号: application numbers and card numbers.

Both are allocated inside the caller's transaction and stay unique under concurrency:
- application numbers from a per-day counter row (``UPDATE ... SET last = last + 1`` locks the
  row on PostgreSQL, the database on SQLite);
- card numbers at random (the number is not derived from the person, seed 001 §1.3), retried
  on a collision with an existing card; the unique index on ``card.card_number`` is the final
  guard.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.cards.models import ApplicationNumberSeq, Card
from hardware.profile import is_valid_card_number, new_card_number

log = logging.getLogger(__name__)

APPLICATION_PREFIX = "SQ"  # 申请
CARD_NUMBER_TRIES = 20


class NumberExhausted(RuntimeError):
    """No free card number after many random tries (a broken random source)."""


def next_application_number(session: Session, day: date) -> str:
    """``SQ`` + YYYYMMDD + 4-digit sequence of the day (more digits after 9999)."""
    for _ in range(3):
        updated = session.execute(
            update(ApplicationNumberSeq).where(ApplicationNumberSeq.day == day)
            .values(last=ApplicationNumberSeq.last + 1)
            .returning(ApplicationNumberSeq.last)).scalar_one_or_none()
        if updated is not None:
            return f"{APPLICATION_PREFIX}{day:%Y%m%d}{updated:04d}"
        try:  # first application of the day: create the counter (another process may race us)
            with session.begin_nested():
                session.execute(insert(ApplicationNumberSeq).values(day=day, last=1))
            return f"{APPLICATION_PREFIX}{day:%Y%m%d}0001"
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate an application number")


def card_number_taken(session: Session, number: str) -> bool:
    return session.scalar(select(exists().where(Card.card_number == number)))


def allocate_card_number(session: Session, generate: Callable[[], str] = new_card_number,
                         tries: int = CARD_NUMBER_TRIES) -> str:
    """A valid random card number no card has yet (获取卡号)."""
    for attempt in range(tries):
        number = generate()
        if not is_valid_card_number(number):
            raise ValueError(f"generator gave an invalid card number {number!r}")
        if not card_number_taken(session, number):
            return number
        log.info("card number collision on try %d, drawing again", attempt + 1)
    raise NumberExhausted(f"no free card number after {tries} tries")
