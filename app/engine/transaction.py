"""One step, one transaction (一步一事务).

Every runtime step runs inside :func:`step`: the engine clock is set, the step's work is
committed at the end, and any failure rolls everything back (workflow state, task and timer
rows, domain changes of service operations, audit). Lost races are reported as
``CaseChanged``: a stale ``lock_version`` (optimistic check, SQLite and PostgreSQL), SQLite's
"database is locked", PostgreSQL deadlock / serialization / lock-not-available errors.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Iterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.engine import clock
from app.engine.db import check_engine, immediate_transactions
from app.engine.errors import CaseChanged

_RACE_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available


def is_race(exc: BaseException) -> bool:
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in _RACE_SQLSTATES:
            return True
        return "database is locked" in str(orig)
    return False


@contextmanager
def step(session: Session, now: datetime | None = None) -> Iterator[datetime]:
    """Run a step at ``now`` (None: real time) and commit it, or roll it all back."""
    dialect = check_engine(session)
    # On SQLite a step that begins its own transaction takes the write lock first; one the
    # caller already began (maybe with rows to commit along) is continued as it is.
    immediate = immediate_transactions() if dialect == "sqlite" and \
        not session.in_transaction() else nullcontext()
    with clock.engine_clock(now) as moment, immediate:
        try:
            yield moment
            session.commit()
        except BaseException as exc:
            session.rollback()
            if is_race(exc):
                raise CaseChanged() from exc
            raise
