"""The figures 统计项目 of a period and scope: set-based queries over the custody events, pickups,
returns and corrections."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import (
    and_,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from app.cards.models import Card
from app.common.clock import china_today
from app.common.i18n import T
from app.procedures.batch.models import Person
from app.procedures.distribution.models import (
    CardCustody,
    CustodyEvent,
    DataCorrection,
    EmployerPickup,
    PickupCard,
)
from app.procedures.distribution.states import Custody, ReturnReason

log = logging.getLogger(__name__)

from app.procedures.distribution.statistics.periods import (ALL, Period, Scope, _employers_of, _in_scope, _utc_bounds, china_date, parse_period, parse_scope)


# -- the figures 统计项目 ----------------------------------------------------------------------------

#: The figures in the table's order, with their words (pages and the Excel file show these).
FIGURES: tuple[tuple[str, T], ...] = (
    ("made", T("制卡数（张）", "Cards made")),
    ("delivered", T("到货验收合格（张）", "Cards accepted on delivery")),
    ("picked_up", T("单位领卡（张）", "Cards picked up by employers")),
    ("handed_to_holders", T("发放到本人（张）", "Cards handed to their holders")),
    ("reissued", T("二次发放（张）", "Cards issued a second time")),
    ("returned_total", T("退卡回收（张）", "Cards returned to the centre")),
    ("invalidated", T("作废（张）", "Cards invalidated")),
    ("outstanding", T("期末单位未发放（张）", "Cards with employers at the period's end")),
)
#: the reasons of returned cards, in the return slip's order (not handed out; data wrong)
RETURN_REASONS: tuple[ReturnReason, ...] = tuple(ReturnReason)
#: the three deadlines: key, words, the unit counted
DEADLINES: tuple[tuple[str, T, T], ...] = (
    ("distribution", T("3个工作日内发放到本人并交回签字花名册", "3 working days: cards handed out, signed roster back"),
     T("次领卡", "pickups")),
    ("return", T("6个月内退回未发出的卡", "6 months: cards not handed out returned"), T("张", "cards")),
    ("correction", T("一周内更正信息", "1 week: card data corrected"), T("人", "persons")),
)
OUTCOMES: tuple[tuple[str, T], ...] = (
    ("met", T("按时", "On time")), ("missed", T("超时", "Late")), ("pending", T("未到期", "Not yet due")))


def empty_figures() -> dict:
    figures: dict = {key: 0 for key, _ in FIGURES}
    figures["returned"] = {reason.value: 0 for reason in RETURN_REASONS}
    for key, _label, _unit in DEADLINES:
        for outcome, _ in OUTCOMES:
            figures[f"{key}_{outcome}"] = 0
    return figures


def _movements(session: Session, scope: Scope, start: datetime, end: datetime, figures: dict) -> None:
    """The custody events of the period, grouped by (from, to, reason)."""
    event, earlier = CustodyEvent, aliased(CustodyEvent)
    accepted = Custody.ACCEPTED.value
    # a card whose custody began at the store (accepted -> at_centre) and has no event "to
    # accepted": that event is its delivery
    entered_store = case((and_(event.from_state == accepted, ~exists().where(
        earlier.card_id == event.card_id, earlier.to_state == accepted)), 1), else_=0)
    rows = (select(event.from_state.label("from_state"), event.to_state.label("to_state"),
                   event.reason.label("reason"), entered_store.label("entered"))
            .join(CardCustody, CardCustody.card_id == event.card_id)
            .where(event.at >= start, event.at < end,
                   _in_scope(scope, CardCustody.employer_id, CardCustody.batch_id))).subquery()
    grouped = session.execute(
        select(rows.c.from_state, rows.c.to_state, rows.c.reason, rows.c.entered, func.count())
        .group_by(rows.c.from_state, rows.c.to_state, rows.c.reason, rows.c.entered)).all()
    for from_state, to_state, reason, entered, n in grouped:  # a few dozen groups at most
        if to_state == accepted or entered:
            figures["delivered"] += n
        if to_state == Custody.WITH_EMPLOYER:
            figures["picked_up"] += n
            if from_state == Custody.RETURNED:
                figures["reissued"] += n
        elif to_state == Custody.WITH_HOLDER:
            figures["handed_to_holders"] += n
        elif to_state == Custody.REISSUED:
            figures["reissued"] += n
        elif to_state == Custody.INVALIDATED:
            figures["invalidated"] += n
        elif to_state == Custody.RETURNED:
            key = reason if reason in figures["returned"] else ReturnReason.OTHER.value
            figures["returned"][key] += n
            figures["returned_total"] += n


def _made(session: Session, scope: Scope, start: datetime, end: datetime) -> int:
    of_persons = select(Person.card_id).where(Person.card_id.is_not(None),
                                              _in_scope(scope, Person.employer_id, Person.batch_id))
    in_custody = select(CardCustody.card_id).where(
        _in_scope(scope, CardCustody.employer_id, CardCustody.batch_id))
    return session.scalar(select(func.count(distinct(Card.id))).where(
        Card.created_at >= start, Card.created_at < end,
        or_(Card.id.in_(of_persons), Card.id.in_(in_custody)))) or 0


def _outstanding(session: Session, scope: Scope, end: datetime) -> int:
    """Cards whose last custody event before ``end`` put them with an employer."""
    ranked = (select(CustodyEvent.to_state.label("to_state"), func.row_number().over(
        partition_by=CustodyEvent.card_id,
        order_by=(CustodyEvent.at.desc(), CustodyEvent.id.desc())).label("rn"))
        .join(CardCustody, CardCustody.card_id == CustodyEvent.card_id)
        .where(CustodyEvent.at < end, _in_scope(scope, CardCustody.employer_id, CardCustody.batch_id))
        ).subquery()
    return session.scalar(select(func.count()).select_from(ranked).where(
        ranked.c.rn == 1, ranked.c.to_state == Custody.WITH_EMPLOYER.value)) or 0


def _tally(met, missed, pending):
    """Three SUM(CASE ...) columns."""
    return (func.coalesce(func.sum(case((met, 1), else_=0)), 0),
            func.coalesce(func.sum(case((missed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((pending, 1), else_=0)), 0))


def _put(figures: dict, key: str, row) -> None:
    figures[f"{key}_met"], figures[f"{key}_missed"], figures[f"{key}_pending"] = (int(v or 0) for v in row)


def _distribution(session: Session, scope: Scope, period: Period, today: date) -> tuple:
    p = EmployerPickup
    back = china_date(p.roster_back_at)
    return session.execute(select(*_tally(
        and_(p.roster_back_at.is_not(None), back <= p.distribute_by),
        or_(and_(p.roster_back_at.is_not(None), back > p.distribute_by),
            and_(p.roster_back_at.is_(None), p.distribute_by < today)),
        and_(p.roster_back_at.is_(None), p.distribute_by >= today)))
        .where(p.handed_over_at.is_not(None), p.distribute_by >= period.start,
               p.distribute_by <= period.end, _employers_of(scope)(p.employer_id))).one()


def _returns(session: Session, scope: Scope, period: Period, today: date) -> tuple:
    """Per card of the pickups due in the period: its first move away from the employer after
    the handover (row_number over the card's events), compared with ``return_by``."""
    p, line, event = EmployerPickup, PickupCard, CustodyEvent
    due = and_(p.handed_over_at.is_not(None), p.return_by >= period.start, p.return_by <= period.end,
               _employers_of(scope)(p.employer_id))
    moves = (select(line.id.label("line_id"), event.to_state.label("to_state"),
                    china_date(event.at).label("day"),
                    func.row_number().over(partition_by=line.id,
                                           order_by=(event.at, event.id)).label("rn"))
             .select_from(line)
             .join(p, p.id == line.pickup_id)
             .join(event, and_(event.card_id == line.card_id,
                               event.from_state == Custody.WITH_EMPLOYER.value,
                               event.at >= p.handed_over_at))
             .where(due)).subquery()
    first = select(moves.c.line_id, moves.c.to_state, moves.c.day).where(moves.c.rn == 1).subquery()
    lines = (select(p.return_by.label("return_by"), first.c.to_state.label("to_state"),
                    first.c.day.label("day"))
             .select_from(line)
             .join(p, p.id == line.pickup_id)
             .outerjoin(first, first.c.line_id == line.id)
             .where(due)).subquery()
    handed = (Custody.WITH_HOLDER.value, Custody.REISSUED.value)
    left_in_time = and_(lines.c.to_state.is_not(None), lines.c.day <= lines.c.return_by)
    return session.execute(select(*_tally(
        and_(left_in_time, lines.c.to_state.not_in(handed)),
        or_(and_(lines.c.to_state.is_not(None), lines.c.day > lines.c.return_by),
            and_(lines.c.to_state.is_(None), lines.c.return_by < today)),
        and_(lines.c.to_state.is_(None), lines.c.return_by >= today)))).one()


def _corrections(session: Session, scope: Scope, period: Period, today: date) -> tuple:
    c = DataCorrection
    done = china_date(c.corrected_at)
    query = (select(*_tally(
        and_(c.corrected_at.is_not(None), done <= c.due_on),
        or_(and_(c.corrected_at.is_not(None), done > c.due_on),
            and_(c.corrected_at.is_(None), c.due_on < today)),
        and_(c.corrected_at.is_(None), c.due_on >= today)))
        .select_from(c)
        .where(c.due_on >= period.start, c.due_on <= period.end))
    if scope.kind != ALL:
        query = query.join(Person, Person.id == c.person_id).where(
            _in_scope(scope, Person.employer_id, Person.batch_id))
    return session.execute(query).one()


def compute(session: Session, period, scope=ALL, *, today: date | None = None) -> dict:
    """The figures of ``period`` (text or :class:`Period`) for ``scope`` (text or
    :class:`Scope`), from the tables as they are now (module docstring). ``today`` (China's
    date, default now) decides which deadlines are still pending."""
    period = period if isinstance(period, Period) else parse_period(period)
    scope = scope if isinstance(scope, Scope) else parse_scope(scope)
    today = today or china_today()
    start, end = _utc_bounds(period)
    figures = empty_figures()
    figures["made"] = _made(session, scope, start, end)
    _movements(session, scope, start, end, figures)
    figures["outstanding"] = _outstanding(session, scope, end)
    _put(figures, "distribution", _distribution(session, scope, period, today))
    _put(figures, "return", _returns(session, scope, period, today))
    _put(figures, "correction", _corrections(session, scope, period, today))
    return figures
