"""Helpers shared by the pages and the API."""
from __future__ import annotations

from datetime import date, datetime

from app.sla.calendar import SHANGHAI, WorkingDayCalendar
from app.sla.overrides import DbOverrides
from forms.i18n import get_locale


def calendar(session) -> WorkingDayCalendar:
    return WorkingDayCalendar(DbOverrides(session))


def today() -> date:
    return datetime.now(SHANGHAI).date()


def case_errors(error: Exception) -> str:
    """The clerk-readable message of an engine error in the current language."""
    zh = getattr(error, "message_zh", None)
    en = getattr(error, "message_en", None)
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
    spec = load(session, instance.model_id).spec
    return {ts.lane for ts in spec.task_specs.values() if getattr(ts, "lane", None)}
