"""What the production modules share: errors, the manufacturer adapter, chunks, history."""

from __future__ import annotations

from typing import Iterator

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

import app.adapters as adapters
from app.adapters.manufacturer import (
    CardManufacturer,
)
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.engine.db import UtcDateTime
from app.procedures.batch.models import (
    Person,
    PersonEvent,
)
from app.procedures.batch.states import Production

CHUNK = 500          # persons per statement (IN lists stay well under SQLite's limits)
MAX_FAILURES = 1000  # failed lines listed in a delivery's answer (the counts are complete)
MANUFACTURER = "manufacturer"  # who made a card, in the persons' history
# a card at the manufacturer for these persons: ordered, or sent back on arrival and remade
AWAITING = (Production.ORDERED, Production.MISSING, Production.DAMAGED)


# -- errors 错误 --------------------------------------------------------------------------------

class ProductionError(BilingualError):
    """A production step that cannot be done as asked (the message says why and what to do)."""

    def __init__(self, zh: str, en: str, code: str, kind: str = "conflict"):
        super().__init__(zh, en, code=code, kind=kind)


# -- which manufacturer -------------------------------------------------------------------------

def manufacturer_for(session: Session, given: CardManufacturer | None = None) -> CardManufacturer:
    """The manufacturer adapter: the one given (tests), else the deployment's (``app.adapters``)."""
    return given if given is not None else adapters.card_manufacturer(session)


# -- helpers ------------------------------------------------------------------------------------

def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _set_production(session: Session, person_ids: list[int], production: Production) -> None:
    session.execute(update(Person).where(Person.id.in_(person_ids)).values(production=production)
                    .execution_options(synchronize_session=False))


def _history(session: Session, events: list[tuple[int, str, str]], actor_name: str) -> None:
    """The persons' history 人员履历 (one row per person changed)."""
    now = utcnow()
    for chunk in _chunks(events):
        session.execute(insert(PersonEvent), [
            {"person_id": pid, "at": now, "by": actor_name, "text_zh": zh, "text_en": en}
            for pid, zh, en in chunk])


def _history_from_query(session: Session, where: list, actor_name: str, zh: str, en: str) -> None:
    """The same history line for every person a query selects, in one INSERT ... SELECT."""
    session.execute(insert(PersonEvent).from_select(
        ["person_id", "at", "by", "text_zh", "text_en"],
        select(Person.id, literal(utcnow(), UtcDateTime()), literal(actor_name), literal(zh),
               literal(en)).where(*where)))


def _expire(session: Session, *classes) -> None:
    """Rows of these tables loaded before a bulk statement are read again when next used."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, classes):
            session.expire(obj)


__all__ = [
    "AcceptanceResult", "ForeignCards", "ProductionError", "UnknownCard", "accept_delivery",
    "check_delivery", "manufacturer_for", "normalise", "notification_text", "notify_agents",
    "receive_delivery", "send_to_manufacturer", "to_order",
]
