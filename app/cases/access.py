"""Who may see and start what (办件权限): the one rule pages, the API, lists, photos, documents
and the engine's candidate check all use.

Data belongs to an office (``ProcessInstance.office``: the office of whoever started the case).
A user sees a case when both hold:

- **role**: they work on it (one of its model's lanes is one of their groups), or they are a
  manager; administrators see everything;
- **office**: the case's office is one of :func:`offices_of` the user: their own office; for a
  bank window also the outlets it produces cards for (their cases wait in the window's queue);
  for a card centre, and for managers, every office of the centre's region.

A case without an office (started by the system, e.g. the calendar task) is seen by role alone.
"""
from __future__ import annotations

from sqlalchemy import or_, select, true

from app.cards.models import ServicePoint
from app.cards.states import ServicePointKind
from app.engine.models import ProcessInstance
from app.engine.repository import latest_models, load

SEE_ALL = "administrator"
SUPERVISORS = ("manager",)  # see their region's cases whatever the lanes


def startable_processes(session, groups) -> list:
    """Latest model versions whose start event sits in a lane of one of ``groups``: the lane
    of the start event says who may open a case of that procedure."""
    groups = set(groups)
    return [model for model in latest_models(session)
            if load(session, model.id).start_lanes & groups or SEE_ALL in groups]


def lanes_of(session, instance) -> set[str]:
    """Groups that work on a case (its model's lanes, sub-processes included)."""
    return load(session, instance.model_id).lanes


def offices_for(session, office: str | None, groups) -> frozenset[str] | None:
    """The offices whose cases someone of ``office`` with ``groups`` sees; None: all of them."""
    if SEE_ALL in groups:
        return None
    if not office:
        return frozenset()
    own = session.scalars(select(ServicePoint).where(ServicePoint.code == office)).first()
    if own is None:
        return frozenset({office})
    if own.kind == ServicePointKind.CENTRE or set(groups) & set(SUPERVISORS):
        region = select(ServicePoint.code).where(ServicePoint.region_code == own.region_code)
        return frozenset(session.scalars(region)) | {office}
    if own.kind == ServicePointKind.WINDOW:
        served = select(ServicePoint.code).where(ServicePoint.window_code == own.code)
        return frozenset(session.scalars(served)) | {office}
    return frozenset({office})


def offices_of(session, user) -> frozenset[str] | None:
    """:func:`offices_for` a signed-in user (read once per request: cached on the user row)."""
    cached = getattr(user, "_sscard_offices", False)
    if cached is False:
        cached = offices_for(session, user.office, user.group_names)
        user._sscard_offices = cached
    return cached


def office_allows(offices: frozenset[str] | None, office: str | None) -> bool:
    return offices is None or office is None or office in offices


def may_view_case(session, user, instance) -> bool:
    """Personal data stays with those who work on the case at its office (module docstring)."""
    if user.in_group(SEE_ALL):
        return True
    if not user.in_group(*SUPERVISORS, *lanes_of(session, instance)):
        return False
    return office_allows(offices_of(session, user), instance.office)


def visible_cases(session, user):
    """The same rule as a SQL condition on ``ProcessInstance`` (case lists, exports)."""
    if user.in_group(SEE_ALL):
        return true()
    offices = offices_of(session, user)
    where = or_(ProcessInstance.office.is_(None), ProcessInstance.office.in_(sorted(offices)))
    if user.in_group(*SUPERVISORS):
        return where
    groups = user.group_names
    keys = [m.key for m in latest_models(session) if load(session, m.id).lanes & groups]
    return where & ProcessInstance.process_key.in_(keys)


def at_offices(session, user):
    """SQL condition on ``ProcessInstance``: the case is at one of the user's offices (task
    queues; the SMS outbox, which its readers see by office alone)."""
    offices = offices_of(session, user)
    if offices is None:
        return true()
    return or_(ProcessInstance.office.is_(None), ProcessInstance.office.in_(sorted(offices)))


#: who works on batches (制卡批次): the card centre's clerks and reviewers, and managers
BATCH_GROUPS = ("centre_clerk", "reviewer", "manager")


def may_view_batch(session, user, office: str | None) -> bool:
    """A batch's data (its employers, persons, documents): a member of :data:`BATCH_GROUPS`
    whose :func:`offices_of` include the batch's office (``Batch.office``; none: the role
    alone); administrators always. A window or outlet clerk never: batches are the centre's."""
    if user.in_group(SEE_ALL):
        return True
    if not user.in_group(*BATCH_GROUPS):
        return False
    return office_allows(offices_of(session, user), office)
