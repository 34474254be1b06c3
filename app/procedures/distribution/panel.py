"""The distribution family on the case page and the task pages: the employer's pickup (number,
agent, cards, dates), the person of a counter pickup or a correction, and the last refusal
(the reason a check sent the clerk back: cleared by the diagram once it passes)."""
from __future__ import annotations

from sqlalchemy import select

from app.engine.runtime import instance_data
from app.procedures.batch.models import Employer, Person
from app.procedures.distribution.models import DataCorrection, EmployerPickup, HolderPickup
from app.procedures.distribution.states import PICKUP_LABELS


def distribution_panel(session, instance) -> dict | None:
    data = instance_data(session, instance.id)
    pickup = session.scalars(select(EmployerPickup).where(EmployerPickup.instance_id == instance.id)).first()
    employer = session.get(Employer, pickup.employer_id if pickup else data.get("employer_id") or 0)
    holder = session.scalars(select(HolderPickup).where(HolderPickup.instance_id == instance.id)).first()
    correction = session.scalars(select(DataCorrection).where(DataCorrection.instance_id == instance.id)).first()
    person = session.get(Person, (holder or correction).person_id) if (holder or correction) else None
    if not (pickup or employer or person):
        return None
    refused = data.get("error_message") if data.get("error_code") else None
    return {"pickup": pickup, "pickup_status": PICKUP_LABELS.get(pickup.status) if pickup else None,
            "employer": employer, "person": person, "holder": holder, "correction": correction,
            "refused": (refused, data.get("error_message_en")) if refused else None}
