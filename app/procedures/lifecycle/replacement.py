"""The way from a formal loss to the new card 挂失补卡: a background job opens the replacement
case (the application family's window or outlet procedure, purpose 补卡) at the service point
the holder chose, and a scheduler round closes each formal loss once its replacement card was
made (the old card is then 挂失后注销 for good, the medical account follows the new card)."""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.cards.models import Card
from app.cards.states import CardStatus
from app.engine import jobs
from app.engine.jobs import JobContext
from app.engine.scheduler import ROUND_HOOKS
from app.engine.services import Actor
from app.procedures.lifecycle import loss as losses
from app.procedures.lifecycle.models import LossReport
from app.procedures.lifecycle.states import LossState

log = logging.getLogger(__name__)
SYSTEM = Actor.system("lifecycle")


@jobs.handler("lifecycle.open_replacement")
def open_replacement(ctx: JobContext) -> dict:
    """补卡受理: the replacement case of a formal loss, once (a resumed job finds it open)."""
    from app.procedures.application.replacement import start_replacement
    loss_id = int(ctx.params["loss_id"])
    with ctx.session_factory() as s:
        loss = s.get(LossReport, loss_id)
        if loss is None or loss.replacement_instance_id or loss.state != LossState.FORMAL:
            return {"started": False}
        process = losses.REPLACE_PROCESS[loss.replace_via]
        # opened by the platform for the holder (never withdrawn as an unsubmitted draft)
        instance_id = start_replacement(s, process=process, service_point=loss.replace_at,
                                        purpose="replacement", old_card_id=loss.card_id,
                                        actor=SYSTEM)
    with ctx.session_factory() as s, s.begin():
        s.get(LossReport, loss_id).replacement_instance_id = instance_id
    return {"started": True, "instance_id": instance_id}


def close_replaced(session_factory) -> int:
    """Scheduler round: formal losses whose old card was cancelled by its replacement end as
    replaced (one indexed query when there is nothing to do)."""
    with session_factory() as s, s.begin():
        rows = s.execute(select(LossReport, Card).join(Card, Card.id == LossReport.card_id).where(
            LossReport.state == LossState.FORMAL,
            Card.status == CardStatus.CANCELLED_AFTER_LOSS)).all()
        for loss, card in rows:
            new = s.scalars(select(Card).where(Card.ssn == card.ssn, Card.id > card.id)
                            .order_by(Card.id.desc()).limit(1)).first()
            if new is not None:
                losses.mark_replaced(s, loss, new, SYSTEM)
    return len(rows)


def record_exchanges(session_factory) -> int:
    """Scheduler round: a card stopped by an exchange (换卡) gets its history line once, and the
    medical account follows the new card."""
    from app.adapters import medical_insurance
    from app.common.masking import mask_card_number
    from app.procedures.lifecycle import events
    from app.procedures.lifecycle.models import CardEvent
    from app.procedures.lifecycle.states import EventKind
    with session_factory() as s, s.begin():
        done = select(CardEvent.id).where(CardEvent.card_id == Card.id, CardEvent.kind == EventKind.EXCHANGED)
        cards = s.scalars(select(Card).where(Card.status == CardStatus.CANCELLED,
                                             Card.stop_reason.like(f"{EXCHANGE_REASON}%"),
                                             ~done.exists())).all()
        for card in cards:
            new = s.scalars(select(Card).where(Card.ssn == card.ssn, Card.id > card.id)
                            .order_by(Card.id.desc()).limit(1)).first()
            if new is not None:
                medical_insurance(s).move_to_card(new.ssn, new.card_number)
            events.record(s, card.id, EventKind.EXCHANGED, SYSTEM,
                          detail={"new_card": mask_card_number(new.card_number) if new else ""})
    return len(cards)


EXCHANGE_REASON = "换卡"  # the archive's stop reason of an exchanged card (application family)
ROUND_HOOKS.append(close_replaced)
ROUND_HOOKS.append(record_exchanges)
