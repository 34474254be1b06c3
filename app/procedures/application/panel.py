"""The application family's panel on the case page (申领资料): the applicant (masked), the
application's status in the clerk's words, why it ended when it did, and its cards."""
from __future__ import annotations

from sqlalchemy import select

from app.cards.models import Card
from app.cards.states import CARD_LABELS
from app.procedures.application.models import Application
from app.procedures.application.states import (
    APPLICATION_LABELS,
    FINAL_APPLICATION_STATES,
    ApplicationStatus,
)

ENDED_WITHOUT_CARD = (ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED)


def application_of(session, instance) -> Application | None:
    """The case's application, found by the case's own id (never by a key a caller typed)."""
    return session.scalars(select(Application).where(Application.instance_id == instance.id)).first()


def application_panel(session, instance) -> dict | None:
    app = application_of(session, instance)
    if app is None:
        return None
    cards = session.scalars(select(Card).where(Card.application_id == app.id).order_by(Card.id)).all()
    outcome = None
    if app.status in ENDED_WITHOUT_CARD:
        label = APPLICATION_LABELS[app.status]
        outcome = (f"{label.zh}：{app.reason_zh or ''}".rstrip("："),
                   f"{label.en}: {app.reason_en or ''}".rstrip(": "))
    return {"application": app, "status": APPLICATION_LABELS.get(app.status),
            "cards": [(c, CARD_LABELS.get(c.status)) for c in cards], "outcome": outcome,
            "final": app.status in FINAL_APPLICATION_STATES}
