"""Loss reports 挂失 (seed 000 §4.5): "可拨打医疗保险语音服务电话临时挂失，冻结医疗保险个人账户" —
a temporary report by phone freezes the medical account at once; "带本人身份证原件…办理挂失补卡
手续" — the formal report is made in person with the ID card, stops the card in the provincial
archive and opens the replacement; a loss is lifted (解挂) with the ID card as long as no
replacement card was made.

Functions on a session; nothing commits (the page's or the step's transaction does). Each
refusal is a ``CardRefused`` with the clerk's words.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.adapters import medical_insurance
from app.cards.archive import ArchiveError, archive
from app.cards.models import Card, ServicePoint
from app.cards.states import CardStatus, ServicePointKind
from app.common.clock import utcnow
from app.common.i18n import T
from app.common.masking import mask_card_number
from app.engine import jobs
from app.engine.services import Actor
from app.procedures.lifecycle import events
from app.procedures.lifecycle.cards import IN_USE, CardRefused, not_in_use, same_person
from app.procedures.lifecycle.models import CardEvent, LossReport
from app.procedures.lifecycle.states import OPEN_LOSS, EventKind, LossKind, LossState

PROCESS = "loss_report"
#: how the replacement is made after a formal report: at a bank window while the holder waits,
#: through an outlet (15 working days), or later (the holder applies at a window of their choice)
REPLACE_VIA = ("instant", "outlet", "later")
REPLACE_PROCESS = {"instant": "instant_issuance", "outlet": "outlet_application"}
FREEZE_REASON = "社会保障卡挂失"


def _archive_call(call):
    try:
        return call()
    except ArchiveError as e:
        raise CardRefused(e.message_zh, e.message_en, code=e.code) from None


def open_loss(session: Session, card_id: int, for_update: bool = False) -> LossReport | None:
    query = select(LossReport).where(LossReport.card_id == card_id, LossReport.state.in_(OPEN_LOSS))
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def _reportable(session: Session, card: Card, formal: bool) -> None:
    if open_loss(session, card.id) is not None and not formal:
        raise CardRefused("该卡已挂失，无需重复挂失", "The card is already reported lost",
                          code="already_lost")
    if card.status not in IN_USE and not (formal and card.status == CardStatus.TEMP_LOST):
        raise not_in_use(card, T("挂失", "report it lost"))


def report_temporary(session: Session, card: Card, actor: Actor, *, caller: str,
                     answers: dict) -> LossReport:
    """电话临时挂失: the card becomes temporarily lost and the medical account is frozen now."""
    _reportable(session, card, formal=False)
    before = card.status
    _archive_call(lambda: archive(session).report_lost(card.card_number, formal=False))
    medical_insurance(session).freeze(card.ssn, FREEZE_REASON)
    loss = LossReport(card_id=card.id, kind=LossKind.TEMPORARY, state=LossState.TEMPORARY,
                      status_before=before, office=actor.office, reported_by=actor.username,
                      caller=" ".join(str(caller or "").split())[:30] or None, identity=answers)
    session.add(loss)
    session.flush()
    events.record(session, card.id, EventKind.TEMP_LOSS, actor,
                  detail={"loss_id": loss.id, "card": mask_card_number(card.card_number)})
    return loss


def replacement_points(session: Session, via: str) -> list[ServicePoint]:
    """Where a replacement can be made: the active windows (instant) or outlets."""
    kind = ServicePointKind.WINDOW if via == "instant" else ServicePointKind.OUTLET
    return list(session.scalars(select(ServicePoint).where(
        ServicePoint.kind == kind, ServicePoint.active.is_(True)).order_by(ServicePoint.code)))


def _replacement_choice(session: Session, via: str | None, at: str | None) -> tuple[str, str | None]:
    via = via or "later"
    if via not in REPLACE_VIA:
        raise CardRefused("补卡方式无效", "Unknown way of replacement", code="replace_via")
    if via == "later":
        return via, None
    points = replacement_points(session, via)
    if at not in [p.code for p in points]:
        where = "、".join(f"{p.code}（{p.name}）" for p in points) or "无"
        raise CardRefused(f"请选择办理补卡的{'窗口' if via == 'instant' else '网点'}，可选：{where}",
                          "Choose one of the " + ("windows" if via == "instant" else "outlets") + ": "
                          + (", ".join(p.code for p in points) or "none"), code="replace_at")
    return via, at


def report_formal(session: Session, card: Card, actor: Actor, *, shown_id_number: str,
                  replace_via: str | None, replace_at: str | None,
                  loss: LossReport | None = None) -> LossReport:
    """正式挂失 in person with the ID card: the card is stopped in the archive (no longer live:
    a replacement may be made), the medical account stays frozen, the replacement is opened
    (a background job starts its case at the chosen window or outlet)."""
    same_person(card, shown_id_number)
    via, at = _replacement_choice(session, replace_via, replace_at)
    loss = loss or open_loss(session, card.id, for_update=True)
    if loss is not None and loss.state == LossState.FORMAL:
        raise CardRefused("该卡已正式挂失", "The card is already formally reported lost",
                          code="already_lost")
    _reportable(session, card, formal=True)
    before = card.status
    _archive_call(lambda: archive(session).report_lost(card.card_number, formal=True))
    medical_insurance(session).freeze(card.ssn, FREEZE_REASON)
    now = utcnow()
    if loss is None:
        loss = LossReport(card_id=card.id, kind=LossKind.FORMAL, status_before=before,
                          office=actor.office, reported_by=actor.username, reported_at=now)
        session.add(loss)
    loss.state = LossState.FORMAL
    loss.formal_at, loss.formal_by = now, actor.username
    loss.replace_via, loss.replace_at = via, at
    session.flush()
    events.record(session, card.id, EventKind.FORMAL_LOSS, actor,
                  detail={"loss_id": loss.id, "replace_via": via, "replace_at": at})
    if via != "later":
        jobs.enqueue(session, "lifecycle.open_replacement", {"loss_id": loss.id},
                     created_by=actor.username, subject=f"loss:{loss.id}")
    return loss


def chip_blocked(session: Session, card_id: int) -> bool:
    return session.scalar(select(CardEvent.id).where(
        CardEvent.card_id == card_id, CardEvent.kind == EventKind.BLOCKED_ON_CHIP).limit(1)) is not None


def lift(session: Session, loss: LossReport, actor: Actor, *, shown_id_number: str,
         cancel_case=None) -> LossReport:
    """解挂 with the ID card: the card goes back to what it was, the medical account is
    unfrozen. Refused once the replacement card was made (the old card is then cancelled for
    good) or the chip was blocked; a replacement case whose card is not made yet is cancelled
    with the reason (``cancel_case(instance_id, reason)``, given by a page: it commits, so it
    runs last; a workflow step never passes it — a temporary loss has no replacement case)."""
    card = session.get(Card, loss.card_id)
    same_person(card, shown_id_number)
    if loss.state not in OPEN_LOSS:
        raise CardRefused("该挂失已解除或已补卡，不能解挂", "This loss was already lifted or replaced",
                          code="loss_closed")
    if card.status in (CardStatus.CANCELLED_AFTER_LOSS, CardStatus.CANCELLED):
        raise CardRefused("补卡已制作，原卡已注销，不能解挂", "The replacement was made and the old card "
                          "cancelled: the loss cannot be lifted", code="replaced")
    if chip_blocked(session, card.id):
        raise CardRefused("该卡芯片已锁定，不能解挂，请办理补卡", "The chip is blocked: cannot lift; "
                          "apply for a replacement", code="chip_blocked")
    replacement = replacement_card(session, loss)
    if replacement is not None:
        raise CardRefused(f"补卡已制作（新卡号 {mask_card_number(replacement.card_number)}），不能解挂",
                          f"The replacement card ({mask_card_number(replacement.card_number)}) "
                          "was made: cannot lift", code="replaced")
    _archive_call(lambda: archive(session).lift_loss(card.card_number, loss.status_before))
    from app.procedures.lifecycle.activation import activate_if_due
    activate_if_due(session, [card.id])  # its round was activated while the card was lost
    medical_insurance(session).unfreeze(card.ssn)
    loss.state = LossState.LIFTED
    loss.lifted_at, loss.lifted_by = utcnow(), actor.username
    session.flush()
    events.record(session, card.id, EventKind.LIFTED, actor, detail={"loss_id": loss.id})
    if loss.replacement_instance_id and cancel_case is not None:
        # last: cancelling is an engine step that commits what was written above with it
        cancel_case(loss.replacement_instance_id, "持卡人已解除挂失，补卡申请撤销")
    return loss


def replacement_card(session: Session, loss: LossReport) -> Card | None:
    """The replacement made for this loss (a newer card of the same person that is live or was
    made), if any."""
    card = session.get(Card, loss.card_id)
    return session.scalars(select(Card).where(
        Card.ssn == card.ssn, Card.id > card.id,
        Card.status.notin_([CardStatus.CANCELLED])).order_by(Card.id.desc()).limit(1)).first()


def remind(session: Session, loss: LossReport, actor: Actor, sms_send=None) -> bool:
    """A temporary report not confirmed in person in time: text the holder (when the platform
    knows a mobile). True if a text went out."""
    from app.procedures.lifecycle.cards import holder_mobile
    if loss.state != LossState.TEMPORARY:
        return False
    card = session.get(Card, loss.card_id)
    loss.reminded_at = utcnow()
    mobile = holder_mobile(session, card)
    sent = False
    if mobile and sms_send is not None:
        sms_send(mobile, f"您的社会保障卡（尾号{card.card_number[-4:]}）已电话临时挂失，尚未办理正式挂失。"
                         "请尽快携带本人身份证原件到社保卡服务大厅办理正式挂失或解挂。")
        sent = True
    events.record(session, card.id, EventKind.LOSS_REMINDED, actor,
                  detail={"loss_id": loss.id, "sms": sent})
    return sent


def mark_replaced(session: Session, loss: LossReport, new_card: Card, actor: Actor) -> None:
    """The replacement card was made: the loss ends, the medical account follows the new card."""
    loss.state = LossState.REPLACED
    loss.replacement_card_id = new_card.id
    medical_insurance(session).move_to_card(new_card.ssn, new_card.card_number)
    medical_insurance(session).unfreeze(new_card.ssn)
    events.record(session, loss.card_id, EventKind.REPLACED, actor,
                  detail={"loss_id": loss.id, "new_card": mask_card_number(new_card.card_number)})


def today() -> date:
    from app.common.clock import china_today
    return china_today()
