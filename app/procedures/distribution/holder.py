"""Pickup by the holder or a proxy at the centre 个人领卡 / 代领 (seed 000 §3(一)2, §3(二)2).

"灵活就业个人缴费参保人员和破产企业退休人员的社会保障卡，由银川市医保中心直接发放": the person comes
"亲自持身份证原件"; a proxy "必须持参保人身份证原件、户口本及代领人身份证原件、户口本". The clerk
records what was seen (``HolderPickup``) and the person or proxy signs the roster. The same
counter hands out the second issuance 二次发放 of a card an employer returned for a reason other
than wrong data (returned → reissued). A card accepted on delivery whose place was never
recorded (no employer pickup recorded it yet) is recorded at the centre when it is handed over.

A card is handed over once: a second attempt is refused saying who took it and when (at this
counter, or on the employer's signed roster).

Plain functions on a SQLAlchemy session: they flush, the caller commits; a refusal changes
nothing.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.states import CARD_LABELS, CardStatus
from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.procedures.batch.importing.reader import valid_citizen_id
from app.procedures.batch.models import Person
from app.procedures.batch.states import Production
from app.procedures.distribution import custody
from app.procedures.distribution.models import (
    CardCustody,
    CustodyEvent,
    EmployerPickup,
    HolderPickup,
    PickupCard,
)
from app.procedures.distribution.states import (
    CUSTODY_LABELS,
    Custody,
    Outcome,
    ReturnReason,
)

MAX_NAME = 30
#: kernel states in which a card cannot be handed to anyone
STOPPED = (CardStatus.LOST, CardStatus.TEMP_LOST, CardStatus.CANCELLED,
           CardStatus.CANCELLED_AFTER_LOSS)


class HolderPickupRefused(BilingualError):
    """个人领卡/代领不能办理: ``problems`` are (zh, en) pairs, each a clerk can act on."""

    kind = "conflict"
    code = "holder_pickup_refused"

    def __init__(self, problems: list[tuple[str, str]], *, code: str | None = None,
                 kind: str | None = None):
        self.problems = problems
        super().__init__("不能发卡：" + "；".join(zh for zh, _ in problems),
                         "The card cannot be handed over: " + "; ".join(en for _, en in problems),
                         code=code, kind=kind)


def _refuse(zh: str, en: str, code: str, kind: str = "conflict"):
    raise HolderPickupRefused([(zh, en)], code=code, kind=kind)


# -- who took a card, when 已领取记录

def handed_over(session: Session, card_id: int) -> tuple[date, str, str] | None:
    """When and how a card reached its holder: (day, zh, en) — "由 王五（代领）领取", "由本人在
    中心领取", "经单位发放花名册由本人签字领取" — or None when it never did."""
    pickup = session.scalars(select(HolderPickup).where(HolderPickup.card_id == card_id)).first()
    if pickup is not None:
        day = to_local_date(pickup.handed_at)
        if pickup.by_proxy:
            return (day, f"由 {pickup.proxy_name}（代领）领取",
                    f"collected by {pickup.proxy_name} (proxy)")
        return day, "由本人在中心领取", "collected by the holder at the centre"
    line = session.execute(
        select(PickupCard, EmployerPickup.number)
        .join(EmployerPickup, EmployerPickup.id == PickupCard.pickup_id)
        .where(PickupCard.card_id == card_id, PickupCard.outcome == Outcome.SIGNED)
        .order_by(PickupCard.recorded_at.desc(), PickupCard.id.desc())).first()
    event = session.scalars(
        select(CustodyEvent).where(CustodyEvent.card_id == card_id,
                                   CustodyEvent.to_state.in_((Custody.WITH_HOLDER,
                                                              Custody.REISSUED)))
        .order_by(CustodyEvent.at.desc(), CustodyEvent.id.desc())).first()
    if line is not None:
        signed, number = line
        at = signed.recorded_at or (event.at if event is not None else None)
        if at is not None:
            return (to_local_date(at), f"经单位发放花名册由本人签字领取（交接单 {number}）",
                    f"signed for by the holder on the employer's roster (handover sheet {number})")
    if event is not None:
        return (to_local_date(event.at), f"发放给本人（{event.by} 登记）",
                f"handed to the holder (recorded by {event.by})")
    return None


def already_handed(session: Session, card_id: int) -> tuple[str, str]:
    """The refusal's words for a card handed over before."""
    taken = handed_over(session, card_id)
    if taken is None:
        return "该卡已发放给本人", "The card was handed to its holder already"
    day, zh, en = taken
    return f"该卡已于 {day:%Y-%m-%d} {zh}", f"The card was {en} on {day:%Y-%m-%d}"


# -- finding the card

def _accepted(session: Session, *where):
    """(card, None, person) of a card accepted on delivery whose place is not recorded yet
    (``custody.ensure_custody`` records it when an employer's agent comes; at the counter
    ``_enter_centre`` does), the newest first."""
    row = session.execute(
        select(Card, Person).join(Person, Person.card_id == Card.id)
        .where(*where, Person.production == Production.ACCEPTED,
               ~exists().where(CardCustody.card_id == Card.id))
        .order_by(Person.batch_id.desc(), Card.id.desc())).first()
    return (row[0], None, row[1]) if row else None


def _by_number(session: Session, card_number: str):
    found = custody.find_card(session, card_number) or _accepted(
        session, Card.card_number == card_number)
    if found is None:
        _refuse(f"找不到卡号为 {mask_card_number(card_number)} 的批次社会保障卡",
                f"No batch card with the number {mask_card_number(card_number)}",
                "card_not_found", "not_found")
    return found


def _by_id_number(session: Session, id_number: str):
    """The person's newest card of a batch (the latest batch first)."""
    if not valid_citizen_id(id_number):
        _refuse(f"身份证号码 {mask_id(id_number)} 无效，请核对",
                f"The citizen ID number {mask_id(id_number)} is not valid; check it",
                "id_number_invalid", "invalid")
    held = session.execute(
        select(Card, CardCustody, Person)
        .join(CardCustody, CardCustody.card_id == Card.id)
        .join(Person, Person.id == CardCustody.person_id)
        .where(Person.id_number == id_number)
        .order_by(CardCustody.batch_id.desc(), Card.id.desc())).first()
    waiting = _accepted(session, Person.id_number == id_number)
    candidates = [tuple(c) for c in (held, waiting) if c is not None]
    if not candidates:
        _refuse(f"身份证号 {mask_id(id_number)} 没有批次制卡的社会保障卡",
                f"No batch card was made for the ID number {mask_id(id_number)}",
                "card_not_found", "not_found")
    return max(candidates, key=lambda c: (c[2].batch_id, c[0].id))


def _find(session: Session, card_number: str | None, id_number: str | None):
    card_number = custody.normalise_number(card_number)
    id_number = custody.normalise_number(id_number)
    if not card_number and not id_number:
        _refuse("请扫描卡号或输入参保人身份证号", "Scan the card number or enter the holder's ID number",
                "card_missing", "invalid")
    if card_number:
        card, held, person = _by_number(session, card_number)
        if id_number and person.id_number != id_number:
            _refuse(f"卡号 {mask_card_number(card_number)} 不是身份证号 {mask_id(id_number)} 的参保人的卡",
                    f"Card {mask_card_number(card_number)} is not the card of ID number "
                    f"{mask_id(id_number)}", "card_mismatch", "invalid")
        return card, held, person
    return _by_id_number(session, id_number)


# -- the card's state

def _check_card(session: Session, card: Card, held: CardCustody | None, person: Person) -> str:
    """The custody state the card goes to (with_holder / reissued), or a refusal."""
    label = f"卡 {mask_card_number(card.card_number)}（{person.name}）"
    label_en = f"Card {mask_card_number(card.card_number)} ({person.name})"

    def refuse(zh, en, code, kind="conflict"):
        _refuse(f"{label}：{zh}", f"{label_en}: {en}", code, kind)

    state = held.state if held is not None else Custody.AT_CENTRE   # accepted, to be recorded
    if state in (Custody.WITH_HOLDER, Custody.REISSUED) or session.scalar(
            select(HolderPickup.id).where(HolderPickup.card_id == card.id)) is not None:
        refuse(*already_handed(session, card.id), "already_handed")
    if state == Custody.INVALIDATED:
        refuse("该卡已作废，不能发放；新卡将在二次数据采集后另行制作",
               "the card was invalidated and cannot be handed out; a new card is made after "
               "the second data collection", "card_invalidated")
    if state == Custody.RETURNED and held.reason == ReturnReason.WRONG_DATA:
        refuse("信息有误，需先更正数据并重新制卡，该卡不能发放",
               "its data is wrong: the data must be corrected and a new card made; this card "
               "cannot be handed out", "wrong_data")
    if card.status in STOPPED:
        status = CARD_LABELS[CardStatus(card.status)]
        refuse(f"该卡状态为“{status.zh}”，不能发放", f"the card is “{status.en}” and cannot be "
               "handed out", "card_stopped")
    if state == Custody.AT_CENTRE:
        return Custody.WITH_HOLDER
    if state == Custody.RETURNED:
        return Custody.REISSUED   # 二次发放
    if state == Custody.WITH_EMPLOYER:
        refuse("该卡已由单位领取，请到所在单位领卡", "the card is with the employer: it is collected "
               "there", "with_employer")
    where = CUSTODY_LABELS[Custody(state)]
    refuse(f"该卡当前为“{where.zh}”，尚不能在中心发放",
           f"the card is “{where.en}” and cannot be handed out at the centre yet", "not_at_centre")


# -- the documents seen 查验证件

def _check_documents(person: Person, by_proxy: bool, holder_id_seen: bool,
                     holder_household_seen: bool, proxy_name, proxy_id_number,
                     proxy_id_seen: bool, proxy_household_seen: bool) -> tuple[str | None, str | None]:
    """The proxy's (name, ID number), or a refusal naming everything missing."""
    if not by_proxy:
        if not holder_id_seen:
            _refuse("本人领卡须出示本人身份证原件，请查验后再发卡",
                    "The holder must show the original ID card; check it before handing over",
                    "documents_missing", "invalid")
        return None, None
    problems: list[tuple[str, str]] = []
    missing = [(zh, en) for seen, zh, en in (
        (holder_id_seen, "参保人身份证原件", "the holder's original ID card"),
        (holder_household_seen, "参保人户口本", "the holder's household register"),
        (proxy_id_seen, "代领人身份证原件", "the proxy's original ID card"),
        (proxy_household_seen, "代领人户口本", "the proxy's household register")) if not seen]
    if missing:
        problems.append(("代领须查验参保人身份证原件、户口本及代领人身份证原件、户口本，尚缺："
                         + "、".join(zh for zh, _ in missing),
                         "A proxy needs the holder's original ID card and household register and "
                         "the proxy's own; missing: " + ", ".join(en for _, en in missing)))
    name = " ".join(str(proxy_name or "").split())
    if not name:
        problems.append(("请填写代领人姓名", "Enter the proxy's name"))
    elif len(name) > MAX_NAME:
        problems.append((f"代领人姓名最多 {MAX_NAME} 个字", f"The proxy's name is longer than {MAX_NAME} characters"))
    number = custody.normalise_number(proxy_id_number)
    if not number:
        problems.append(("请填写代领人身份证号码", "Enter the proxy's citizen ID number"))
    elif not valid_citizen_id(number):
        problems.append((f"代领人身份证号码 {mask_id(number)} 无效，请核对",
                         f"The proxy's citizen ID number {mask_id(number)} is not valid"))
    elif number == person.id_number:
        problems.append(("代领人不能是参保人本人；本人领卡请选择“本人领取”",
                         "The proxy cannot be the holder; choose pickup in person"))
    if problems:
        raise HolderPickupRefused(problems, code="documents_missing", kind="invalid")
    return name, number


def _enter_centre(session: Session, card: Card, person: Person, actor: str) -> None:
    """Record the place of an accepted card first seen at the counter: at the centre. An
    employer's cards are recorded all together (``custody.ensure_custody``); a card without an
    employer (flexible employment, bankrupt enterprise's retirees) on its own, the same way."""
    if person.employer_id is not None:
        custody.ensure_custody(session, person.employer_id, actor)
    if session.get(CardCustody, card.id) is not None:
        return
    now = utcnow()
    session.add(CustodyEvent(card_id=card.id, at=now, by=actor, from_state=Custody.ACCEPTED,
                             to_state=Custody.AT_CENTRE,
                             note="到货验收合格，入中心库（个人领卡） / accepted on delivery, kept at "
                                  "the centre (collected at the counter)"))
    session.add(CardCustody(card_id=card.id, person_id=person.id, employer_id=person.employer_id,
                            batch_id=person.batch_id, state=Custody.AT_CENTRE, changed_at=now,
                            changed_by=actor))
    session.flush()


def hand_to_holder(session: Session, *, card_number: str | None = None,
                   id_number: str | None = None, by_proxy: bool, holder_id_seen: bool,
                   holder_household_seen: bool = False, proxy_name: str | None = None,
                   proxy_id_number: str | None = None, proxy_id_seen: bool = False,
                   proxy_household_seen: bool = False, actor_name: str,
                   instance_id: int | None = None) -> HolderPickup:
    """个人领卡 / 代领: hand the card found by its number or by the holder's ID number (the
    person's newest batch card) to the holder or a proxy, recording the documents seen. The card
    must be at the centre (→ with_holder) or returned for a reason other than wrong data
    (→ reissued, the second issuance). ``HolderPickupRefused`` otherwise, nothing written."""
    actor = str(actor_name or "").strip()
    if not actor:
        _refuse("缺少经办人", "Who hands the card over is missing", "actor_missing", "invalid")
    card, held, person = _find(session, card_number, id_number)
    to_state = _check_card(session, card, held, person)
    name, number = _check_documents(person, bool(by_proxy), bool(holder_id_seen),
                                    bool(holder_household_seen), proxy_name, proxy_id_number,
                                    bool(proxy_id_seen), bool(proxy_household_seen))
    if held is None:
        _enter_centre(session, card, person, actor)
    pickup = HolderPickup(card_id=card.id, person_id=person.id, instance_id=instance_id,
                          by_proxy=bool(by_proxy), holder_id_seen=bool(holder_id_seen),
                          holder_household_seen=bool(holder_household_seen),
                          proxy_name=name, proxy_id_number=number,
                          proxy_id_seen=bool(by_proxy and proxy_id_seen),
                          proxy_household_seen=bool(by_proxy and proxy_household_seen),
                          handed_at=utcnow(), handed_by=actor)
    session.add(pickup)
    session.flush()
    second = "（二次发放）" if to_state == Custody.REISSUED else ""
    note = (f"代领{second}：{name}（身份证 {mask_id(number)}）" if by_proxy
            else f"本人领取{second}")
    custody.move(session, [card.id], to_state, actor, note=note)
    return pickup


__all__ = ["HolderPickupRefused", "already_handed", "hand_to_holder", "handed_over"]
