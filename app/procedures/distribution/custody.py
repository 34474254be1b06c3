"""卡片去向: where each card of a batch is, and every change of it (who, when, why).

A card accepted on delivery (到货验收合格) waits at the centre; an employer's agent picks it up
(单位批量领卡); the employer hands it to its holder, who signs the roster, or returns it (退卡回收)
with the reason; a returned card is issued a second time (to a new employer pickup, or to the
holder at the counter) or, its data wrong, invalidated (a new card is made after the correction).
A holder or a proxy may also collect the card at the centre's counter.

``TRANSITIONS`` is the one table of allowed moves; :func:`move` checks every card against it
before anything is written and writes one ``CustodyEvent`` per card (set-based: thousands of
cards are a few statements).

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator

from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number
from app.engine.db import UtcDateTime
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Production
from app.procedures.distribution.models import CardCustody, CustodyEvent
from app.procedures.distribution.states import CUSTODY_LABELS, Custody, ReturnReason

CHUNK = 500   # cards per statement (IN lists stay well under SQLite's limits)
SHOWN = 10    # cards named in a refusal (the count is complete)

#: The allowed moves of a card 卡片去向的流转 (from -> the states it may go to).
TRANSITIONS: dict[Custody, frozenset[Custody]] = {
    Custody.MADE: frozenset({Custody.ACCEPTED}),                 # 到货验收合格
    Custody.ACCEPTED: frozenset({Custody.AT_CENTRE}),            # 入中心库
    Custody.AT_CENTRE: frozenset({Custody.WITH_EMPLOYER,         # 单位批量领卡
                                  Custody.WITH_HOLDER}),         # 本人或代领人到中心领卡
    Custody.WITH_EMPLOYER: frozenset({Custody.WITH_HOLDER,       # 本人在花名册上签字领取
                                      Custody.RETURNED}),        # 单位退卡回收
    Custody.RETURNED: frozenset({Custody.WITH_EMPLOYER,          # 二次发放：单位再次领卡
                                 Custody.REISSUED,               # 二次发放：本人到中心领取
                                 Custody.INVALIDATED}),          # 信息错误：更正上报，另行制卡
    # a card in its holder's hands is not returned by the employer (with_holder -> returned);
    # reissued and invalidated are final here (loss and replacement are the kernel's).
    Custody.WITH_HOLDER: frozenset(),
    Custody.REISSUED: frozenset(),
    Custody.INVALIDATED: frozenset(),
}

# states whose reason says why the card came back: kept when the card moves on from there
_KEEPS_REASON = (Custody.REISSUED, Custody.INVALIDATED)


class CustodyError(BilingualError):
    """A change of a card's place that cannot be made (the message says why)."""

    kind = "conflict"
    code = "custody_refused"


class CannotMove(CustodyError):
    """Some cards cannot go to ``to_state`` from where they are; ``cards`` lists them as
    (card id, card number, current state or None when the card has no place recorded)."""

    code = "custody_cannot_move"

    def __init__(self, to_state: Custody, cards: list[tuple[int, str | None, str | None]]):
        self.to_state, self.cards = to_state, cards
        target = CUSTODY_LABELS[to_state]
        zh, en = [], []
        for _, number, state in cards[:SHOWN]:
            shown = mask_card_number(number) if number else "（未知卡）"
            if state is None:
                zh.append(f"{shown}（无卡片去向记录）")
                en.append(f"{shown} (no record of where it is)")
            else:
                label = CUSTODY_LABELS[Custody(state)]
                zh.append(f"{shown}（{label.zh}）")
                en.append(f"{shown} ({label.en})")
        more_zh = f"等 {len(cards)} 张" if len(cards) > SHOWN else f"共 {len(cards)} 张"
        more_en = f" ({len(cards)} cards in all)" if len(cards) > SHOWN else ""
        super().__init__(
            f"以下卡片当前状态不能变为“{target.zh}”，未做任何更改：" + "；".join(zh) + more_zh,
            f"These cards cannot become “{target.en}” from where they are; nothing was changed: "
            + "; ".join(en) + more_en)


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _expire(session: Session, *classes) -> None:
    """Rows of these tables loaded before a bulk statement are read again when next used."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, classes):
            session.expire(obj)


def normalise_number(value) -> str:
    """A scanned or typed card number: full-width to half-width, no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", str(value or "")).split()).upper()


def _state(value) -> Custody:
    try:
        return Custody(value)
    except ValueError:
        raise CustodyError(f"未知的卡片去向“{value}”", f"Unknown card state “{value}”",
                           code="custody_unknown_state", kind="invalid") from None


def _reason(value) -> ReturnReason | None:
    if value is None:
        return None
    try:
        return ReturnReason(value)
    except ValueError:
        raise CustodyError(f"未知的退卡原因“{value}”", f"Unknown return reason “{value}”",
                           code="custody_unknown_reason", kind="invalid") from None


# -- creating the rows 入中心库 -------------------------------------------------------------------

def ensure_custody(session: Session, employer_id: int, actor_name: str) -> int:
    """Custody rows, at the centre, for the employer's persons whose card was accepted on
    delivery and have none yet, each with its event accepted -> at_centre. Idempotent: a second
    call creates nothing. Returns the rows created."""
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise CustodyError(f"单位申领 {employer_id} 不存在",
                           f"Employer application {employer_id} does not exist",
                           code="employer_not_found", kind="not_found")
    batch = session.get(Batch, employer.batch_id)
    session.flush()
    new = (Person.employer_id == employer.id, Person.production == Production.ACCEPTED,
           Person.card_id.is_not(None),
           ~exists().where(CardCustody.card_id == Person.card_id))
    now = utcnow()
    note = (f"到货验收合格，入中心库（制卡批次“{batch.name}”，单位“{employer.name}”）"
            f" / accepted on delivery, kept at the centre (batch {batch.name}, {employer.name})")
    # the events first: the same NOT EXISTS selects the same cards before their rows exist
    session.execute(insert(CustodyEvent).from_select(
        ["card_id", "at", "by", "from_state", "to_state", "note"],
        select(Person.card_id, literal(now, UtcDateTime()), literal(actor_name, String()),
               literal(Custody.ACCEPTED.value, String()), literal(Custody.AT_CENTRE.value, String()),
               literal(note, Text())).where(*new).order_by(Person.seq, Person.id)))
    result = session.execute(insert(CardCustody).from_select(
        ["card_id", "person_id", "employer_id", "batch_id", "state", "changed_at", "changed_by"],
        select(Person.card_id, Person.id, Person.employer_id, Person.batch_id,
               literal(Custody.AT_CENTRE.value, String()), literal(now, UtcDateTime()),
               literal(actor_name, String())).where(*new).order_by(Person.seq, Person.id)))
    session.flush()
    return max(result.rowcount or 0, 0)


# -- moving cards 变更卡片去向 ----------------------------------------------------------------------

def _current(session: Session, card_ids: list[int]) -> dict[int, tuple[str | None, str]]:
    """card id -> (card number, state) of the cards that have a custody row (locked on
    PostgreSQL until the transaction ends: two clerks cannot move the same card twice)."""
    found: dict[int, tuple[str | None, str]] = {}
    for chunk in _chunks(card_ids):
        for card_id, number, state in session.execute(
                select(CardCustody.card_id, Card.card_number, CardCustody.state)
                .join(Card, Card.id == CardCustody.card_id)
                .where(CardCustody.card_id.in_(chunk))
                .with_for_update(of=CardCustody)):
            found[card_id] = (number, state)
    return found


def _numbers(session: Session, card_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(card_ids):
        out.update(session.execute(select(Card.id, Card.card_number).where(Card.id.in_(chunk))).all())
    return out


def check_move(session: Session, card_ids: Iterable[int], to_state) -> list[int]:
    """The cards (distinct, in the order given) if every one may move to ``to_state``; else
    ``CannotMove`` naming those that cannot. Nothing is written."""
    target = _state(to_state)
    ids = list(dict.fromkeys(int(c) for c in card_ids))
    current = _current(session, ids)
    unknown = [c for c in ids if c not in current]
    numbers = _numbers(session, unknown) if unknown else {}
    refused = []
    for card_id in ids:
        if card_id not in current:
            refused.append((card_id, numbers.get(card_id), None))
            continue
        number, state = current[card_id]
        if target not in TRANSITIONS[Custody(state)]:
            refused.append((card_id, number, state))
    if refused:
        raise CannotMove(target, refused)
    return ids


def move(session: Session, card_ids: Iterable[int], to_state, actor_name: str, *,
         reason=None, pickup_id: int | None = None, return_id: int | None = None,
         note: str | None = None) -> int:
    """Move cards to ``to_state``: every card is checked against ``TRANSITIONS`` first (one
    refusal lists all that cannot move, nothing written); then the rows change and one
    ``CustodyEvent`` per card records from, to, why, who and when. Returned cards need the
    reason (``states.ReturnReason``). Returns the cards moved."""
    target = _state(to_state)
    why = _reason(reason)
    if target == Custody.RETURNED and why is None:
        raise CustodyError("退回中心的卡应注明原因（调离、异地退休、死亡、未领取、其他或信息错误）",
                           "A card returned to the centre needs the reason (moved, retired "
                           "elsewhere, died, not collected, other, or wrong data)",
                           code="custody_reason_missing", kind="invalid")
    if not str(actor_name or "").strip():
        raise CustodyError("缺少经办人", "Who makes the change is missing",
                           code="custody_actor_missing", kind="invalid")
    session.flush()
    ids = check_move(session, card_ids, target)
    if not ids:
        return 0
    now = utcnow()
    if why is not None:
        new_reason = literal(why.value, String())
    elif target in _KEEPS_REASON:
        new_reason = CardCustody.reason
    else:
        new_reason = literal(None, String())
    moved = 0
    for chunk in _chunks(ids):
        session.execute(insert(CustodyEvent).from_select(
            ["card_id", "at", "by", "from_state", "to_state", "reason", "pickup_id", "return_id",
             "note"],
            select(CardCustody.card_id, literal(now, UtcDateTime()), literal(actor_name, String()),
                   CardCustody.state, literal(target.value, String()),
                   literal(why.value if why else None, String()),
                   literal(pickup_id, Integer()), literal(return_id, Integer()),
                   literal(note, Text()))
            .where(CardCustody.card_id.in_(chunk)).order_by(CardCustody.card_id)))
        result = session.execute(
            update(CardCustody)
            .where(CardCustody.card_id.in_(chunk),
                   CardCustody.state.in_([s.value for s, to in TRANSITIONS.items() if target in to]))
            .values(state=target.value, reason=new_reason, changed_at=now, changed_by=actor_name)
            .execution_options(synchronize_session=False))
        moved += result.rowcount
    if moved != len(ids):  # changed under our feet (cannot happen with the rows locked)
        raise CustodyError("卡片状态已被他人更改，请刷新后重试",
                           "The cards were changed by someone else meanwhile; reload and try again",
                           code="custody_changed")
    _expire(session, CardCustody)
    session.flush()
    return moved


# -- queries 查询 -----------------------------------------------------------------------------------

def history(session: Session, card_id: int) -> list[CustodyEvent]:
    """Every change of the card's place, oldest first."""
    return list(session.scalars(select(CustodyEvent).where(CustodyEvent.card_id == card_id)
                                .order_by(CustodyEvent.at, CustodyEvent.id)))


def of_person(session: Session, person_id: int) -> CardCustody | None:
    """Where the person's card is: the card the person holds now (``Person.card_id``), else
    the one that changed last (an invalidated card whose replacement is not made yet)."""
    current = session.scalars(select(CardCustody).join(Person, Person.card_id == CardCustody.card_id)
                              .where(Person.id == person_id)).first()
    if current is not None:
        return current
    return session.scalars(select(CardCustody).where(CardCustody.person_id == person_id)
                           .order_by(CardCustody.changed_at.desc(), CardCustody.card_id.desc())
                           .limit(1)).first()


def counts(session: Session, *, employer_id: int | None = None,
           batch_id: int | None = None) -> dict[str, int]:
    """Cards per state {state: n} (every state, zero included), of an employer, a batch or all."""
    query = select(CardCustody.state, func.count()).group_by(CardCustody.state)
    if employer_id is not None:
        query = query.where(CardCustody.employer_id == employer_id)
    if batch_id is not None:
        query = query.where(CardCustody.batch_id == batch_id)
    out = {state.value: 0 for state in Custody}
    out.update({state: n for state, n in session.execute(query)})
    return out


#: returned cards the employer may take again in a new pickup (二次发放): the holder was not
#: reached in time or for another reason; not those of holders who moved, retired elsewhere or
#: died, nor cards with wrong data (corrected and made anew)
REISSUE_BY_EMPLOYER = (ReturnReason.NOT_COLLECTED, ReturnReason.OTHER)


def cards_in(session: Session, employer_id: int, state) -> list[tuple[int, str, int, int | None, str]]:
    """The employer's cards in ``state``: (card id, card number, person id, roster line, name),
    in roster order."""
    return _cards_where(session, employer_id, CardCustody.state == _state(state).value)


def cards_to_pick_up(session: Session, employer_id: int) -> list[tuple[int, str, int, int | None, str]]:
    """What an employer's pickup hands over: the cards at the centre and the returned cards
    issued a second time through the employer (``REISSUE_BY_EMPLOYER``), in roster order."""
    return _cards_where(session, employer_id, or_(
        CardCustody.state == Custody.AT_CENTRE.value,
        and_(CardCustody.state == Custody.RETURNED.value,
             CardCustody.reason.in_([r.value for r in REISSUE_BY_EMPLOYER]))))


def _cards_where(session: Session, employer_id: int, condition) -> list[tuple]:
    rows = session.execute(
        select(CardCustody.card_id, Card.card_number, Person.id, Person.seq, Person.name)
        .join(Card, Card.id == CardCustody.card_id)
        .join(Person, Person.id == CardCustody.person_id)
        .where(CardCustody.employer_id == employer_id, condition)
        .order_by(case((Person.seq.is_(None), 1), else_=0), Person.seq, Person.id))
    return [tuple(r) for r in rows]


def find_card(session: Session, card_number: str) -> tuple[Card, CardCustody, Person] | None:
    """A card by its number (as scanned or typed), its place and its person; None when the
    card is unknown or not a card of a batch."""
    number = normalise_number(card_number)
    if not number:
        return None
    row = session.execute(
        select(Card, CardCustody, Person)
        .join(CardCustody, CardCustody.card_id == Card.id)
        .join(Person, Person.id == CardCustody.person_id)
        .where(Card.card_number == number)).first()
    return tuple(row) if row else None


__all__ = ["TRANSITIONS", "CannotMove", "CustodyError", "cards_in", "check_move", "counts",
           "ensure_custody", "find_card", "history", "move", "normalise_number", "of_person"]
