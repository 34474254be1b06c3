"""Who may see and start what (办件权限)."""
from __future__ import annotations

from app.engine.repository import latest_models, load


def startable_processes(session, groups) -> list:
    """Latest model versions whose start event sits in a lane of one of ``groups``: the lane
    of the start event says who may open a case of that procedure."""
    groups = set(groups)
    return [model for model in latest_models(session)
            if load(session, model.id).start_lanes & groups or "administrator" in groups]


def lanes_of(session, instance) -> set[str]:
    """Groups that work on a case (its model's lanes, sub-processes included)."""
    return load(session, instance.model_id).lanes


def may_view_case(session, user, instance) -> bool:
    """Personal data stays with those who work on the case: its lanes' groups, managers and
    administrators."""
    return user.in_group("manager", "administrator", *lanes_of(session, instance))
