"""A card's history 卡片履历: one row per thing that happened to a card after it was made, with
its audit record in the same transaction."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.engine import audit
from app.engine.services import Actor
from app.procedures.lifecycle.models import CardEvent
from app.procedures.lifecycle.states import EventKind


def record(session: Session, card_id: int, kind: EventKind, actor: Actor, *,
           detail: dict | None = None, instance_id: int | None = None,
           card_job_id: int | None = None, audited: bool = True) -> CardEvent:
    """Append ``kind`` to the card's history (``detail`` holds no personal data) and audit it."""
    event = CardEvent(card_id=card_id, kind=str(kind), by=actor.username, office=actor.office,
                      detail=detail or None, instance_id=instance_id, card_job_id=card_job_id)
    session.add(event)
    if audited:
        audit.record(session, "family", actor, instance_id=instance_id, family="lifecycle",
                     what=str(kind), card_id=card_id, **(detail or {}))
    return event
