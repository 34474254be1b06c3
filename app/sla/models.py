"""Tables of the calendar page (工作日历录入) and of the deadlines of cases (办件时限)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.engine.db import UtcDateTime, utcnow


class CalendarDay(Base):
    """One day whose status a manager set by hand; wins over the official schedule."""
    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)  # e.g. "国庆节" or "调休上班"


class CalendarYear(Base):
    """A year a manager entered; ``complete`` means days not listed follow the plain week."""
    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CalendarChange(Base):
    """A change to the calendar (日历变更): a year entered, a day corrected. Written in the
    same transaction as the days; the recomputation job (``app.engine.recompute``) processes
    each once (``processed_at``) and is resumed by the scheduler after a crash."""
    __tablename__ = "calendar_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)  # earliest day changed
    last_day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)  # "2027 年节假日安排录入"
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cases_changed: Mapped[int | None] = mapped_column(Integer)


# Deadline states (时限状态). "overdue" is not stored: a running deadline whose day passed.
NOT_STARTED, RUNNING, PAUSED, PENDING, MET, ENDED = (
    "not_started", "running", "paused", "pending", "met", "ended")


class CaseDeadline(Base):
    """A named deadline of a case (办件时限), e.g. ``statutory`` = 15 working days from
    acceptance to notification. Declared in the BPMN (``deadline.NAME``); several per case."""
    __tablename__ = "case_deadline"
    __table_args__ = (UniqueConstraint("instance_id", "name", name="uq_case_deadline_instance_name"),
                      Index("ix_case_deadline_state_due_on", "state", "due_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False,
                                             index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    length: Mapped[str] = mapped_column(String(40), nullable=False)  # "15 working_days"
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=NOT_STARTED)
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)   # None while pending or paused
    pending_year: Mapped[int | None] = mapped_column(Integer)  # the year not entered
    met_on: Mapped[date | None] = mapped_column(Date)
    met_late: Mapped[bool | None] = mapped_column(Boolean)

    @classmethod
    def of(cls, session, instance_id: int, name: str = "statutory") -> "CaseDeadline | None":
        """The named deadline of a case (domain code reads its own case's deadline here)."""
        from sqlalchemy import select
        return session.scalars(select(cls).where(cls.instance_id == instance_id,
                                                 cls.name == name)).first()


class DeadlinePause(Base):
    """A span in which a deadline does not count (时限挂起): by a clerk with a reason, or while
    the case waits at a BPMN element with ``pausesDeadline``."""
    __tablename__ = "deadline_pause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("case_deadline.id"), nullable=False,
                                             index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    task_guid: Mapped[str | None] = mapped_column(String(36))  # set when a BPMN element pauses
    paused_on: Mapped[date] = mapped_column(Date, nullable=False)
    paused_by: Mapped[str | None] = mapped_column(String(150))
    resumed_on: Mapped[date | None] = mapped_column(Date)
    resumed_by: Mapped[str | None] = mapped_column(String(150))
