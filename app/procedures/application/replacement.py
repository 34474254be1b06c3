"""Replacement 补卡 and exchange 换卡 (seed 002 §1: the windows handle "新增人员制卡、换卡、补卡和
立等可取服务"; the outlets take 补换卡 applications within 15 working days).

Both are applications of the family's two procedures (``instant_issuance``,
``outlet_application``) with the purpose 申领类型 on the application form; nothing else in the
diagrams differs but the refusal of an old card that does not qualify (``application.record``
raises ``old_card_refused``, an error boundary event takes the clerk back to the form):

- **补卡 replacement**: the person's card was formally reported lost (kernel ``CardStatus.LOST``,
  the lifecycle family's 正式挂失). When the new card number is allocated the lost card becomes
  挂失后注销 (``CANCELLED_AFTER_LOSS``) and never lives again (``Card._stays_dead`` and the
  one-live-card unique index guard it). :func:`cancel_lost_card`.
- **换卡 exchange**: the person's live card (未启用 or 正常) is damaged and handed in at the
  counter; handing it in is the consent to stop it. The shared checks stop it in the archive
  (注销, reason 换卡) and a card job ``block`` locks its social-security application on the chip
  at the producing window (:func:`queue_block_job`; no case waits for it: the lifecycle family's
  result hook records it on the card's history).

Both pay the card fee 工本费 (``app.procedures.application.fees``) with a receipt. The new card
keeps the person's social security number (= ID number) and gets a new card number.

:func:`start_replacement` opens such a case with its application form filled in from the old
card and the person's previous application (the lifecycle family calls it after a formal loss).
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.models import Card, CardJob, ServicePoint
from app.cards.rules import live_card_of
from app.cards.states import (CARD_BEING_MADE, CARD_LABELS, DEAD_CARD_STATES, CardStatus,
                              JobState, ServicePointKind)
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.engine import runtime
from app.engine.errors import EngineError
from app.engine.models import ACTIVE_STATUSES, ProcessInstance
from app.engine.services import Actor
from app.procedures.application.models import Application
from app.procedures.application.states import (FINAL_APPLICATION_STATES, REPLACING, Purpose)

log = logging.getLogger(__name__)

#: the error code ``application.record`` raises for an old card that does not qualify; the
#: error boundary event ``old_card_refused`` of both diagrams takes the clerk back to the form
REFUSED = "old_card_refused"
#: the statuses an exchanged card may have: live and in the holder's hands
EXCHANGEABLE = (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE)
#: process key -> the kind of service point that takes its applications
PROCESSES = {"instant_issuance": ServicePointKind.WINDOW,
             "outlet_application": ServicePointKind.OUTLET}
#: the stop reason an exchanged card gets in the archive (followed by the application number)
EXCHANGE_STOP_REASON = "换卡"
REPLACEMENT_STOP_REASON = "挂失后补卡"


class ReplacementRefused(BilingualError):
    """An old card that does not qualify for the replacement or exchange asked for (the
    clerk's message says why), or a bad request to :func:`start_replacement`."""

    kind = "invalid"

    def __init__(self, zh: str, en: str, code: str = REFUSED):
        super().__init__(zh, en, code=code)


def _label(status: str):
    label = CARD_LABELS.get(status)
    return (label.zh, label.en) if label is not None else (status, status)


# -- the rules 补换卡规则 --------------------------------------------------------------------------

def old_card_of(session: Session, number: str | None, for_update: bool = False) -> Card | None:
    """The archive's card with this number (upper case, spaces ignored), or None."""
    key = "".join(str(number or "").split()).upper()
    if not key:
        return None
    query = select(Card).where(Card.card_number == key)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def check_old_card(session: Session, purpose: str, card_number: str | None,
                   id_number: str | None, handed_in: bool = True) -> Card | None:
    """The old card of a replacement or exchange, checked; None for a first card. Raises
    :class:`ReplacementRefused` (bilingual, for the clerk) when

    - no card number is given, or the archive has no card with that number;
    - the card is another person's (its social security number is not ``id_number``);
    - 补卡: the card is not formally reported lost (``LOST``), or the person already holds a
      live card (a replacement made already, one being made);
    - 换卡: the card is not live in the holder's hands (未启用 / 正常), or it was not handed in.
    """
    if purpose not in REPLACING:
        return None
    if not card_number:
        raise ReplacementRefused("补卡、换卡须填写原社保卡卡号",
                                 "A replacement or exchange needs the old card's number")
    card = old_card_of(session, card_number)
    masked = mask_card_number("".join(str(card_number).split()).upper())
    if card is None:
        raise ReplacementRefused(
            f"全省社保卡档案库中没有卡号为 {masked} 的社保卡，请核对原卡卡号",
            f"The provincial card archive has no card numbered {masked}: check the old card's number")
    if card.ssn.upper() != str(id_number or "").upper():
        raise ReplacementRefused(
            f"社保卡 {masked} 不是申请人本人的卡（卡上的社会保障号码与申请人的证件号码不一致），"
            "不能为他人补卡或换卡",
            f"Card {masked} is not the applicant's own (its social security number differs from "
            "the applicant's ID number): another person's card cannot be replaced or exchanged")
    zh, en = _label(card.status)
    if card.status in DEAD_CARD_STATES:
        raise ReplacementRefused(
            f"社保卡 {masked} 已{zh}，不能再补卡或换卡（申请人如已持有新卡，以新卡为准）",
            f"Card {masked} is already cancelled ({en}): it cannot be replaced or exchanged again "
            "(a newer card of the applicant is the one that counts)")
    if card.status in CARD_BEING_MADE:
        raise ReplacementRefused(
            f"社保卡 {masked} 尚在制作中（{zh}），不能补卡或换卡",
            f"Card {masked} is still being made ({en}): it cannot be replaced or exchanged")
    if purpose == Purpose.REPLACEMENT:
        if card.status == CardStatus.TEMP_LOST:
            raise ReplacementRefused(
                "该卡仅临时挂失，未正式挂失，不能补卡：请申请人持本人居民身份证原件先办理正式挂失",
                "The card is only temporarily reported lost, not formally: no replacement yet; the "
                "holder reports the loss formally first, in person with the resident ID card")
        if card.status != CardStatus.LOST:
            raise ReplacementRefused(
                "该卡未正式挂失，不能补卡，请先办理正式挂失（卡片损坏且仍在手中的，请办理换卡）",
                "The card has not been formally reported lost: no replacement; report the loss "
                "formally first (a damaged card still in hand is exchanged instead)")
        live = live_card_of(session, card.ssn)
        if live is not None:
            lzh, len_ = _label(live.status)
            raise ReplacementRefused(
                f"申请人已有一张有效或正在制作的社保卡（{live.card_number_masked}，{lzh}），"
                "一人只能持有一张社保卡，不能再补卡",
                f"The applicant already holds a live card or one being made ({live.card_number_masked}, "
                f"{len_}); one person holds one card: no replacement")
    else:  # exchange
        if card.status == CardStatus.LOST:
            raise ReplacementRefused(
                "该卡已正式挂失，不能换卡，请办理补卡",
                "The card is formally reported lost: no exchange; apply for a replacement instead")
        if card.status == CardStatus.TEMP_LOST:
            raise ReplacementRefused(
                "该卡已临时挂失，不能换卡：卡已找回的，请先解除挂失；卡已遗失的，请先办理正式挂失再补卡",
                "The card is temporarily reported lost: no exchange; if the card was found, lift "
                "the loss report first; if it is lost, report it formally and apply for a replacement")
        if card.status not in EXCHANGEABLE:
            raise ReplacementRefused(f"社保卡 {masked} 当前状态为{zh}，不能换卡",
                                     f"Card {masked} is {en}: it cannot be exchanged")
        if not handed_in:
            raise ReplacementRefused(
                "换卡须收回原卡：请收回申请人的原社保卡，并勾选“申请人已交回原卡”",
                "An exchange takes the old card back: take the applicant's old card and tick "
                "“The applicant handed in the old card”")
    return card


# -- what happens to the old card 原卡的处理 -------------------------------------------------------

def queue_block_job(session: Session, app: Application, card: Card) -> CardJob:
    """换卡: the card job that blocks the old card's social-security application on the chip
    (应用锁定) at the producing window; no case waits for it (``instance_id`` None: the result
    is recorded by the hook registered in ``app.cards.jobs.RESULT_HOOKS``). Once per application
    and card (a retried step finds the job it queued)."""
    job = session.scalars(select(CardJob).where(
        CardJob.card_id == card.id, CardJob.application_id == app.id, CardJob.kind == "block",
        CardJob.state != JobState.CANCELLED).order_by(CardJob.id)).first()
    if job is not None:
        return job
    job = CardJob(instance_id=None, application_id=app.id, card_id=card.id, kind="block",
                  window=app.window, state=JobState.QUEUED,
                  payload={"card": card.chip_data()})  # the station checks ssn + card_number
    session.add(job)
    session.flush()
    log.info("block job %s queued at %s for card %s (exchange %s)", job.id, app.window,
             card.card_number_masked, app.number)
    return job


def cancel_lost_card(session: Session, app: Application, now: datetime) -> Card | None:
    """补卡: once the new card has its number, the formally lost old card becomes 挂失后注销
    (final). Nothing for another purpose, or when the card is no longer formally lost (a step
    retried after it was cancelled)."""
    if app.purpose != Purpose.REPLACEMENT:
        return None
    card = old_card_of(session, app.old_card_number, for_update=True)
    if card is None or card.ssn.upper() != app.id_number.upper():
        return None
    if card.status == CardStatus.LOST:
        card.status = CardStatus.CANCELLED_AFTER_LOSS
        card.stopped_at = now
        card.stop_reason = f"{REPLACEMENT_STOP_REASON}（申领编号 {app.number}）"
        app.old_card_stopped = card.card_number
        session.flush()
        log.info("lost card %s of %s cancelled after loss: replaced by application %s",
                 card.card_number_masked, mask_id(card.ssn), app.number)
    return card


# -- a case opened with its form filled in 预填申领表 ---------------------------------------------

#: the person's fields of the application form taken from their previous application
PERSON_FIELDS = ("name", "sex", "ethnicity", "birth_date", "id_type", "id_number",
                 "id_valid_from", "id_valid_to", "id_long_term", "country", "household_address",
                 "residence_address", "residence_postcode", "mobile", "landline", "occupation",
                 "employer", "medical_insurance_type", "insurance_agency")
CITY_OF_SHISHI = "350500"  # 泉州市: the city of the cards this platform issues (石狮市 350581)


def _city(region_code: str | None) -> str:
    code = region_code or ""
    return code[:4] + "00" if len(code) == 6 and code.isdigit() else CITY_OF_SHISHI


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def previous_application(session: Session, card: Card) -> Application | None:
    """The application the old card was made for, else the person's newest application."""
    if card.application_id is not None:
        app = session.get(Application, card.application_id)
        if app is not None:
            return app
    return session.scalars(select(Application).where(Application.id_number == card.ssn)
                           .order_by(Application.id.desc())).first()


def prefill(session: Session, card: Card, purpose: str) -> dict:
    """The application form's values for a replacement or exchange of ``card``: purpose, the
    old card, and the person from their previous application (else from the card itself).
    No photo: the clerk takes one (the form requires it)."""
    previous = previous_application(session, card)
    if previous is not None:
        person = {f: _plain(getattr(previous, f)) for f in PERSON_FIELDS}
    else:
        person = {"name": card.name, "sex": card.sex, "ethnicity": card.ethnicity,
                  "birth_date": _plain(card.birth_date), "id_type": "resident_id",
                  "id_number": card.ssn}
    data = {k: v for k, v in person.items() if v not in (None, "")}
    data.update(purpose=str(purpose), first_card="no", old_card_city=_city(card.region_code),
                old_card_number=card.card_number,
                consent_stop_old_card=purpose == Purpose.EXCHANGE, old_card_handed_in=False,
                old_card_id=card.id)  # not a form field: how start_replacement finds its draft
    return data


def start_replacement(session: Session, *, process: str, service_point: str, purpose: str,
                      old_card_id: int, actor: Actor) -> int:
    """Open a replacement (``purpose="replacement"``) or exchange (``"exchange"``) case of
    ``process`` (``"instant_issuance"`` at a bank window, ``"outlet_application"`` at an
    outlet) at the service point with code ``service_point``, for the old card ``old_card_id``;
    returns the case (instance) id.

    The case belongs to that service point (its clerks get the intake task); its application
    form opens filled in with the purpose, the old card's number and city and the person's data
    from their previous application or the old card (:func:`prefill`). The clerk checks it,
    takes the photo and submits; the form's rules and ``application.record`` apply as for any
    application.

    Refused with :class:`ReplacementRefused` (bilingual; nothing written) for an unknown
    process, purpose, service point (or one of the wrong kind) or card, and when the card does
    not qualify now (:func:`check_old_card` with the card's own holder). Idempotent: an open
    case of that process for the same card and purpose (its form not yet submitted, or its
    application still running, even once the lost card was cancelled by it) is returned
    instead of a second one.

    Starting a case is a step of its own (``runtime.start_instance``): it commits ``session``
    (a transaction the caller had open is continued and committed with it, as every step does)
    and raises the engine's errors (``ProcessNotFound``...).
    """
    began = not session.in_transaction()  # our reads only: end them before the step
    try:
        card, office = _startable(session, process, service_point, purpose, old_card_id)
        existing = _open_case(session, process, office, card, purpose)
        if existing is None:  # a new case: the card must qualify now
            check_old_card(session, purpose, card.card_number, card.ssn, handed_in=True)
            data = prefill(session, card, purpose)
    finally:
        if began:  # the step then begins its own transaction (SQLite: the write lock first)
            session.rollback()
    if existing is not None:
        return existing
    instance = runtime.start_instance(session, process, data, None,
                                      dataclasses.replace(actor, office=office))
    log.info("%s case %s opened at %s for card %s", purpose, instance.id, office,
             mask_card_number(data["old_card_number"]))
    return instance.id


def _startable(session: Session, process: str, service_point: str, purpose: str,
               old_card_id: int) -> tuple[Card, str]:
    """(the old card, the service point's code) of a well-formed request; else
    :class:`ReplacementRefused`."""
    if process not in PROCESSES:
        raise ReplacementRefused(f"不能以此流程补换卡：{process!r}",
                                 f"No replacement or exchange through {process!r}", code="bad_process")
    if purpose not in REPLACING:
        raise ReplacementRefused(f"申领类型无效：{purpose!r}（应为补卡或换卡）",
                                 f"Invalid purpose {purpose!r} (replacement or exchange)",
                                 code="bad_purpose")
    point = session.scalars(select(ServicePoint).where(ServicePoint.code == service_point)).first()
    if point is None or not point.active or point.kind != PROCESSES[process]:
        raise ReplacementRefused(
            f"受理网点 {service_point!r} 不存在、已停用或不办理此流程",
            f"Service point {service_point!r} does not exist, is closed or does not take "
            "this procedure", code="unknown_service_point")
    card = session.get(Card, old_card_id)
    if card is None:
        raise ReplacementRefused(f"档案库中没有编号为 {old_card_id} 的社保卡",
                                 f"No card {old_card_id} in the archive", code="card_unknown")
    return card, point.code


def _open_case(session: Session, process: str, office: str, card: Card, purpose: str) -> int | None:
    """An open case of ``process`` for ``card`` and ``purpose``: one whose application runs,
    else a draft of that office whose form was opened for it (by its start data)."""
    running = session.scalars(select(Application.instance_id).where(
        Application.old_card_number == card.card_number, Application.purpose == purpose,
        Application.status.not_in(FINAL_APPLICATION_STATES), Application.instance_id.is_not(None))
        .order_by(Application.id.desc())).first()
    if running is not None:
        return running
    recorded = select(Application.id).where(Application.instance_id == ProcessInstance.id).exists()
    drafts = session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.process_key == process, ProcessInstance.office == office,
        ProcessInstance.status.in_(ACTIVE_STATUSES), ~recorded)
        .order_by(ProcessInstance.id.desc()).limit(50)).all()
    for instance_id in drafts:
        try:
            data = runtime.instance_data(session, instance_id)
        except EngineError:
            continue
        if data.get("old_card_id") == card.id and data.get("purpose") == purpose:
            return instance_id
    return None
