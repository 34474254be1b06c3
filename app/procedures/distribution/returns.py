"""Return of cards 退卡回收 (seed 000 §3(三)).

"对未发出的社会保障卡（如：调离、异地退休人员、死亡等）和社会保障卡信息与身份证信息不一致的卡，要在
《社会保障卡发放花名册》上注明原因，分别管理，一并退回医保中心。经双方确认，点验卡数，填写《银川市社会
保障卡退卡回收单》（一式两联）": the employer's agent brings back every card not handed out and
every card with wrong data, each with its reason; the clerk scans them, both sides count the two
groups, and the platform prints the return slip 退卡回收单 in two copies (``returned_cards``).

Each card goes with_employer → returned with its reason; a card with wrong data opens a data
correction 信息更正 due within one week (seven calendar days, "本人在一周内要携带身份证或户口本原件到
医保中心办理信息更改", see ``corrections``). The centre sorts the other returned cards for a second
issuance (``holder.hand_to_holder`` or a new employer pickup).

Plain functions on a SQLAlchemy session: they flush, the caller commits; a refusal lists every
card that cannot be received and writes nothing.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.procedures.batch.models import Employer, Person
from app.procedures.distribution import custody
from app.procedures.distribution.holder import handed_over
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)
from app.procedures.distribution.states import (
    CUSTODY_LABELS,
    NOT_HANDED_OUT,
    RETURN_LABELS,
    Custody,
    ReturnReason,
)

CORRECTION_DAYS = 7       # 一周内 (calendar days)
MAX_NOTE = 200
MAX_AGENT = 30
SLIP_TITLE = "社会保障卡退卡回收单"
SLIP_COPIES = 2           # 一式两联，双方各留一份


class ReturnNotFound(BilingualError):
    kind = "not_found"

    def __init__(self, zh: str, en: str, code: str = "not_found"):
        super().__init__(zh, en, code=code)


class ReturnRefused(BilingualError):
    """退卡不能办理: ``problems`` are (zh, en) pairs, one per card or field."""

    kind = "conflict"
    code = "return_refused"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("不能办理退卡：" + "；".join(zh for zh, _ in problems),
                         "The return cannot be received: " + "; ".join(en for _, en in problems))


def is_wrong_data(reason: str) -> bool:
    return reason == ReturnReason.WRONG_DATA


def correction_due(today: date) -> date:
    """The last day the person may come to correct the data: a week, in calendar days."""
    return today + timedelta(days=CORRECTION_DAYS)


# -- checking what the agent brought

@dataclass
class _Line:
    number: str
    reason: str
    note: str | None
    card: Card | None = None
    held: CardCustody | None = None
    person: Person | None = None


def _labels(line: _Line) -> tuple[str, str]:
    masked = mask_card_number(line.number)
    if line.person is not None:
        return f"卡 {masked}（{line.person.name}）", f"Card {masked} ({line.person.name})"
    return f"卡号 {masked}", f"Card {masked}"


def _read_lines(cards, problems: list) -> list[_Line]:
    if not isinstance(cards, (list, tuple)) or not cards:
        problems.append(("没有扫描要退回的卡", "No card was scanned for the return"))
        return []
    lines, seen = [], set()
    valid_reasons = {r.value for r in ReturnReason}
    for i, entry in enumerate(cards, 1):
        entry = entry if isinstance(entry, dict) else {}
        number = custody.normalise_number(entry.get("card_number"))
        if not number:
            problems.append((f"第 {i} 张卡缺少卡号", f"Card {i}: the card number is missing"))
            continue
        masked = mask_card_number(number)
        if number in seen:
            problems.append((f"卡号 {masked} 重复扫描", f"Card {masked} was scanned twice"))
            continue
        seen.add(number)
        reason = str(entry.get("reason") or "").strip()
        note = " ".join(str(entry.get("note") or "").split()) or None
        if not reason:
            problems.append((f"卡号 {masked} 未注明退卡原因", f"Card {masked}: the reason is missing"))
        elif reason not in valid_reasons:
            problems.append((f"卡号 {masked} 的退卡原因“{reason[:20]}”无效",
                             f"Card {masked}: '{reason[:20]}' is not a return reason"))
        elif reason == ReturnReason.OTHER and not note:
            problems.append((f"卡号 {masked} 的退卡原因为“其他”，请注明具体原因",
                             f"Card {masked}: the reason is 'other'; say what it is"))
        if note and len(note) > MAX_NOTE:
            problems.append((f"卡号 {masked} 的备注最多 {MAX_NOTE} 字",
                             f"Card {masked}: the note is longer than {MAX_NOTE} characters"))
        lines.append(_Line(number, reason, note))
    return lines


def _load(session: Session, lines: list[_Line]) -> None:
    if not lines:
        return
    rows = session.execute(
        select(Card, CardCustody, Person)
        .outerjoin(CardCustody, CardCustody.card_id == Card.id)
        .outerjoin(Person, Person.id == CardCustody.person_id)
        .where(Card.card_number.in_([line.number for line in lines]))).all()
    found = {card.card_number: (card, held, person) for card, held, person in rows}
    for line in lines:
        line.card, line.held, line.person = found.get(line.number, (None, None, None))


def _check_card(session: Session, line: _Line, employer: Employer, pickup: EmployerPickup | None,
                problems: list) -> None:
    zh, en = _labels(line)
    if line.card is None or line.held is None:
        problems.append((f"{zh}：找不到该批次社会保障卡，请核对卡号",
                         f"{en}: no batch card has this number; check it"))
        return
    held = line.held
    if held.employer_id != employer.id:
        other = session.get(Employer, held.employer_id) if held.employer_id else None
        if other is None:
            problems.append((f"{zh}：该卡属于个人领卡人员（由中心直接发放），不是本单位的卡",
                             f"{en}: the card is collected by its holder at the centre, not "
                             "through this employer"))
        else:
            problems.append((f"{zh}：该卡属于 {other.name}（单位编码 {other.code}），不是本单位的卡",
                             f"{en}: the card belongs to {other.name} (employer code "
                             f"{other.code}), not to this employer"))
        return
    if held.state in (Custody.WITH_HOLDER, Custody.REISSUED):
        since_zh, since_en = _with_holder_since(session, line.card.id)
        problems.append((f"{zh}：{since_zh}，不能退回", f"{en}: {since_en}; it cannot be returned"))
        return
    if held.state != Custody.WITH_EMPLOYER:
        where = CUSTODY_LABELS[Custody(held.state)]
        problems.append((f"{zh}：该卡当前为“{where.zh}”，不在本单位，不能退回",
                         f"{en}: the card is “{where.en}”, not with the employer; it cannot "
                         "be returned"))
        return
    earlier = session.execute(
        select(CardReturn.number).join(ReturnedCard, ReturnedCard.return_id == CardReturn.id)
        .where(ReturnedCard.card_id == line.card.id)).scalar()
    if earlier is not None:
        # distribution_return_card is unique per card: a card returned once cannot be returned
        # again after a second issuance through the employer (see the lead's models)
        problems.append((f"{zh}：该卡已在退卡回收单 {earlier} 中退回过，不能再次登记退卡",
                         f"{en}: the card was returned on slip {earlier} before and cannot be "
                         "returned again"))
        return
    if pickup is not None and session.scalar(
            select(PickupCard.id).where(PickupCard.pickup_id == pickup.id,
                                        PickupCard.card_id == line.card.id)) is None:
        problems.append((f"{zh}：该卡不在交接单 {pickup.number} 中",
                         f"{en}: the card is not on handover sheet {pickup.number}"))


def _with_holder_since(session: Session, card_id: int) -> tuple[str, str]:
    """"该卡已于 2026-11-03 发放给本人（经单位发放花名册由本人签字领取…）": when and how."""
    taken = handed_over(session, card_id)
    if taken is None:
        return "该卡已发放给本人", "the card was handed to its holder already"
    day, how_zh, how_en = taken
    if how_zh.startswith("发放给本人"):
        return f"该卡已于 {day:%Y-%m-%d} {how_zh}", f"the card was {how_en} on {day:%Y-%m-%d}"
    return (f"该卡已于 {day:%Y-%m-%d} 发放给本人（{how_zh}）",
            f"the card was handed to its holder on {day:%Y-%m-%d} ({how_en})")


def _next_number(session: Session, employer_id: int) -> str:
    count = session.scalar(select(func.count()).select_from(CardReturn)
                           .where(CardReturn.employer_id == employer_id)) or 0
    return f"TK{employer_id}-{count + 1}"


def receive_return(session: Session, employer_id: int, agent_name: str, cards: list[dict],
                   actor_name: str, *, pickup_id: int | None = None, today: date) -> CardReturn:
    """退卡回收: the cards ``{"card_number", "reason", "note"}`` the employer's agent brought
    back. Every card must be this employer's and with the employer; the two groups (not
    handed out; wrong data) are counted apart; each card goes with_employer → returned with its
    reason, a wrong-data card opens a ``DataCorrection`` due in seven calendar days. The slip's
    number is ``TK<employer id>-<n>``. ``ReturnRefused`` lists every problem, nothing written."""
    employer = session.get(Employer, employer_id) if isinstance(employer_id, int) else None
    if employer is None:
        raise ReturnNotFound(f"找不到编号为 {employer_id} 的单位", f"No employer with id {employer_id}",
                             code="employer_not_found")
    problems: list[tuple[str, str]] = []
    actor = str(actor_name or "").strip()
    if not actor:
        problems.append(("缺少经办人", "Who receives the cards is missing"))
    agent = " ".join(str(agent_name or "").split())
    if not agent:
        problems.append(("请填写单位退卡人姓名", "Enter the name of the employer's agent"))
    elif len(agent) > MAX_AGENT:
        problems.append((f"退卡人姓名最多 {MAX_AGENT} 个字",
                         f"The agent's name is longer than {MAX_AGENT} characters"))
    pickup = None
    if pickup_id is not None:
        pickup = session.get(EmployerPickup, pickup_id) if isinstance(pickup_id, int) else None
        if pickup is None or pickup.employer_id != employer.id:
            problems.append((f"交接单（编号 {pickup_id}）不是本单位的领卡交接单",
                             f"Pickup {pickup_id} is not a pickup of this employer"))
            pickup = None
    lines = _read_lines(cards, problems)
    _load(session, lines)
    for line in lines:
        _check_card(session, line, employer, pickup, problems)
    if problems:
        raise ReturnRefused(problems)
    return _record(session, employer, agent, lines, actor, pickup, today)


def _record(session: Session, employer: Employer, agent: str, lines: list[_Line], actor: str,
            pickup: EmployerPickup | None, today: date) -> CardReturn:
    wrong = [line for line in lines if is_wrong_data(line.reason)]
    returned = CardReturn(number=_next_number(session, employer.id), employer_id=employer.id,
                          pickup_id=pickup.id if pickup else None, agent_name=agent,
                          not_handed_out=len(lines) - len(wrong), wrong_data=len(wrong),
                          received_by=actor, received_at=utcnow())
    session.add(returned)
    session.flush()
    session.add_all([ReturnedCard(return_id=returned.id, card_id=line.card.id,
                                  person_id=line.person.id, reason=line.reason, note=line.note)
                     for line in lines])
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for line in lines:
        groups[(line.reason, line.note)].append(line.card.id)
    for (reason, note), card_ids in groups.items():
        custody.move(session, card_ids, Custody.RETURNED, actor, reason=reason,
                     pickup_id=pickup.id if pickup else None, return_id=returned.id, note=note)
    due = correction_due(today)
    session.add_all([DataCorrection(card_id=line.card.id, person_id=line.person.id,
                                    return_id=returned.id, due_on=due) for line in wrong])
    session.flush()
    return returned


# -- the return slip 退卡回收单

@dataclass(frozen=True)
class SlipLine:
    seq: int
    card_number: str
    name: str
    id_number: str
    reason: str
    reason_zh: str
    reason_en: str
    note: str | None

    @property
    def card_number_masked(self) -> str:
        return mask_card_number(self.card_number)

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)


@dataclass(frozen=True)
class ReturnSlip:
    """The return slip 退卡回收单 (two copies, one each): the cards in two groups, counted."""

    return_id: int
    number: str
    employer_code: str
    employer_name: str
    agent_name: str
    received_by: str
    received_at: datetime
    pickup_number: str | None
    not_handed_out: list[SlipLine] = field(default_factory=list)   # 未发出的卡
    wrong_data: list[SlipLine] = field(default_factory=list)       # 信息错误的卡
    title: str = SLIP_TITLE
    copies: int = SLIP_COPIES

    @property
    def received_on(self) -> date:
        return to_local_date(self.received_at)

    @property
    def total(self) -> int:
        return len(self.not_handed_out) + len(self.wrong_data)


def returned_cards(session: Session, return_id: int) -> ReturnSlip:
    """A return's cards in its two groups, for the slip and the page."""
    returned = session.get(CardReturn, return_id) if isinstance(return_id, int) else None
    if returned is None:
        raise ReturnNotFound(f"找不到编号为 {return_id} 的退卡回收单", f"No return with id {return_id}",
                             code="return_not_found")
    employer = session.get(Employer, returned.employer_id)
    pickup = session.get(EmployerPickup, returned.pickup_id) if returned.pickup_id else None
    rows = session.execute(
        select(ReturnedCard, Card.card_number, Person.name, Person.id_number)
        .join(Card, Card.id == ReturnedCard.card_id)
        .join(Person, Person.id == ReturnedCard.person_id)
        .where(ReturnedCard.return_id == returned.id)
        .order_by(Person.seq, Person.id)).all()
    groups: dict[bool, list[SlipLine]] = {False: [], True: []}
    for line, card_number, name, id_number in rows:
        wrong = is_wrong_data(line.reason)
        label = RETURN_LABELS[ReturnReason(line.reason)]
        groups[wrong].append(SlipLine(len(groups[wrong]) + 1, card_number, name, id_number,
                                      line.reason, label.zh, label.en, line.note))
    return ReturnSlip(returned.id, returned.number, employer.code, employer.name,
                      returned.agent_name, returned.received_by, returned.received_at,
                      pickup.number if pickup else None, groups[False], groups[True])


__all__ = ["CORRECTION_DAYS", "NOT_HANDED_OUT", "ReturnNotFound", "ReturnRefused", "ReturnSlip",
           "SlipLine", "correction_due", "receive_return", "returned_cards"]
