"""Data correction within a week 信息更正（一周内） (seed 000 §3(三)2).

"对社会保障卡信息与身份证信息（如：身份证号、姓名、性别、照片等）不一致的，本人在一周内要携带身份证或
户口本原件到医保中心办理信息更改，银川市医保中心负责统一填报《宁夏社会保障卡退卡回收单》（一式两联），
上报自治区人力资源和社会保障厅，待二次数据采集后，另行制卡发放。"

A card returned with wrong data opened a ``DataCorrection`` due seven calendar days later
(``returns.receive_return``). The person comes with the ID card or the household register; the
clerk notes the corrected values (``record_correction``): the card is reported to the province
through the provincial-report adapter, its custody goes returned → invalidated, the kernel
card is cancelled (which frees the person for a new card: one live card per person), and the
person's history says a new card will be made in a later batch (the second data collection
takes the person into a new batch; the batch rows are not changed here). ``overdue`` lists who
did not come within the week, ``mark_overdue`` marks one (the case's timer; the reminder SMS is
the operation ``distribution.remind_correction``).

Plain functions on a SQLAlchemy session: they flush, the caller commits; a refusal changes
nothing.
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import app.adapters as adapters
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.procedures.batch.importing.reader import valid_citizen_id
from app.procedures.batch.models import PersonEvent
from app.procedures.distribution import custody
from app.procedures.distribution.models import CardCustody, CardReturn, DataCorrection
from app.procedures.distribution.states import Custody, ReturnReason

log = logging.getLogger(__name__)

DOCUMENTS = {"id_card": ("身份证", "ID card"), "household_register": ("户口本", "household register")}
#: the fields a correction may change, in the order they are written
FIELDS = {"name": ("姓名", "name"), "sex": ("性别", "sex"), "id_number": ("身份证号", "ID number"),
          "photo": ("照片", "photo")}
SEXES = {"1": "1", "2": "2", "男": "1", "女": "2"}
SEX_WORDS = {"1": ("男", "male"), "2": ("女", "female")}
STOP_REASON = "信息错误，已退卡上报"
NEW_PHOTO = "重新采集照片"
MAX_NAME = 30
MAX_PHOTO_NOTE = 100


class CorrectionNotFound(BilingualError):
    kind = "not_found"
    code = "correction_not_found"

    def __init__(self, correction_id):
        super().__init__(f"找不到编号为 {correction_id} 的信息更正", f"No data correction with id {correction_id}")


class CorrectionRefused(BilingualError):
    """信息更正不能办理: ``problems`` are (zh, en) pairs."""

    kind = "invalid"
    code = "correction_refused"

    def __init__(self, problems: list[tuple[str, str]], *, kind: str | None = None):
        self.problems = problems
        super().__init__("不能办理信息更正：" + "；".join(zh for zh, _ in problems),
                         "The correction cannot be recorded: " + "; ".join(en for _, en in problems),
                         kind=kind)


def get_correction(session: Session, correction_id) -> DataCorrection:
    correction = session.get(DataCorrection, correction_id) if isinstance(correction_id, int) else None
    if correction is None:
        raise CorrectionNotFound(correction_id)
    return correction


# -- the corrected values

def _shown(field: str, value) -> str:
    """A value as the history line shows it (ID numbers masked, sexes in words)."""
    if value is None:
        return "—"
    if field == "id_number":
        return mask_id(value)
    if field == "sex":
        return SEX_WORDS.get(str(value), (str(value), str(value)))[0]
    return str(value)


def _clean_fields(fields, card: Card, problems: list) -> dict[str, list]:
    """{field: [old, new]} of the corrected values; the problems noted."""
    if not isinstance(fields, dict) or not any(v not in (None, "", False) for v in fields.values()):
        problems.append(("请至少填写一项更正内容（姓名、性别、身份证号或照片）",
                         "Enter at least one corrected value (name, sex, ID number or photo)"))
        return {}
    unknown = [str(k) for k in fields if k not in FIELDS]
    if unknown:
        problems.append((f"不能更正的项目：{'、'.join(unknown)}（只能更正姓名、性别、身份证号、照片）",
                         f"These cannot be corrected: {', '.join(unknown)} (name, sex, ID number, "
                         "photo only)"))
    old = {"name": card.name, "sex": card.sex, "id_number": card.ssn, "photo": None}
    corrected: dict[str, list] = {}
    for key in FIELDS:
        value = fields.get(key)
        if value in (None, "", False):
            continue
        zh, en = FIELDS[key]
        if key == "name":
            new = " ".join(str(value).split())
            if not new or len(new) > MAX_NAME:
                problems.append((f"姓名应为 1 至 {MAX_NAME} 个字", f"The name must have 1 to {MAX_NAME} characters"))
                continue
        elif key == "sex":
            new = SEXES.get(str(value).strip())
            if new is None:
                problems.append(("性别应为“男”或“女”", "The sex must be male or female"))
                continue
        elif key == "id_number":
            new = str(value).strip().upper()
            if not valid_citizen_id(new):
                problems.append((f"更正后的身份证号码 {mask_id(new)} 无效，请核对",
                                 f"The corrected citizen ID number {mask_id(new)} is not valid"))
                continue
        else:  # photo: noted, taken again at the second data collection
            new = NEW_PHOTO if value is True else " ".join(str(value).split())[:MAX_PHOTO_NOTE]
        if key != "photo" and new == old[key]:
            problems.append((f"{zh}与卡面信息相同，无需更正", f"The {en} is the same as on the card"))
            continue
        corrected[key] = [old[key], new]
    return corrected


def _history(corrected: dict, document: str, card: Card, report: str) -> tuple[str, str]:
    doc_zh, doc_en = DOCUMENTS[document]
    zh = "、".join(f"{FIELDS[k][0]} {_shown(k, o)}→{_shown(k, n)}" if k != "photo"
                  else f"照片（{n}）" for k, (o, n) in corrected.items())
    en = ", ".join(f"{FIELDS[k][1]} {_shown(k, o)} → {_shown(k, n)}" if k != "photo"
                   else f"photo ({n})" for k, (o, n) in corrected.items())
    masked = mask_card_number(card.card_number)
    return (f"凭{doc_zh}原件办理信息更正：{zh}；原卡 {masked} 已作废并上报省级（{report}），"
            "待二次数据采集后在以后批次另行制卡",
            f"Data corrected on the original {doc_en}: {en}; the old card {masked} was "
            f"invalidated and reported to the province ({report}); a new card will be made in a "
            "later batch after the second data collection")


def _reason_text(corrected: dict) -> str:
    return "信息错误：" + "、".join(FIELDS[k][0] for k in corrected)


def record_correction(session: Session, correction_id: int, fields: dict, actor_name: str, *,
                      document: str) -> DataCorrection:
    """信息更正: the person came with ``document`` ("id_card" or "household_register"); ``fields``
    holds the corrected name / sex / id_number / photo (at least one; a photo is noted, True or
    a note). Stores ``corrected`` {field: [old, new]}, reports the card to the province
    (``reported``), invalidates it (custody and the kernel card) and writes the person's
    history. ``CorrectionRefused`` otherwise, nothing changed."""
    correction = get_correction(session, correction_id)
    card = session.get(Card, correction.card_id)
    held = session.get(CardCustody, correction.card_id)
    masked = mask_card_number(card.card_number)
    if correction.corrected_at is not None:
        day = to_local_date(correction.corrected_at)
        raise CorrectionRefused([(f"卡 {masked} 的信息更正已于 {day:%Y-%m-%d} 由 "
                                  f"{correction.corrected_by} 办理", f"The data of card {masked} was "
                                  f"corrected on {day:%Y-%m-%d} by {correction.corrected_by}")],
                                kind="conflict")
    if held is None or held.state != Custody.RETURNED or held.reason != ReturnReason.WRONG_DATA:
        raise CorrectionRefused([(f"卡 {masked} 不是因信息错误退回中心的卡，不能办理信息更正",
                                  f"Card {masked} is not a card returned for wrong data")],
                                kind="conflict")
    problems: list[tuple[str, str]] = []
    actor = str(actor_name or "").strip()
    if not actor:
        problems.append(("缺少经办人", "Who records the correction is missing"))
    if document not in DOCUMENTS:
        problems.append(("须查验本人身份证或户口本原件，请选择所出示的证件",
                         "The person must show the original ID card or household register; "
                         "choose the one shown"))
    corrected = _clean_fields(fields, card, problems)
    if problems:
        raise CorrectionRefused(problems)
    returned = session.get(CardReturn, correction.return_id)
    number = adapters.provincial_report(session).report_returned([{
        "card_number": card.card_number, "id_number": card.ssn, "name": card.name,
        "reason": _reason_text(corrected), "returned_on": to_local_date(returned.received_at)}])
    now = utcnow()
    correction.corrected = corrected
    correction.corrected_at = now
    correction.corrected_by = actor
    correction.reported = number
    custody.move(session, [card.id], Custody.INVALIDATED, actor, reason=ReturnReason.WRONG_DATA,
                 return_id=correction.return_id, note=f"信息更正，已上报省级 {number}")
    card.status = CardStatus.CANCELLED
    card.stopped_at = now
    card.stop_reason = STOP_REASON
    zh, en = _history(corrected, document, card, number)
    session.add(PersonEvent(person_id=correction.person_id, by=actor, at=now, text_zh=zh,
                            text_en=en))
    session.flush()
    log.info("correction %s: card %s reported (%s) and invalidated", correction.id, masked, number)
    return correction


# -- the week's deadline 一周期限

def overdue(session: Session, today: date) -> list[DataCorrection]:
    """逾期未更正: corrections whose week has passed (due_on before ``today``), not corrected."""
    return list(session.scalars(
        select(DataCorrection).where(DataCorrection.corrected_at.is_(None),
                                     DataCorrection.due_on < today)
        .order_by(DataCorrection.due_on, DataCorrection.id)))


def mark_overdue(session: Session, correction_id: int, *, today: date | None = None) -> DataCorrection:
    """Mark a correction overdue 逾期 (the week's timer). A corrected one is left as it is (the
    person came); with ``today``, one whose week has not passed is refused."""
    correction = get_correction(session, correction_id)
    if correction.corrected_at is not None or correction.overdue:
        return correction
    if today is not None and correction.due_on >= today:
        raise CorrectionRefused([(f"更正期限为 {correction.due_on:%Y-%m-%d}，尚未逾期",
                                  f"The correction is due on {correction.due_on:%Y-%m-%d}; "
                                  "it is not overdue yet")], kind="conflict")
    correction.overdue = True
    session.add(PersonEvent(person_id=correction.person_id, by="system", at=utcnow(),
                            text_zh=f"逾期未办理信息更正（期限 {correction.due_on:%Y-%m-%d}）",
                            text_en="The data correction is overdue (due on "
                                    f"{correction.due_on:%Y-%m-%d})"))
    session.flush()
    return correction


__all__ = ["CorrectionNotFound", "CorrectionRefused", "DOCUMENTS", "FIELDS", "STOP_REASON",
           "get_correction", "mark_overdue", "overdue", "record_correction"]
