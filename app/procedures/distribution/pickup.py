"""单位批量领卡 (seed 000 §3(二)1, seed 001 §5.3): the employer's agent at the centre.

1. ``check_agent``: the agent brings the employer's seal, the introduction letter
   《领取社会保障卡单位介绍信》 (agent's name and ID number) and their own ID card. The clerk
   records the letter; the ID on the letter must be the ID shown, an agent of the employer's
   CURRENT voucher 申领凭证, under the same name; the seal is checked.
2. ``count_cards``: the cards are counted in front of both: the scanned or typed numbers must be
   exactly the employer's cards at the centre; any difference is shown, nothing is recorded.
3. ``hand_over``: both sign the handover sheet 交接单; the cards are with the employer, who hands
   each to its holder within 3 working days and returns what it could not within 6 months.

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.engine import lengths, ports
from app.procedures.batch import voucher as vouchers
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Production
from app.procedures.distribution import custody
from app.procedures.distribution.models import CardCustody, EmployerPickup, PickupCard
from app.procedures.distribution.states import (
    CUSTODY_LABELS,
    PICKUP_LABELS,
    RETURN_LABELS,
    Custody,
    PickupStatus,
    ReturnReason,
)

DISTRIBUTE_WORKING_DAYS = 3   # 在3个工作日发放完成 (seed 000 §3(二)1)
RETURN_MONTHS = 6             # 6个月内未发出的卡退回 (seed 001 §5.4)
SHOWN = custody.SHOWN
#: a pickup not yet handed over: the employer cannot start another one meanwhile
OPEN = (PickupStatus.AGENT_CHECKED, PickupStatus.COUNTED)


class PickupError(BilingualError):
    """A step of the employer pickup that cannot be done as asked (the message says why)."""

    kind = "conflict"
    code = "pickup_refused"


@dataclass(frozen=True)
class ExtraCard:
    """A counted card that is not one of this pickup's, and why (``employer``/``batch``: whose
    it is when it belongs to another employer)."""

    card_number: str
    zh: str
    en: str
    employer: str | None = None
    batch: str | None = None


class CountDiffers(PickupError):
    """The counted pile is not the list: ``missing`` (on the list, not counted), ``extra``
    (counted, not on the list: whose each one is), ``duplicates`` (counted more than once)."""

    kind = "invalid"
    code = "count_differs"

    def __init__(self, missing: list[str], extra: list[ExtraCard], duplicates: list[str]):
        self.missing, self.extra, self.duplicates = missing, extra, duplicates
        zh, en = [], []
        if missing:
            shown = "、".join(mask_card_number(n) for n in missing[:SHOWN])
            more = "等" if len(missing) > SHOWN else ""
            zh.append(f"名单上有但未清点到 {len(missing)} 张（{shown}{more}）")
            en.append(f"{len(missing)} cards on the list were not counted "
                      f"({', '.join(mask_card_number(n) for n in missing[:SHOWN])}"
                      f"{', ...' if len(missing) > SHOWN else ''})")
        if extra:
            zh.append(f"不属于本次领取的卡 {len(extra)} 张：" + "；".join(e.zh for e in extra[:SHOWN])
                      + ("等" if len(extra) > SHOWN else ""))
            en.append(f"{len(extra)} cards counted that are not of this pickup: "
                      + "; ".join(e.en for e in extra[:SHOWN]) + ("; ..." if len(extra) > SHOWN else ""))
        if duplicates:
            zh.append(f"重复清点 {len(duplicates)} 张："
                      + "、".join(mask_card_number(n) for n in duplicates[:SHOWN])
                      + ("等" if len(duplicates) > SHOWN else ""))
            en.append(f"{len(duplicates)} cards counted twice: "
                      + ", ".join(mask_card_number(n) for n in duplicates[:SHOWN])
                      + (", ..." if len(duplicates) > SHOWN else ""))
        super().__init__("清点结果与领卡名单不一致，未做任何记录，请核对后重新清点：" + "；".join(zh),
                         "The cards counted differ from the list; nothing was recorded. Check "
                         "and count again: " + "; ".join(en))


# -- helpers ----------------------------------------------------------------------------------------

def get_pickup(session: Session, pickup_id: int, *, lock: bool = False) -> EmployerPickup:
    """The pickup (locked on PostgreSQL when ``lock``), or ``PickupError`` not_found."""
    pickup = session.get(EmployerPickup, pickup_id, with_for_update=lock or None)
    if pickup is None:
        raise PickupError(f"领卡交接单 {pickup_id} 不存在", f"Pickup {pickup_id} does not exist",
                          code="pickup_not_found", kind="not_found")
    return pickup


def _employer(session: Session, employer_id: int) -> Employer:
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise PickupError(f"单位申领 {employer_id} 不存在",
                          f"Employer application {employer_id} does not exist",
                          code="employer_not_found", kind="not_found")
    return employer


def _status_refused(pickup: EmployerPickup, doing_zh: str, doing_en: str) -> PickupError:
    label = PICKUP_LABELS[PickupStatus(pickup.status)]
    return PickupError(f"交接单 {pickup.number} 当前为“{label.zh}”，不能{doing_zh}",
                       f"Pickup {pickup.number} is “{label.en}”: it cannot {doing_en}",
                       code="pickup_wrong_status")


def _same_name(a: str, b: str) -> bool:
    return vouchers.compact(a) == vouchers.compact(b)


# -- 1. the agent 核验领卡人 ----------------------------------------------------------------------

def check_agent(session: Session, employer_id: int, *, agent_name: str, agent_id: str,
                shown_id: str, seal_checked: bool, actor_name: str, office: str | None = None,
                instance_id: int | None = None) -> EmployerPickup:
    """核收介绍信，检验领卡人身份: record the introduction letter and check the agent; creates the
    pickup (交接单号 ``JJ<employer id>-<n>``), status agent_checked. Refused, with nothing
    written, when the seal was not checked, the letter's ID is not the ID shown, the agent is not
    on the employer's current voucher (``voucher.AgentNotAuthorised``: unknown, or replaced by a
    later version) or under another name, a pickup of the employer is still open, or the
    employer has no card at the centre."""
    employer = _employer(session, employer_id)
    if not str(actor_name or "").strip():
        raise PickupError("缺少经办人", "Who records the pickup is missing",
                          code="actor_missing", kind="invalid")
    if not seal_checked:
        raise PickupError("请先核验单位公章：领卡须持用人单位公章",
                          "Check the employer's seal first: the agent must bring it",
                          code="seal_not_checked", kind="invalid")
    name = vouchers.clean_text(agent_name)
    if not name:
        raise PickupError("请填写介绍信上的领卡人姓名", "Enter the agent's name from the letter",
                          code="letter_name_missing", kind="invalid")
    if len(name) > 30:
        raise PickupError("领卡人姓名超过30个字", "The agent's name is longer than 30 characters",
                          code="letter_name_invalid", kind="invalid")
    if not str(agent_id or "").strip():
        raise PickupError("请填写介绍信上的领卡人身份证号码",
                          "Enter the agent's ID number from the letter",
                          code="letter_id_missing", kind="invalid")
    letter_id, problem = vouchers.check_citizen_id(agent_id)
    if problem:
        raise PickupError(f"介绍信上的身份证号码有误：{problem[0]}",
                          f"The ID number on the letter is wrong: {problem[1]}",
                          code="letter_id_invalid", kind="invalid")
    shown = vouchers.compact(shown_id)
    if not shown:
        raise PickupError("请录入或读取领卡人出示的本人身份证号码",
                          "Enter or read the ID number of the ID card the agent shows",
                          code="shown_id_missing", kind="invalid")
    if shown != letter_id:
        raise PickupError(
            f"介绍信上的领卡人身份证号码 {mask_id(letter_id)} 与领卡人出示的身份证 {mask_id(shown)} "
            "不一致：须由介绍信上的本人持本人身份证领卡",
            f"The ID number on the letter ({mask_id(letter_id)}) is not that of the ID card shown "
            f"({mask_id(shown)}): the person named on the letter must come with their own ID card",
            code="letter_id_mismatch", kind="forbidden")
    agent = vouchers.check_agent(session, employer.code, letter_id)  # AgentNotAuthorised
    if not _same_name(name, agent.name):
        raise PickupError(
            f"介绍信上的领卡人姓名“{name}”与申领凭证上该经办人的姓名“{agent.name}”不一致"
            f"（身份证号码 {mask_id(letter_id)}），请核对介绍信",
            f"The agent's name on the letter (“{name}”) differs from the name on the voucher "
            f"(“{agent.name}”, ID number {mask_id(letter_id)}); check the letter",
            code="letter_name_mismatch", kind="forbidden")
    current = vouchers.current_voucher(session, employer.code)
    open_ = session.scalars(select(EmployerPickup).where(EmployerPickup.employer_id == employer.id,
                                                         EmployerPickup.status.in_(OPEN))
                            .order_by(EmployerPickup.id).limit(1)).first()
    if open_ is not None:
        label = PICKUP_LABELS[PickupStatus(open_.status)]
        raise PickupError(
            f"本单位的领卡交接单 {open_.number} 尚未办完（{label.zh}），请继续办理该交接单",
            f"The employer's pickup {open_.number} is not finished yet ({label.en}); continue "
            "that one",
            code="pickup_open")
    custody.ensure_custody(session, employer.id, actor_name)
    if not custody.cards_to_pick_up(session, employer.id):
        raise PickupError(f"“{employer.name}”目前没有在社保卡中心待领取的社会保障卡",
                          f"{employer.name} has no card waiting at the centre",
                          code="no_cards_waiting")
    n = session.scalar(select(func.count()).select_from(EmployerPickup)
                       .where(EmployerPickup.employer_id == employer.id)) + 1
    pickup = EmployerPickup(
        number=f"JJ{employer.id}-{n}", employer_id=employer.id, instance_id=instance_id,
        office=office, status=PickupStatus.AGENT_CHECKED, letter_agent_name=name,
        letter_agent_id=letter_id, voucher_version=current.version, seal_checked=True,
        cards=0, created_by=actor_name, created_at=utcnow())
    session.add(pickup)
    session.flush()
    return pickup


# -- 2. counting in front of both 当面清点 -----------------------------------------------------------

def _describe_extra(session: Session, employer_id: int, numbers: list[str]) -> list[ExtraCard]:
    """Whose each counted card not on the list is: another employer's (which, in which batch),
    this employer's already with its holder / picked up / returned, not yet accepted, or a
    number the platform does not know."""
    if not numbers:
        return []
    rows = {}
    for chunk in custody._chunks(numbers):
        for row in session.execute(
                select(Card.card_number, Card.id.label("card_id"), CardCustody.state,
                       CardCustody.reason, Person.id.label("person_id"),
                       Person.production, Employer.id.label("employer_id"),
                       Employer.name.label("employer"), Batch.name.label("batch"))
                .outerjoin(CardCustody, CardCustody.card_id == Card.id)
                .outerjoin(Person, or_(Person.id == CardCustody.person_id,
                                       and_(CardCustody.card_id.is_(None),
                                            Person.card_id == Card.id)))
                .outerjoin(Employer, Employer.id == Person.employer_id)
                .outerjoin(Batch, Batch.id == Employer.batch_id)
                .where(Card.card_number.in_(chunk))):
            rows[row.card_number] = row
    picked = {}
    ids = [r.card_id for r in rows.values() if r.state == Custody.WITH_EMPLOYER]
    for chunk in custody._chunks(ids):
        for card_id, number in session.execute(
                select(PickupCard.card_id, EmployerPickup.number)
                .join(EmployerPickup, EmployerPickup.id == PickupCard.pickup_id)
                .where(PickupCard.card_id.in_(chunk)).order_by(PickupCard.id)):
            picked[card_id] = number
    return [_extra(n, rows.get(n), employer_id, picked) for n in numbers]


def _extra(number: str, row, employer_id: int, picked: dict[int, str]) -> ExtraCard:
    shown = mask_card_number(number)
    if row is None:
        return ExtraCard(number, f"{shown}（本平台无此卡号，请核对卡号）",
                         f"{shown} (no such card number on the platform: check it)")
    if row.employer_id is None:
        return ExtraCard(number, f"{shown}（不是批量制卡的卡）", f"{shown} (not a card of a batch)")
    if row.employer_id != employer_id:
        return ExtraCard(number, f"{shown}（属于“{row.batch}”批次的“{row.employer}”）",
                         f"{shown} (belongs to {row.employer}, batch {row.batch})",
                         row.employer, row.batch)
    if row.state is None:
        if row.production == Production.ACCEPTED:
            return ExtraCard(number, f"{shown}（刚验收入库，请重新核验领卡人后再清点）",
                             f"{shown} (accepted just now: check the agent again, then count)")
        return ExtraCard(number, f"{shown}（本单位的卡，尚未到货验收或已作废）",
                         f"{shown} (this employer's card, not accepted on delivery or cancelled)")
    state = Custody(row.state)
    if state == Custody.WITH_EMPLOYER and row.card_id in picked:
        return ExtraCard(number, f"{shown}（已由单位领取，交接单 {picked[row.card_id]}）",
                         f"{shown} (already picked up by the employer, pickup {picked[row.card_id]})")
    if state == Custody.RETURNED and row.reason:
        why = RETURN_LABELS[ReturnReason(row.reason)]
        return ExtraCard(number, f"{shown}（已退回中心：{why.zh}）",
                         f"{shown} (returned to the centre: {why.en})")
    label = CUSTODY_LABELS[state]
    return ExtraCard(number, f"{shown}（{label.zh}）", f"{shown} ({label.en})")


def check_count(session: Session, pickup_id: int, scanned: list[str]) -> dict:
    """The count compared with the list without recording anything (a page shows it live):
    {"expected": [(card id, number, person id, seq, name)], "missing": [...], "extra":
    [ExtraCard], "duplicates": [...], "matches": bool}."""
    pickup = get_pickup(session, pickup_id)
    numbers = [n for n in (custody.normalise_number(x) for x in scanned or []) if n]
    expected = custody.cards_to_pick_up(session, pickup.employer_id)
    on_list = {row[1] for row in expected}
    counted = Counter(numbers)
    duplicates = [n for n, k in counted.items() if k > 1]
    extra = _describe_extra(session, pickup.employer_id,
                            [n for n in counted if n not in on_list])
    missing = [row[1] for row in expected if row[1] not in counted]
    return {"expected": expected, "counted": len(counted), "missing": missing, "extra": extra,
            "duplicates": duplicates, "matches": not (missing or extra or duplicates)}


def count_cards(session: Session, pickup_id: int, scanned: list[str], actor_name: str) -> dict:
    """领卡人当面清点核实卡数: the scanned or typed numbers (spaces, full-width and case do not
    matter) must be exactly the employer's cards at the centre. Any difference is refused with
    ``CountDiffers`` and nothing is recorded; otherwise the pickup's cards are written in
    roster order and the pickup is counted. Counting again before the handover replaces the
    earlier count. Returns {"cards": n}."""
    pickup = get_pickup(session, pickup_id, lock=True)
    if pickup.status not in OPEN:
        raise _status_refused(pickup, "再清点卡片", "be counted again")
    if not any(custody.normalise_number(x) for x in scanned or []):
        raise PickupError("未扫描或录入任何卡号，请逐张扫描领取的卡片",
                          "No card number was scanned or typed; scan every card handed over",
                          code="nothing_scanned", kind="invalid")
    custody.ensure_custody(session, pickup.employer_id, actor_name)
    result = check_count(session, pickup.id, scanned)
    if not result["matches"]:
        raise CountDiffers(result["missing"], result["extra"], result["duplicates"])
    session.execute(delete(PickupCard).where(PickupCard.pickup_id == pickup.id)
                    .execution_options(synchronize_session=False))
    rows = [{"pickup_id": pickup.id, "card_id": card_id, "person_id": person_id, "seq": line}
            for line, (card_id, _, person_id, _, _) in enumerate(result["expected"], 1)]
    for chunk in custody._chunks(rows):
        session.execute(insert(PickupCard), chunk)
    custody._expire(session, PickupCard)
    pickup.cards, pickup.counted_at, pickup.status = len(rows), utcnow(), PickupStatus.COUNTED
    session.flush()
    return {"cards": len(rows)}


def pickup_cards(session: Session, pickup_id: int) -> list[PickupCard]:
    """The pickup's cards in the order of its roster."""
    return list(session.scalars(select(PickupCard).where(PickupCard.pickup_id == pickup_id)
                                .order_by(PickupCard.seq, PickupCard.id)))


# -- 3. the handover 双方签字交接 -------------------------------------------------------------------

def hand_over(session: Session, pickup_id: int, actor_name: str, *, today: date,
              calendar: ports.Calendar | None = None) -> EmployerPickup:
    """双方在交接单上签字: the counted cards go to the employer (custody at_centre ->
    with_employer, the pickup on every event); the employer distributes by the 3rd working day
    after ``today`` (None when that calendar year was not entered yet) and returns what it
    could not hand out within 6 months. ``calendar``: the engine's calendar port by default."""
    pickup = get_pickup(session, pickup_id, lock=True)
    if pickup.status != PickupStatus.COUNTED:
        if pickup.status == PickupStatus.AGENT_CHECKED:
            raise PickupError(f"交接单 {pickup.number} 的卡片尚未当面清点，清点无误后才能签字交接",
                              f"The cards of pickup {pickup.number} have not been counted yet; "
                              "they are handed over once counted",
                              code="not_counted")
        raise _status_refused(pickup, "再次交接", "be handed over again")
    card_ids = [c.card_id for c in pickup_cards(session, pickup.id)]
    if not card_ids:
        raise PickupError(f"交接单 {pickup.number} 没有清点的卡片", f"Pickup {pickup.number} has no card",
                          code="not_counted")
    cal = calendar if calendar is not None else ports.calendar(session)
    try:
        distribute_by = cal.add_working_days(today, DISTRIBUTE_WORKING_DAYS)
    except ports.YearNotEntered:
        distribute_by = None  # shown as unknown until the year is entered
    custody.move(session, card_ids, Custody.WITH_EMPLOYER, actor_name, pickup_id=pickup.id,
                 note=f"单位批量领卡，交接单 {pickup.number} / employer pickup {pickup.number}")
    pickup.handed_over_at, pickup.handed_over_by = utcnow(), actor_name
    pickup.distribute_by = distribute_by
    pickup.return_by = lengths.add_months(today, RETURN_MONTHS)
    pickup.status = PickupStatus.HANDED_OVER
    session.flush()
    return pickup


__all__ = ["CountDiffers", "ExtraCard", "PickupError", "check_agent", "check_count",
           "count_cards", "get_pickup", "hand_over", "pickup_cards"]
