"""撤销办件 Cancel a case: the workflow and the application end together, in one transaction."""
from __future__ import annotations

from app.engine import runtime
from app.engine.services import Actor

from .operations import cancel_for_instance


def cancel_case(session, instance_id: int, actor: Actor, reason: str):
    """The application ends as cancelled (card being made cancelled, blank card back to stock,
    open card jobs cancelled so no station makes the card), then the engine step withdraws the
    case's tasks and timers and commits both; any failure rolls both back."""
    cancel_for_instance(session, instance_id, actor, reason)
    return runtime.cancel_instance(session, instance_id, actor, reason=reason)
