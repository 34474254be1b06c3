"""Moving between the city's regions 跨区域迁移 (seed 001 §1.5): "在全市范围内跨区域流动转移时不需
换卡，但需要到流入地的社保卡经办机构进行卡内数据写入". The holder keeps the card; the new region's
centre rewrites the insured region on the chip (a card-station job, crash-safe and verified by
reading back) and then in the archive; the card's history keeps both regions.

A card is never reported moved unless the station's read-back showed the new region.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.archive import archive
from app.cards.jobs import requeue
from app.cards.models import Card, CardJob
from app.cards.states import JobState
from app.common.clock import utcnow
from app.common.i18n import T
from app.engine.services import Actor
from app.procedures.batch.models import CityRegion
from app.procedures.lifecycle import events
from app.procedures.lifecycle.cards import IN_USE, CardRefused, not_in_use, same_person
from app.procedures.lifecycle.loss import chip_blocked
from app.procedures.lifecycle.models import RegionMove
from app.procedures.lifecycle.states import EventKind, MoveState

PROCESS = "region_move"


def insured_region(card: Card) -> str:
    return card.insured_region or card.region_code


def region_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(CityRegion.code, CityRegion.name).order_by(CityRegion.sort, CityRegion.code)).all())


def region_name(session: Session, code: str | None) -> str:
    return region_names(session).get(code or "", code or "")


def open_move(session: Session, card_id: int) -> RegionMove | None:
    return session.scalars(select(RegionMove).where(RegionMove.card_id == card_id,
                                                    RegionMove.state == MoveState.WRITING)).first()


def start_move(session: Session, card: Card, actor: Actor, *, to_region: str,
               shown_id_number: str, moved_on: date) -> RegionMove:
    """迁入登记: the holder, with the ID card, moves to ``to_region`` (a region of the city)."""
    same_person(card, shown_id_number)
    if card.status not in IN_USE:
        raise not_in_use(card, T("办理跨区域迁移", "move it to another region"))
    if chip_blocked(session, card.id):
        raise CardRefused("该卡芯片已锁定，不能改写", "The chip is blocked: it cannot be rewritten",
                          code="chip_blocked")
    names = region_names(session)
    if to_region not in names:
        raise CardRefused("迁入地不是本市的参保区域", "The region is not one of the city's", code="region")
    if to_region == insured_region(card):
        raise CardRefused(f"持卡人已在{names[to_region]}参保，无需迁移",
                          f"The holder is already insured in {names[to_region]}", code="same_region")
    if open_move(session, card.id) is not None:
        raise CardRefused("该卡有一项迁移正在写卡，请先完成", "A move of this card is still being written",
                          code="move_open")
    move = RegionMove(card_id=card.id, from_region=insured_region(card), to_region=to_region,
                      moved_on=moved_on, state=MoveState.WRITING, office=actor.office,
                      created_by=actor.username)
    session.add(move)
    session.flush()
    return move


def submit_rewrite(session: Session, move: RegionMove, instance_id: int | None) -> CardJob:
    """The station's job (``rewrite_region``): a new one, or the failed one queued again."""
    if move.state != MoveState.WRITING:
        raise CardRefused("该迁移已结束", "This move has ended", code="move_closed")
    card = session.get(Card, move.card_id)
    payload = {"card": card.chip_data(),  # the station checks ssn and card_number
               "region": {"region_code": move.to_region, "moved_on": move.moved_on.isoformat()}}
    job = session.get(CardJob, move.card_job_id) if move.card_job_id else None
    if job is not None and job.state == JobState.FAILED:
        requeue(job, payload)
        return job
    if job is not None and job.state in (JobState.QUEUED, JobState.CLAIMED):
        return job
    job = CardJob(card_id=card.id, application_id=None, instance_id=instance_id,
                  kind="rewrite_region", window=move.office, payload=payload)
    session.add(job)
    session.flush()
    move.card_job_id = job.id
    return job


def record_rewrite(session: Session, move: RegionMove, actor: Actor) -> bool:
    """The station reported: moved only if the job succeeded and its read-back shows the new
    region; otherwise the reason is kept for the clerk (retry or give up)."""
    job = session.get(CardJob, move.card_job_id)
    result = (job.result or {}) if job is not None else {}
    read_back = (result.get("region") or {}).get("region_code")
    if job is not None and job.state == JobState.DONE and read_back == move.to_region:
        card = session.get(Card, move.card_id)
        archive(session).move_region(card.card_number, move.to_region)
        move.state, move.finished_at = MoveState.DONE, utcnow()
        move.error_zh = move.error_en = None
        events.record(session, card.id, EventKind.MOVED, actor, card_job_id=job.id,
                      instance_id=move.instance_id,
                      detail={"move_id": move.id, "from": move.from_region, "to": move.to_region})
        return True
    error = result.get("error") or {}
    if job is not None and job.state == JobState.DONE:  # ok, but the chip does not show it
        move.error_zh = "写卡后读回的参保地与迁入地不一致"
        move.error_en = "The region read back differs from the new region"
    else:
        move.error_zh = str(error.get("message_zh") or "写卡未成功")[:500]
        move.error_en = str(error.get("message_en") or "The card was not rewritten")[:500]
    return False


def abandon(session: Session, move: RegionMove, actor: Actor, note: str | None) -> None:
    """Give up: the card keeps its region (nothing was reported moved)."""
    move.state, move.finished_at = MoveState.FAILED, utcnow()
    events.record(session, move.card_id, EventKind.MOVE_FAILED, actor, instance_id=move.instance_id,
                  detail={"move_id": move.id, "to": move.to_region, "note": (note or "")[:200]})
