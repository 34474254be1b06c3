"""The calendar's own procedure (录入年度法定节假日安排): its service operation, and the
scheduler's round that opens a task for a year about to be needed and closes it once the year
is entered (page, command line, file or the task itself).

Loaded with the calendar family (``app.procedures.calendar``) by the app and the scheduler.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runtime
from app.engine.errors import EngineError
from app.engine.models import ACTIVE_STATUSES, ProcessInstance
from app.engine.scheduler import ROUND_HOOKS
from app.engine.services import Actor, ServiceContext, ServiceError, registry
from app.common.clock import CHINA_TZ
from app.sla.coverage import MISSING, year_sources, years_to_enter
from app.sla.entry import enter_notice
from app.sla.notice import NoticeError, parse_notice

log = logging.getLogger(__name__)
PROCESS_KEY = "calendar_year_entry"
ENTERED_MESSAGE = "calendar_year_entered"
ACTOR = Actor.system("calendar")


def business_key(year: int) -> str:
    return f"calendar-{year}"


@registry.operation(
    "calendar.enter_notice",
    results=("year", "days"),
    errors=("notice_unreadable",),
)
def enter_notice_operation(ctx: ServiceContext, notice_text: str, year: int) -> dict:
    """Read the pasted notice and enter the year; the scheduler's next round recomputes."""
    try:
        notice = parse_notice(notice_text, int(year))
    except NoticeError as e:
        raise ServiceError("notice_unreadable", e.message("zh"), e.message("en")) from None
    enter_notice(ctx.session, notice, ctx.actor.username)
    return {"year": notice.year, "days": len(notice.days)}


def calendar_round(session_factory: Callable[[], Session], now: datetime | None = None) -> None:
    """Open "录入 XXXX 年法定节假日安排" for a missing year within the warning period; end the
    task of a year that has been entered meanwhile."""
    today = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).date()
    with session_factory() as session:
        open_cases = dict(
            session.execute(
                select(ProcessInstance.business_key, ProcessInstance.id).where(
                    ProcessInstance.process_key == PROCESS_KEY,
                    ProcessInstance.status.in_(ACTIVE_STATUSES),
                )
            ).all()
        )
        missing = years_to_enter(session, today)
        if not open_cases and not missing:
            return
        years = {int(k.split("-", 1)[1]): iid for k, iid in open_cases.items()}
        sources = year_sources(session, years)
        for year, instance_id in years.items():
            if sources[year] != MISSING:
                try:
                    runtime.send_message(
                        session,
                        ENTERED_MESSAGE,
                        {"year": year},
                        instance_id=instance_id,
                        actor=ACTOR,
                    )
                except EngineError:
                    session.rollback()
        for year in missing:
            if year not in years:
                try:
                    runtime.start_instance(
                        session, PROCESS_KEY, {"year": year}, business_key(year), ACTOR
                    )
                except EngineError as e:  # not deployed (tests, a trimmed deployment)
                    session.rollback()
                    log.info("calendar task for %s not opened: %s", year, e)


ROUND_HOOKS.append(calendar_round)
