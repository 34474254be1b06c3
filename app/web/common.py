"""Helpers shared by the pages and the API."""
from __future__ import annotations


from app.engine.errors import EngineError
from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar
from app.sla.overrides import DbOverrides
from forms.i18n import get_locale


def db_session():
    """The request's SQLAlchemy Session (see ``app.db_session``)."""
    from app import db_session as session
    return session()


def calendar(session) -> WorkingDayCalendar:
    return WorkingDayCalendar(DbOverrides(session))


from app.common.clock import china_today as today  # noqa: E402,F401  (pages' "today")


# What a step (start, complete, claim, retry...) may raise for the clerk to read: the engine's
# errors, and a working-day calendar that lacks a year (deadlines, due dates, timers).
STEP_ERRORS = (EngineError, CalendarYearMissing)


def error_texts(error: Exception) -> tuple[str | None, str | None]:
    """(zh, en) of an engine error or a missing calendar year."""
    if isinstance(error, CalendarYearMissing):
        return (f"{error.year} 年的法定节假日安排尚未录入，请管理员在“工作日历”中录入。",
                f"The official holiday schedule for {error.year} has not been entered yet; "
                f"an administrator must enter it under Calendar.")
    return getattr(error, "message_zh", None), getattr(error, "message_en", None)


def case_errors(error: Exception) -> str:
    """The clerk-readable message of an engine error in the current language."""
    zh, en = error_texts(error)
    if zh or en:
        return (en or zh) if get_locale() == "en" else (zh or en)
    return str(error)


def startable_processes(session, groups) -> list:
    """Latest model versions whose start event sits in a lane of one of ``groups``: the lane
    of the start event says who may open a case of that procedure."""
    from app.engine.repository import list_models, load
    from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent as StartEventMixin
    latest = {}
    for model in list_models(session):
        if model.key not in latest or model.version > latest[model.key].version:
            latest[model.key] = model
    allowed = []
    for model in sorted(latest.values(), key=lambda m: m.key):
        spec = load(session, model.id).spec
        lanes = {ts.lane for ts in spec.task_specs.values() if isinstance(ts, StartEventMixin)}
        if lanes & set(groups) or "administrator" in groups:
            allowed.append(model)
    return allowed


def lanes_of(session, instance) -> set[str]:
    """Groups that work on a case (its model's lanes)."""
    from app.engine.repository import load
    loaded = load(session, instance.model_id)
    specs = [loaded.spec, *loaded.subprocess_specs.values()]  # lanes inside subprocesses count
    return {ts.lane for spec in specs for ts in spec.task_specs.values() if getattr(ts, "lane", None)}


def may_view_case(session, user, instance) -> bool:
    """Personal data stays with those who work on the case: its lanes' groups, managers and
    administrators."""
    return user.in_group("manager", "administrator", *lanes_of(session, instance))
