"""撤销办件 Cancel a case: the workflow and the families' rows end together, in one transaction."""
from __future__ import annotations

from app.engine import runtime
from app.engine.services import Actor


def cancel_case(session, families, instance_id: int, actor: Actor, reason: str):
    """Each family's ``on_cancel`` ends its rows (e.g. the application: card being made
    cancelled, blank card back to stock, open card jobs cancelled so no station makes the card),
    then the engine step withdraws the case's tasks and timers and commits all; any failure rolls
    everything back."""
    for family in families:
        if family.on_cancel is not None:
            family.on_cancel(session, instance_id, actor, reason)
    return runtime.cancel_instance(session, instance_id, actor, reason=reason)
