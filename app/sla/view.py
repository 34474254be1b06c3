"""Deadlines as people read them (时限展示): one view per named deadline, used by the case
page, the inbox, the manager's deadline page and the API, so they all say the same thing.

A view's ``state`` is the stored state, with ``overdue`` for a running deadline whose last
day has passed and ``at_risk`` for one with at most ``AT_RISK_DAYS`` working days left.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar
from app.engine.models import (ENDED, MET, NOT_STARTED, PAUSED, PENDING, RUNNING, CaseDeadline,
                               DeadlinePause)

AT_RISK_DAYS = 3  # working days left at which a deadline shows amber

STATE_LABELS = {
    NOT_STARTED: ("未开始计时", "not started"), RUNNING: ("计时中", "running"),
    "at_risk": ("即将到期", "at risk"), "overdue": ("已超期", "overdue"),
    PAUSED: ("计时暂停", "paused"), PENDING: ("待定", "pending"),
    MET: ("已完成", "met"), ENDED: ("已终止", "ended"),
}


def pending_text(year: int | None) -> tuple[str, str]:
    if year is None:
        return "待定", "pending"
    return (f"待定：{year}年法定节假日安排未录入",
            f"pending: the official holiday schedule for {year} has not been entered")


@dataclass
class DeadlineView:
    name: str
    title: str
    length: str
    state: str
    start_on: date | None
    due_on: date | None
    days_left: int | None
    pending_year: int | None
    pause_reason: str | None
    met_on: date | None
    met_late: bool | None

    def text(self, lang: str = "zh") -> str:
        """What the page shows next to the deadline."""
        en = lang.startswith("en")
        if self.state == PENDING:
            return pending_text(self.pending_year)[1 if en else 0]
        if self.state == PAUSED:
            return (f"clock paused: {self.pause_reason}" if en else f"计时暂停：{self.pause_reason}")
        if self.state == MET:
            if self.met_late is None:
                return f"met on {self.met_on}" if en else f"已于 {self.met_on} 完成"
            if self.met_late:
                return f"met late on {self.met_on}" if en else f"已于 {self.met_on} 完成（超期）"
            return f"met on time on {self.met_on}" if en else f"已于 {self.met_on} 按时完成"
        if self.state in ("overdue", "at_risk", RUNNING) and self.days_left is not None:
            if self.days_left < 0:
                return (f"overdue by {-self.days_left} working days" if en
                        else f"已超期 {-self.days_left} 个工作日")
            return (f"{self.days_left} working days left" if en
                    else f"剩余 {self.days_left} 个工作日")
        zh, en_label = STATE_LABELS.get(self.state, (self.state, self.state))
        return en_label if en else zh

    def label(self, lang: str = "zh") -> str:
        zh, en = STATE_LABELS.get(self.state, (self.state, self.state))
        return en if lang.startswith("en") else zh

    def as_json(self) -> dict:
        return {"name": self.name, "title": self.title, "length": self.length,
                "state": self.state, "start_on": _iso(self.start_on), "due_on": _iso(self.due_on),
                "working_days_left": self.days_left, "pending_year": self.pending_year,
                "pause_reason": self.pause_reason, "met_on": _iso(self.met_on),
                "met_late": self.met_late, "text_zh": self.text("zh"), "text_en": self.text("en")}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _days_left(calendar: WorkingDayCalendar, due: date, today: date) -> int | None:
    """Working days left, or None when counting them needs a year not entered (a calendar-day
    or month deadline may lie there; its date is shown, its count is not guessed)."""
    try:
        return calendar.working_days_between(today, due)
    except CalendarYearMissing:
        return None


def views(session, instance_ids, calendar: WorkingDayCalendar,
          today: date) -> dict[int, list[DeadlineView]]:
    """{instance id: its deadlines' views, in declaration order}."""
    ids = list(instance_ids)
    if not ids:
        return {}
    rows = session.scalars(select(CaseDeadline).where(CaseDeadline.instance_id.in_(ids))
                           .order_by(CaseDeadline.instance_id, CaseDeadline.id)).all()
    paused_ids = [r.id for r in rows if r.state == PAUSED]
    reasons: dict[int, str] = {}
    if paused_ids:
        for p in session.scalars(select(DeadlinePause).where(
                DeadlinePause.deadline_id.in_(paused_ids), DeadlinePause.resumed_on.is_(None))
                .order_by(DeadlinePause.id)):
            reasons[p.deadline_id] = p.reason
    out: dict[int, list[DeadlineView]] = {i: [] for i in ids}
    for r in rows:
        state, left = r.state, None
        if r.state == RUNNING and r.due_on is not None:
            left = _days_left(calendar, r.due_on, today)
            if r.due_on < today:
                state = "overdue"
            elif left is not None and left <= AT_RISK_DAYS:
                state = "at_risk"
        out[r.instance_id].append(DeadlineView(
            r.name, r.title, r.length, state, r.start_on, r.due_on, left, r.pending_year,
            reasons.get(r.id), r.met_on, r.met_late))
    return out


def primary(deadlines: list[DeadlineView]) -> DeadlineView | None:
    """The deadline a list shows for a case: ``statutory``, else the first."""
    for d in deadlines:
        if d.name == "statutory":
            return d
    return deadlines[0] if deadlines else None
