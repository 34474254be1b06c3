"""Filing 归档: a table is filed once and never changed; the scheduler files each month at its end."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import (
    event,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.common.clock import china_today, utcnow
from app.engine.scheduler import ROUND_HOOKS
from app.procedures.batch.models import Batch
from app.procedures.distribution.models import (
    StatisticsTable,
)

log = logging.getLogger(__name__)

from app.procedures.distribution.statistics.periods import (ACTOR, ALL, Period, Scope, StatisticsError, _OFFICE, month_of, parse_period, parse_scope, period_key)
from app.procedures.distribution.statistics.figures import (compute, empty_figures)


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
