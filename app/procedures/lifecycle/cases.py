"""Starting the lifecycle's cases 发起办件: the page records the report or the move and starts its
case in one transaction (``runtime.start_instance`` commits both, or neither)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from app.cards.models import Card
from app.engine import runtime
from app.engine.models import ProcessInstance
from app.engine.services import Actor
from app.procedures.lifecycle import loss as losses
from app.procedures.lifecycle import moves
from app.procedures.lifecycle.models import LossReport, RegionMove


def _link(session: Session, row, instance: ProcessInstance) -> None:
    row.instance_id = instance.id  # the case's id on its row (after the start committed both)
    session.commit()


def report_by_phone(session: Session, card: Card, actor: Actor, *, caller: str, answers: dict,
                    now: datetime | None = None) -> tuple[LossReport, ProcessInstance]:
    """电话临时挂失 (the identity questions were answered): the card and the medical account
    are frozen now; the case waits for the holder to come with the ID card."""
    loss = losses.report_temporary(session, card, actor, caller=caller, answers=answers)
    instance = runtime.start_instance(
        session, losses.PROCESS, {"loss_id": loss.id, "kind": "temporary", "holder_name": card.name},
        f"GS{loss.id}", actor, now=now)
    _link(session, loss, instance)
    return loss, instance


def report_in_person(session: Session, card: Card, actor: Actor, *, shown_id_number: str,
                     replace_via: str, replace_at: str | None,
                     now: datetime | None = None) -> tuple[LossReport, ProcessInstance]:
    """正式挂失 at the counter (no temporary report open): stopped now, replacement opened."""
    loss = losses.report_formal(session, card, actor, shown_id_number=shown_id_number,
                                replace_via=replace_via, replace_at=replace_at)
    instance = runtime.start_instance(
        session, losses.PROCESS, {"loss_id": loss.id, "kind": "formal", "holder_name": card.name},
        f"GS{loss.id}", actor, now=now)
    _link(session, loss, instance)
    return loss, instance


def start_move(session: Session, card: Card, actor: Actor, *, to_region: str,
               shown_id_number: str, moved_on: date,
               now: datetime | None = None) -> tuple[RegionMove, ProcessInstance]:
    """迁入登记 at the new region's centre: the case has the chip rewritten and verified."""
    move = moves.start_move(session, card, actor, to_region=to_region,
                            shown_id_number=shown_id_number, moved_on=moved_on)
    instance = runtime.start_instance(
        session, moves.PROCESS, {"move_id": move.id, "holder_name": card.name}, f"QY{move.id}",
        actor, now=now)
    return move, instance
