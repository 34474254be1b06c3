"""发放情况统计表 (seed 000 §3.2.3): the issuance statistics of a period (month, quarter, year) for
the whole platform, an office or one employer, worked out in SQL (a few GROUP BY statements
whatever the number of cards), and filed 归档 once a period is over: a filed table is never
computed again or changed.

Periods and scopes (their text is the key of a filed table)::

    parse_period("2026-11")  -> Period(date(2026, 11, 1), date(2026, 11, 30), "2026年11月", "November 2026")
    parse_period("2026-Q4")  -> the fourth quarter;  parse_period("2026") -> the year
    parse_scope("all" | "office:SS-CENTRE" | "employer:12")

Every date is China's date (Asia/Shanghai): a period runs from its first day 00:00 to its last
day 24:00 Beijing time, and "on time" compares the Beijing date of a moment with a due date.

The figures (:data:`FIGURES` gives their words):

* ``made`` — cards of batch persons (``batch_person.card_id``, or a card's custody row: an
  invalidated card replaced since) whose ``card.created_at`` falls in the period;
* ``delivered`` — cards accepted on delivery 到货验收 in the period: a custody event *to*
  ``accepted``, or, for cards whose custody began at the centre's store
  (``custody.ensure_custody`` writes one event ``accepted -> at_centre`` when the delivery is
  accepted), that event. A card counts once either way. ``batch_person.production`` has no
  time, so it cannot say *when*;
* ``picked_up`` — cards an employer's agent took (events to ``with_employer``: from the centre,
  and a returned card given to an employer again);
* ``handed_to_holders`` — events to ``with_holder`` (signed on the employer's roster, or
  collected at the centre's counter by the holder or a proxy);
* ``reissued`` — second issuance 二次发放: events to ``reissued`` (collected at the centre) and
  returned cards picked up by an employer again (``returned -> with_employer``; these count in
  ``picked_up`` as well);
* ``returned`` — ``{reason: n}`` of the events to ``returned`` (every reason listed, zeros
  included), and ``returned_total``;
* ``invalidated`` — events to ``invalidated``;
* ``outstanding`` — cards with an employer at the end of the period: each card's last custody
  event before the end is replayed. For the current period this is the cards' current place
  (every change writes an event), so one rule serves both;
* deadlines, counted in the period in which they fall **due** (a deadline due in a period that
  is over is met or missed for good, so a table filed after the period is final; in the current
  period a deadline not yet due and not yet kept is ``pending``):

  - ``distribution_*`` — 3 working days (Y §3.2.1): employer pickups handed over whose
    ``distribute_by`` falls in the period: met when the signed roster came back
    (``roster_back_at``) by that day; missed when it came back later or is still out after it;
  - ``return_*`` — 6 months (N §5.4): the cards of those pickups whose ``return_by`` falls in
    the period and that were not handed out by then: met when the employer returned the card
    (its first move away from the employer after the handover) by that day; missed when it was
    returned later, handed out after the 6 months, or is still with the employer after it.
    Cards handed to their holders within the 6 months are not counted;
  - ``correction_*`` — 1 week (Y §3.3.2): data corrections whose ``due_on`` falls in the period:
    met when ``corrected_at`` is on or before ``due_on``; missed when later or still not made
    after ``due_on`` (the ``overdue`` mark says the same).

Filing: :func:`file` stores a period that is over, once (the unique ``(period, scope)`` index);
:func:`file_month_end` is the scheduler's round (``ROUND_HOOKS``): the previous month for all
and for each office of a batch, and the quarter and the year when that month ends one.
"""
from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import (
    Date,
    and_,
    case,
    distinct,
    event,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from app.cards.models import Card
from app.common.clock import CHINA_TZ, china_today, utcnow
from app.common.errors import BilingualError
from app.common.i18n import T
from app.engine.scheduler import ROUND_HOOKS
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.distribution.models import (
    CardCustody,
    CustodyEvent,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    StatisticsTable,
)
from app.procedures.distribution.states import Custody, ReturnReason

log = logging.getLogger(__name__)

ACTOR = "system:statistics"  # who files the month-end tables
ALL = "all"
QUARTERS_ZH = ("一", "二", "三", "四")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # not the machine's locale


class StatisticsError(BilingualError):
    """A period or scope that cannot be read, or a table that cannot be filed (yet)."""

    kind = "invalid"
    code = "statistics_invalid"


# -- periods 统计期间 ---------------------------------------------------------------------------------

class Period(NamedTuple):
    """A month, a quarter or a year: ``(start, end, label_zh, label_en)``."""

    start: date
    end: date          # the last day, included
    label_zh: str
    label_en: str

    @property
    def key(self) -> str:
        """The canonical text (a filed table's ``period``): 2026-11, 2026-Q4, 2026."""
        months = self.end.month - self.start.month + 1
        if months == 12:
            return str(self.start.year)
        if months == 3:
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        return month_of(self.start)


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
MIN_YEAR, MAX_YEAR = 1990, 2100


def _year(text: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise StatisticsError(f"统计年份应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间：“{text}”",
                              f"The year should be between {MIN_YEAR} and {MAX_YEAR}: “{text}”",
                              code="bad_period")
    return year


def parse_period(text) -> Period:
    """``"2026-11"`` (a month), ``"2026-Q4"`` (a quarter) or ``"2026"`` (a year) -> its first and
    last day (China's dates) and its name in both languages; ``StatisticsError`` for anything
    else. ``.key`` is the canonical text (``2026-q4`` -> ``2026-Q4``)."""
    value = str(text if text is not None else "").strip()
    if m := _MONTH.fullmatch(value):
        year, month = _year(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise StatisticsError(f"月份应为 01 至 12：“{value}”",
                                  f"The month should be 01 to 12: “{value}”", code="bad_period")
        last = calendar.monthrange(year, month)[1]
        return Period(date(year, month, 1), date(year, month, last), f"{year}年{month}月",
                      f"{MONTHS_EN[month - 1]} {year}")
    if m := _QUARTER.fullmatch(value):
        year, q = _year(m.group(1)), int(m.group(2))
        first = date(year, 3 * q - 2, 1)
        last_month = 3 * q
        last = date(year, last_month, calendar.monthrange(year, last_month)[1])
        return Period(first, last, f"{year}年第{QUARTERS_ZH[q - 1]}季度", f"Q{q} {year}")
    if _YEAR.fullmatch(value):
        year = _year(value)
        return Period(date(year, 1, 1), date(year, 12, 31), f"{year}年度", f"{year}")
    raise StatisticsError(
        f"无法识别的统计期间“{value[:40]}”：请填写月份（如 2026-11）、季度（如 2026-Q4）或年份（如 2026）",
        f"Unknown period “{value[:40]}”: give a month (e.g. 2026-11), a quarter (e.g. 2026-Q4) "
        "or a year (e.g. 2026)", code="bad_period")


def period_key(text) -> str:
    return parse_period(text).key


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _utc_bounds(period: Period) -> tuple[datetime, datetime]:
    """[start, end) of the period in UTC: Beijing midnight of its first day and of the day after
    its last."""
    start = datetime.combine(period.start, time(0), CHINA_TZ).astimezone(UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)
    return start, end


# -- scopes 统计范围 ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    kind: str                    # all / office / employer
    office: str | None = None
    employer_id: int | None = None

    @property
    def key(self) -> str:
        if self.kind == "office":
            return f"office:{self.office}"
        if self.kind == "employer":
            return f"employer:{self.employer_id}"
        return ALL


_OFFICE = re.compile(r"office:([A-Za-z0-9_.\-]{1,32})")
_EMPLOYER = re.compile(r"employer:(\d{1,12})")


def parse_scope(text) -> Scope:
    """``"all"``, ``"office:<code>"`` or ``"employer:<id>"``; ``StatisticsError`` otherwise."""
    value = str(text if text is not None else "").strip()
    if value == ALL:
        return Scope(ALL)
    if m := _OFFICE.fullmatch(value):
        return Scope("office", office=m.group(1))
    if (m := _EMPLOYER.fullmatch(value)) and int(m.group(1)) > 0:
        return Scope("employer", employer_id=int(m.group(1)))
    raise StatisticsError(
        f"无法识别的统计范围“{value[:60]}”：应为全部、某个经办机构或某个单位",
        f"Unknown scope “{value[:60]}”: all, an office or an employer", code="bad_scope")


def _employers_of(scope: Scope):
    """SQL condition on an employer id column for the scope."""
    def where(employer_col):
        if scope.kind == "employer":
            return employer_col == scope.employer_id
        if scope.kind == "office":
            return employer_col.in_(select(Employer.id).join(Batch, Batch.id == Employer.batch_id)
                                    .where(Batch.office == scope.office))
        return true()
    return where


def _in_scope(scope: Scope, employer_col, batch_col):
    """SQL condition on a row's employer and batch columns (cards, persons)."""
    if scope.kind == "employer":
        return employer_col == scope.employer_id
    if scope.kind == "office":
        return batch_col.in_(select(Batch.id).where(Batch.office == scope.office))
    return true()


# -- China's date of a stored moment, in SQL ---------------------------------------------------------

class china_date(FunctionElement):
    """The Beijing date of a UTC timestamp column (SQLite: naive UTC text; PostgreSQL:
    timestamptz)."""

    type = Date()
    inherit_cache = True
    name = "china_date"


@compiles(china_date)
def _china_date_default(element, compiler, **kw):  # SQLite
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_date, "postgresql")
def _china_date_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


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


# -- filing 归档 -------------------------------------------------------------------------------------

def find_filed(session: Session, period: str, scope: str) -> StatisticsTable | None:
    return session.scalars(select(StatisticsTable).where(
        StatisticsTable.period == period, StatisticsTable.scope == scope)).first()


def file(session: Session, period, scope, actor_name: str, *,
         today: date | None = None) -> StatisticsTable:
    """File the table of a period that is over: computed and stored once; a second call (or a
    second scheduler at the same moment: the unique index) returns the table filed first, never
    computed again. Flushes; the caller commits. ``StatisticsError`` for a period not over yet
    (its figures could still change)."""
    return _file(session, period, scope, actor_name, today)[0]


def _file(session: Session, period, scope, actor_name: str,
          today: date | None) -> tuple[StatisticsTable, bool]:
    """:func:`file`, and whether this call stored the table."""
    p = period if isinstance(period, Period) else parse_period(period)
    s = scope if isinstance(scope, Scope) else parse_scope(scope)
    filed = find_filed(session, p.key, s.key)
    if filed is not None:
        return filed, False
    today = today or china_today()
    if p.end >= today:
        raise StatisticsError(f"{p.label_zh}尚未结束，结束后才能归档",
                              f"{p.label_en} is not over yet: it can be filed once it is",
                              code="period_not_over", kind="conflict")
    table = StatisticsTable(period=p.key, scope=s.key, figures=compute(session, p, s, today=today),
                            generated_at=utcnow(), generated_by=actor_name)
    try:
        with session.begin_nested():
            session.add(table)
    except IntegrityError:  # filed by another process meanwhile: theirs is the table
        filed = find_filed(session, p.key, s.key)
        if filed is None:
            raise
        return filed, False
    return table, True


@event.listens_for(StatisticsTable, "before_update")
def _filed_tables_never_change(_mapper, _connection, target: StatisticsTable) -> None:
    """A filed table is the record of its period: the ORM refuses to change it."""
    raise StatisticsError(f"已归档的统计表（{target.period}，{target.scope}）不能修改",
                          f"A filed table ({target.period}, {target.scope}) cannot be changed",
                          code="filed_table_changed", kind="conflict")


def filed_or_live(session: Session, period, scope=ALL, *,
                  today: date | None = None) -> tuple[dict, StatisticsTable | None]:
    """The filed table's figures (and the table) when there is one, else the live figures."""
    p = period if isinstance(period, Period) else parse_period(period)
    s = scope if isinstance(scope, Scope) else parse_scope(scope)
    filed = find_filed(session, p.key, s.key)
    if filed is not None:
        figures = empty_figures()  # a table filed before a figure was added shows it as 0
        figures.update(filed.figures)
        return figures, filed
    return compute(session, p, s, today=today), None


def month_end_periods(today: date) -> list[str]:
    """The periods filed on ``today``: the previous month, and its quarter and year when it ends
    them."""
    last = today.replace(day=1) - timedelta(days=1)
    periods = [month_of(last)]
    if last.month % 3 == 0:
        periods.append(f"{last.year}-Q{last.month // 3}")
    if last.month == 12:
        periods.append(str(last.year))
    return periods


def offices_with_batches(session: Session) -> list[str]:
    return list(session.scalars(select(Batch.office).where(Batch.office.is_not(None)).distinct()
                                .order_by(Batch.office)))


def file_month_end(session_factory: Callable[[], Session], today: date | None = None) -> list[tuple[str, str]]:
    """The scheduler's round: file the previous month's tables (all, and each office that has
    batches; the quarter and the year too when the month ends one) that are not filed yet.
    Idempotent; two schedulers at once file each table once. Returns the (period, scope) filed
    by this call."""
    today = today or china_today()
    periods = month_end_periods(today)
    created: list[tuple[str, str]] = []
    with session_factory() as session:
        scopes = [ALL] + [f"office:{o}" for o in offices_with_batches(session)
                          if _OFFICE.fullmatch(f"office:{o}")]
        have = {(period, scope) for period, scope in session.execute(
            select(StatisticsTable.period, StatisticsTable.scope)
            .where(StatisticsTable.period.in_(periods)))}
        session.rollback()
        for period in periods:
            for scope in scopes:
                if (period, scope) in have:
                    continue
                try:
                    _table, new = _file(session, period, scope, ACTOR, today)
                    session.commit()
                except IntegrityError:  # the other scheduler committed it first
                    session.rollback()
                    continue
                if new:
                    created.append((period, scope))
                    log.info("issuance statistics %s %s filed", period, scope)
    return created


ROUND_HOOKS.append(file_month_end)


__all__ = ["ALL", "DEADLINES", "FIGURES", "OUTCOMES", "RETURN_REASONS", "Period", "Scope",
           "StatisticsError", "compute", "empty_figures", "file", "file_month_end", "filed_or_live",
           "find_filed", "month_end_periods", "offices_with_batches", "parse_period", "parse_scope",
           "period_key"]
