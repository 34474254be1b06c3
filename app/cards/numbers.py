"""Card numbers 卡号, allocated inside the caller's transaction and unique under concurrency:
- card numbers at random (the number is not derived from the person, seed 001 §1.3), retried
  on a collision with an existing card; the unique index on ``card.card_number`` is the final
  guard.
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from hardware.profile import is_valid_card_number, new_card_number

log = logging.getLogger(__name__)

CARD_NUMBER_TRIES = 20


class NumberExhausted(RuntimeError):
    """No free card number after many random tries (a broken random source)."""


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
