"""Everything that happened to one card, and one person's cards 卡片履历 (the card page and its
printout): the card's facts in words, and one time line merging the application, the
distribution's custody changes, the lifecycle's events, the card jobs, the loss reports and the
moves. Personal numbers are masked; nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.adapters import medical_insurance
from app.cards.models import Card, CardJob
from app.cards.states import JobState
from app.common.i18n import T
from app.common.masking import mask_card_number
from app.common.money import yuan
from app.procedures.lifecycle import bank as banks
from app.procedures.lifecycle.cards import status_words
from app.procedures.lifecycle.loss import chip_blocked, open_loss
from app.procedures.lifecycle.models import CardActivation, CardEvent, LossReport, RegionMove
from app.procedures.lifecycle.moves import insured_region, open_move, region_names
from app.procedures.lifecycle.pin import KIND_LABELS
from app.procedures.lifecycle.states import EVENT_LABELS, LOSS_LABELS, MOVE_LABELS, EventKind

JOB_STATES = {JobState.QUEUED: T("等待工作站处理", "waiting for the card station"),
              JobState.CLAIMED: T("工作站处理中", "at the card station"),
              JobState.DONE: T("已完成", "done"), JobState.FAILED: T("未成功", "failed"),
              JobState.CANCELLED: T("已取消", "cancelled")}
VIA = {"instant": T("窗口立等可取补卡", "replacement at a window"),
       "outlet": T("代办网点受理补卡", "replacement through an outlet"),
       "later": T("暂不补卡", "no replacement yet")}


@dataclass
class Entry:
    at: datetime
    what: T
    by: str = ""
    detail: T | str = ""
    link: str | None = None


@dataclass
class Story:
    card: Card
    status: T
    issuing_region: str
    insured_region: str
    medical: object | None
    debit: object | None
    blocked: bool
    loss: LossReport | None
    move: RegionMove | None
    activation: CardActivation | None
    others: list[Card] = field(default_factory=list)   # the person's other cards
    entries: list[Entry] = field(default_factory=list)
    losses: list[LossReport] = field(default_factory=list)


def _event_detail(e: CardEvent, names: dict) -> T | str:
    d = e.detail or {}
    if e.kind == EventKind.ACTIVATED:
        return T(f"原医保个人账户余额 ¥{yuan(d.get('moved_cents'))} 转入本卡，原医疗保险卡作废",
                 f"Medical account balance ¥{yuan(d.get('moved_cents'))} moved to the card; the old medical card is void")
    if e.kind in (EventKind.MOVED, EventKind.MOVE_FAILED):
        frm, to = names.get(d.get("from"), d.get("from") or ""), names.get(d.get("to"), d.get("to") or "")
        return f"{frm} → {to}" if frm else to
    if e.kind == EventKind.BANK_ACTIVATED:
        return f"{d.get('bank', '')} {d.get('reference', '')}"
    if e.kind == EventKind.FORMAL_LOSS:
        return VIA.get(d.get("replace_via"), "")
    if e.kind in (EventKind.REPLACED, EventKind.EXCHANGED):
        return T(f"新卡 {d.get('new_card', '')}", f"new card {d.get('new_card', '')}")
    if d.get("error_zh"):
        return T(d["error_zh"], d.get("error_en") or d["error_zh"])
    return ""


def card_story(session: Session, card: Card) -> Story:
    names = region_names(session)
    activation = session.get(CardActivation, card.id)
    story = Story(
        card=card, status=status_words(card.status),
        issuing_region=names.get(card.region_code, card.region_code),
        insured_region=names.get(insured_region(card), insured_region(card)),
        medical=medical_insurance(session).account(card.ssn), debit=banks.activation(session, card),
        blocked=chip_blocked(session, card.id), loss=open_loss(session, card.id),
        move=open_move(session, card.id), activation=activation)
    story.others = list(session.scalars(select(Card).where(Card.ssn == card.ssn, Card.id != card.id)
                                        .order_by(Card.id)))
    story.losses = list(session.scalars(select(LossReport).where(LossReport.card_id == card.id)
                                        .order_by(LossReport.id)))
    add = story.entries.append
    add(Entry(card.created_at, T("已放号（获取卡号）", "Card number assigned")))
    _application(session, card, add)
    _custody(session, card, add)
    if card.activated_at and not session.scalar(select(CardEvent.id).where(
            CardEvent.card_id == card.id, CardEvent.kind == EventKind.ACTIVATED).limit(1)):
        add(Entry(card.activated_at, T("已启用", "Activated")))
    for e in session.scalars(select(CardEvent).where(CardEvent.card_id == card.id)):
        add(Entry(e.at, EVENT_LABELS.get(e.kind, T(e.kind, e.kind)), e.by, _event_detail(e, names),
                  f"/cases/{e.instance_id}" if e.instance_id else None))
    for job in session.scalars(select(CardJob).where(CardJob.card_id == card.id,
                                                     CardJob.application_id.is_(None))):
        label = KIND_LABELS.get(job.kind, T(job.kind, job.kind))
        state = JOB_STATES.get(job.state, T(job.state, job.state))
        add(Entry(job.created_at, T(f"卡片作业：{label.zh}", f"Card job: {label.en}"), job.station_id or "",
                  T(f"{state.zh}", f"{state.en}")))
    for loss in story.losses:
        add(Entry(loss.reported_at, T("挂失登记", "Loss registered"), loss.reported_by,
                  LOSS_LABELS[loss.state], f"/cases/{loss.instance_id}" if loss.instance_id else None))
    for move in session.scalars(select(RegionMove).where(RegionMove.card_id == card.id)):
        add(Entry(move.created_at, T("迁入登记", "Move registered"), move.created_by,
                  T(f"{names.get(move.from_region, move.from_region)} → {names.get(move.to_region, move.to_region)}："
                    f"{MOVE_LABELS[move.state].zh}",
                    f"{names.get(move.from_region, move.from_region)} → {names.get(move.to_region, move.to_region)}: "
                    f"{MOVE_LABELS[move.state].en}"),
                  f"/cases/{move.instance_id}" if move.instance_id else None))
    if card.stopped_at:
        add(Entry(card.stopped_at, T("停用 / 注销", "Stopped"), "", card.stop_reason or ""))
    story.entries.sort(key=lambda e: (e.at, str(e.what)))
    return story


def _application(session: Session, card: Card, add) -> None:
    from app.procedures.application.models import Application
    if not card.application_id:
        return
    app = session.get(Application, card.application_id)
    if app is None:
        return
    link = f"/cases/{app.instance_id}" if app.instance_id else None
    add(Entry(app.accepted_at, T(f"受理申领 {app.number}（{app.service_point_name}）",
                                 f"Application {app.number} accepted ({app.service_point_name})"),
              app.created_by, "", link))
    if app.handed_over_at:
        add(Entry(app.handed_over_at, T("已发放到本人", "Handed to the holder"), "", "", link))


def _custody(session: Session, card: Card, add) -> None:
    from app.procedures.distribution.models import CustodyEvent
    from app.procedures.distribution.states import CUSTODY_LABELS, RETURN_LABELS, Custody
    for e in session.scalars(select(CustodyEvent).where(CustodyEvent.card_id == card.id)):
        to = CUSTODY_LABELS.get(Custody(e.to_state)) if e.to_state in Custody._value2member_map_ else T(e.to_state, e.to_state)
        reason = RETURN_LABELS.get(e.reason) if e.reason else ""
        add(Entry(e.at, T(f"卡片去向：{to.zh}", f"Place: {to.en}"), e.by, reason or "",
                  f"/distribution/cards/{card.id}"))


def find_cards(session: Session, text: str, limit: int = 50) -> list[Card]:
    """A card by its number, or a person's cards by the whole ID number."""
    compact = "".join(str(text or "").split()).upper()
    if len(compact) == 9:
        return list(session.scalars(select(Card).where(Card.card_number == compact)))
    if len(compact) == 18:
        return list(session.scalars(select(Card).where(Card.ssn == compact).order_by(Card.id).limit(limit)))
    return []


def masked(card: Card) -> str:
    return mask_card_number(card.card_number)
