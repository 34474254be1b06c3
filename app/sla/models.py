"""Tables of the calendar page (工作日历录入). The deadlines of cases are the engine's
(``app.engine.models``: CaseDeadline, DeadlinePause, CalendarChange)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base


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
