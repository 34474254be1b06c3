"""Audit trail (审计记录): who did what to which case, appended in the step's transaction.

Append-only: this module only inserts. ``AuditEvent`` rows refuse ORM updates and deletes.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.engine.models import AUDIT_ACTIONS, AuditEvent
from app.engine.services import Actor

_MAX_TEXT = 200  # long values (free text, base64 photos) are cut: the case data keeps them


def _small(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    if isinstance(value, dict):
        return {str(k): _small(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_small(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return value


def record(session: Session, action: str, actor: Actor, *, instance_id: int | None = None,
           task_name: str | None = None, **detail: Any) -> AuditEvent:
    """Append one audit record to the session (committed with the step)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(instance_id=instance_id, at=clock.now(), actor=actor.username,
                       actor_id=actor.user_id, action=action, task_name=task_name,
                       detail=_small(detail))
    session.add(event)
    return event


def trail(session: Session, instance_id: int) -> list[AuditEvent]:
    """A case's audit records, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.id)))
