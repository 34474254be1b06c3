"""Cards picked up after the round 领卡后启用: the scheduler's round watches the custody events;
a lifted loss switches its card on at once."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import utcnow
from app.engine.db import immediate_transactions
from app.engine.scheduler import ROUND_HOOKS
from app.procedures.distribution.models import CardCustody, CustodyEvent
from app.procedures.lifecycle.activation.cards import (CHUNK, LEFT_VALUES, Activator, candidates,
                                                       event_mark, lock, not_activated, switch_on)
from app.procedures.lifecycle.models import ActivationRound
from app.procedures.lifecycle.states import RoundState

log = logging.getLogger(__name__)


def _late_cards(batch_id: int, mark: int):
    """Cards of the batch moved out of the centre by a custody event after ``mark``, still
    locked and not activated."""
    moved_out = (select(CustodyEvent.card_id)
                 .where(CustodyEvent.id > mark, CustodyEvent.to_state.in_(LEFT_VALUES)))
    return candidates(batch_id).where(Card.id.in_(moved_out))


def late_round(session_factory: Callable[[], Session], now: datetime | None = None) -> int:
    """The scheduler's round: switch on the cards of done rounds picked up since (late). One
    query when nothing happened; idempotent (two schedulers at once activate each card once).
    Returns the cards activated."""
    now = now or utcnow()
    with session_factory() as s:
        newest = select(func.coalesce(func.max(CustodyEvent.id), 0)).scalar_subquery()
        rounds = s.execute(select(ActivationRound.id, ActivationRound.batch_id,
                                  ActivationRound.late_mark, ActivationRound.created_by,
                                  ActivationRound.office)
                           .where(ActivationRound.state == RoundState.DONE,
                                  ActivationRound.late_mark < newest)
                           .order_by(ActivationRound.id)).all()
        new_mark = event_mark(s, now) if rounds else 0
        s.rollback()
    activated = 0
    for round_id, batch_id, mark, actor, office in rounds:
        activated += _late_for(session_factory, Activator(round_id, batch_id, actor, office), mark,
                               new_mark)
    return activated


def _late_for(session_factory, r: Activator, mark: int, new_mark: int) -> int:
    """The round's cards picked up after ``mark``; the mark moves on to ``new_mark`` (the newest
    event older than the lag) once they are done."""
    with session_factory() as s:  # read first: no write lock while there is nothing to do
        pending = s.execute(_late_cards(r.batch_id, mark).limit(1)).first()
        s.rollback()
    if pending is None and new_mark <= mark:
        return 0
    activated = 0
    while True:
        with immediate_transactions(), session_factory() as s, s.begin():
            rows = s.execute(lock(_late_cards(r.batch_id, mark).order_by(Card.id).limit(CHUNK), s)).all()
            n, _ = switch_on(s, rows, by=r, late=True, now=utcnow())
            activated += n
            if len(rows) < CHUNK and new_mark > mark:
                s.execute(update(ActivationRound).where(ActivationRound.id == r.id,
                                                        ActivationRound.late_mark < new_mark)
                          .values(late_mark=new_mark))
        if len(rows) < CHUNK:
            break
    if activated:
        log.info("activation round %s: %d cards picked up since activated", r.id, activated)
    return activated


def activate_if_due(session: Session, card_ids, *, now: datetime | None = None) -> int:
    """Switch on now, in the caller's transaction, those of ``card_ids`` that belong to a done
    round, have left the centre and are still locked — for a change the custody events do not
    show: a temporary loss reported before the round and lifted after it (解挂 gives the card
    back its status before the loss: 未启用). Idempotent; the cards activated (late)."""
    ids = sorted({int(c) for c in card_ids})
    if not ids:
        return 0
    query = (lock(select(Card.id, Card.ssn, Card.card_number, ActivationRound.id, ActivationRound.batch_id,
                          ActivationRound.created_by, ActivationRound.office)
                   .join(CardCustody, CardCustody.card_id == Card.id)
                   .join(ActivationRound, ActivationRound.batch_id == CardCustody.batch_id)
                   .where(Card.id.in_(ids), CardCustody.state.in_(LEFT_VALUES),
                          Card.status == CardStatus.NOT_ACTIVATED, not_activated(),
                          ActivationRound.state == RoundState.DONE).order_by(Card.id), session))
    rounds: dict[Activator, list] = {}
    for card_id, ssn, number, *round_ in session.execute(query):
        rounds.setdefault(Activator(*round_), []).append((card_id, ssn, number))
    now = now or utcnow()
    return sum(switch_on(session, rows, by=by, late=True, now=now)[0] for by, rows in rounds.items())


ROUND_HOOKS.append(late_round)
