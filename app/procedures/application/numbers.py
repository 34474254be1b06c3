"""Numbers of the application family 编号: application numbers 申领编号 (``SQ`` + YYYYMMDD + a
4-digit sequence of the day) and fee receipt numbers 工本费收据号 (``GBF`` + YYYYMMDD + a 4-digit
sequence of the day). Each comes from a per-day counter row (``UPDATE ... SET last = last + 1``
locks the row on PostgreSQL, the database on SQLite), inside the caller's transaction and
unique under concurrency; a rolled-back step gives its number back."""
from __future__ import annotations

from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.procedures.application.models import ApplicationNumberSeq, FeeReceiptSeq

APPLICATION_PREFIX = "SQ"  # 申请
FEE_RECEIPT_PREFIX = "GBF"  # 工本费


def _next_of_day(session: Session, counter, day: date) -> int:
    """The next value of ``counter`` (a table with ``day`` and ``last``) for ``day``."""
    for _ in range(3):
        updated = session.execute(
            update(counter).where(counter.day == day)
            .values(last=counter.last + 1)
            .returning(counter.last)).scalar_one_or_none()
        if updated is not None:
            return updated
        try:  # first number of the day: create the counter (another process may race us)
            with session.begin_nested():
                session.execute(insert(counter).values(day=day, last=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a number from {counter.__tablename__}")


def next_application_number(session: Session, day: date) -> str:
    """``SQ`` + YYYYMMDD + 4-digit sequence of the day (more digits after 9999)."""
    return f"{APPLICATION_PREFIX}{day:%Y%m%d}{_next_of_day(session, ApplicationNumberSeq, day):04d}"


def next_fee_receipt_number(session: Session, day: date) -> str:
    """``GBF`` + YYYYMMDD + 4-digit sequence of the day (more digits after 9999): the number
    printed on the fee receipt 工本费收据 (unique index on ``card_application``)."""
    return f"{FEE_RECEIPT_PREFIX}{day:%Y%m%d}{_next_of_day(session, FeeReceiptSeq, day):04d}"
