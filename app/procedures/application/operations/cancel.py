"""A case cancelled (撤销办件): its application ends with it."""

from __future__ import annotations

from sqlalchemy import select

from app.engine.services import Actor, ServiceContext
from app.procedures.application.models import Application
from app.procedures.application.operations.intake import finish
from app.procedures.application.states import FINAL_APPLICATION_STATES

# ------------------------------------------------------------------------------ case cancelled


def cancel_for_instance(
    session, instance_id: int, actor: Actor, reason: str | None = None
) -> dict | None:
    """For the web/API layer after ``runtime.cancel_instance`` (撤销办件), in the same
    transaction: the application of that case ends as ``cancelled`` (card being made cancelled,
    blank card back to stock, open card jobs cancelled). None when the case has no application
    yet or it is already closed."""
    app = session.scalars(select(Application).where(Application.instance_id == instance_id)).first()
    if app is None or app.status in FINAL_APPLICATION_STATES:
        return None
    ctx = ServiceContext(
        session=session,
        instance_id=instance_id,
        business_key=app.number,
        process_key="",
        task_name="cancel",
        actor=actor,
    )
    return finish(ctx, app.id, "cancelled", reason="case_cancelled", detail=reason)
