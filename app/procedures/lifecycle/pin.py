"""Card jobs on a card in use 在用卡的卡片作业: the PIN change at the self-service terminal (seed
000 §4.2.1: issued 000000, "请…重新设置本人密码"), the counter's PIN reset for a blocked PIN
with the ID card, and blocking the chip of a lost or handed-in card 芯片应用锁定.

The platform queues a kernel ``CardJob`` (no application, no case waiting) for the station at
the clerk's office; PINs never pass through the platform (the terminal's PIN pad asks the
holder). The station's result comes back through ``app.cards.jobs.RESULT_HOOKS``: the hooks
below write the card's history in the transaction storing the result.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.jobs import on_result
from app.cards.models import Card, CardJob
from app.cards.states import FINAL_JOB_STATES, CardStatus, JobState
from app.common.i18n import T
from app.common.masking import mask_card_number
from app.engine import audit
from app.engine.services import Actor
from app.procedures.lifecycle import events
from app.procedures.lifecycle.cards import IN_USE, CardRefused, not_in_use, same_person
from app.procedures.lifecycle.loss import chip_blocked
from app.procedures.lifecycle.states import EventKind

#: kinds of the jobs this module queues, with the clerk's words
KIND_LABELS = {
    "change_pin": T("自助终端修改密码", "PIN change at the self-service terminal"),
    "reset_pin": T("柜台重置密码", "PIN reset at the counter"),
    "block": T("锁定芯片社保应用", "Block the chip's social-security application"),
    "rewrite_region": T("改写卡内参保地", "Rewrite the insured region on the chip"),
}
#: a lost, replaced or cancelled card may (and should) be blocked when it is presented
BLOCKABLE = (CardStatus.TEMP_LOST, CardStatus.LOST, CardStatus.CANCELLED_AFTER_LOSS,
             CardStatus.CANCELLED)


def open_job(session: Session, card_id: int, kind: str) -> CardJob | None:
    return session.scalars(select(CardJob).where(
        CardJob.card_id == card_id, CardJob.kind == kind,
        CardJob.state.notin_(list(FINAL_JOB_STATES))).limit(1)).first()


def _queue(session: Session, card: Card, kind: str, actor: Actor) -> CardJob:
    if open_job(session, card.id, kind) is not None:
        label = KIND_LABELS[kind]
        raise CardRefused(f"该卡已有一项“{label.zh}”作业在等待工作站处理", f"A “{label.en}” job for "
                          "this card is already waiting for the card station", code="job_open")
    # the complete chip data, as an issue job carries it (no PIN: the holder types it at the
    # station's PIN pad); the station checks ``ssn`` and ``card_number``
    job = CardJob(card_id=card.id, application_id=None, instance_id=None, kind=kind,
                  window=actor.office, payload={"card": card.chip_data()})
    session.add(job)
    session.flush()
    audit.record(session, "family", actor, family="lifecycle", what=f"queue_{kind}", card_id=card.id,
                 card_job=job.id)
    return job


def _usable(session: Session, card: Card, what: T) -> None:
    if card.status not in IN_USE:
        raise not_in_use(card, what)
    if chip_blocked(session, card.id):
        raise CardRefused(f"该卡芯片已锁定，不能{what.zh}", f"The chip is blocked: cannot {what.en}",
                          code="chip_blocked")


def queue_pin_change(session: Session, card: Card, actor: Actor) -> CardJob:
    """自助终端修改密码: the holder puts the card in the terminal and types the PINs there."""
    _usable(session, card, T("修改密码", "change the PIN"))
    return _queue(session, card, "change_pin", actor)


def queue_pin_reset(session: Session, card: Card, actor: Actor, shown_id_number: str) -> CardJob:
    """柜台密码重置 with the holder's ID card: back to the issued PIN, changed then at a terminal."""
    same_person(card, shown_id_number)
    _usable(session, card, T("重置密码", "reset the PIN"))
    return _queue(session, card, "reset_pin", actor)


def queue_block(session: Session, card: Card, actor: Actor) -> CardJob:
    """芯片锁定 of a lost, replaced or handed-in card now presented at the desk."""
    if card.status not in BLOCKABLE:
        raise not_in_use(card, T("锁定芯片（只有挂失或注销的卡需要锁定）",
                                 "block the chip (only lost or cancelled cards are blocked)"))
    if chip_blocked(session, card.id):
        raise CardRefused("该卡芯片已锁定", "The chip is already blocked", code="chip_blocked")
    return _queue(session, card, "block", actor)


def _error(job: CardJob) -> dict:
    error = (job.result or {}).get("error") or {}
    return {"error_zh": str(error.get("message_zh") or "")[:200],
            "error_en": str(error.get("message_en") or "")[:200],
            "error_code": str(error.get("code") or "")[:40]}


def _station_actor(job: CardJob) -> Actor:
    return Actor(username=f"station:{job.station_id or 'unknown'}", office=job.window)


def _hook(ok_kind: EventKind, failed_kind: EventKind | None):
    def record(session: Session, job: CardJob) -> None:
        if job.card_id is None:
            return
        ok = job.state == JobState.DONE
        if not ok and failed_kind is None:
            return
        detail = {"card_job": job.id, "card": mask_card_number((job.payload or {}).get("card", {}).get("card_number", ""))}
        if not ok:
            detail |= _error(job)
        events.record(session, job.card_id, ok_kind if ok else failed_kind, _station_actor(job),
                      detail=detail, card_job_id=job.id)
    return record


on_result("change_pin")(_hook(EventKind.PIN_CHANGED, EventKind.PIN_CHANGE_FAILED))
on_result("reset_pin")(_hook(EventKind.PIN_RESET, EventKind.PIN_RESET_FAILED))
on_result("block")(_hook(EventKind.BLOCKED_ON_CHIP, None))
