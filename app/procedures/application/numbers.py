"""Application numbers 申领编号: ``SQ`` + YYYYMMDD + a 4-digit sequence of the day, from a
per-day counter row (``UPDATE ... SET last = last + 1`` locks the row on PostgreSQL, the
database on SQLite), inside the caller's transaction and unique under concurrency."""
from __future__ import annotations

from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.procedures.application.models import ApplicationNumberSeq

APPLICATION_PREFIX = "SQ"  # 申请


def next_application_number(session: Session, day: date) -> str:
    """``SQ`` + YYYYMMDD + 4-digit sequence of the day (more digits after 9999)."""
    for _ in range(3):
        updated = session.execute(
            update(ApplicationNumberSeq).where(ApplicationNumberSeq.day == day)
            .values(last=ApplicationNumberSeq.last + 1)
            .returning(ApplicationNumberSeq.last)).scalar_one_or_none()
        if updated is not None:
            return f"{APPLICATION_PREFIX}{day:%Y%m%d}{updated:04d}"
        try:  # first application of the day: create the counter (another process may race us)
            with session.begin_nested():
                session.execute(insert(ApplicationNumberSeq).values(day=day, last=1))
            return f"{APPLICATION_PREFIX}{day:%Y%m%d}0001"
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate an application number")
