"""The batch family on the case page and the task pages: which batch or employer the case is,
its figures, where its persons are worked (the grid), and what the last check said (the
summary's differences, a refused acceptance)."""
from __future__ import annotations

from sqlalchemy import select

from app.engine.runtime import instance_data
from app.procedures.batch.models import Batch, Employer
from app.procedures.batch.states import BATCH_LABELS, EMPLOYER_LABELS


def _rows(session, instance):
    employer = session.scalars(select(Employer).where(Employer.instance_id == instance.id)).first()
    if employer is not None:
        return session.get(Batch, employer.batch_id), employer
    batch = session.scalars(select(Batch).where(Batch.instance_id == instance.id)).first()
    return batch, None


def batch_panel(session, instance) -> dict | None:
    batch, employer = _rows(session, instance)
    if batch is None:
        return None
    notes = []
    data = instance_data(session, instance.id) if employer is not None else {}
    if employer is not None and employer.differences:
        notes.append([(d.get("zh"), d.get("en")) for d in employer.differences])
    # the last check that sent the case back (cleared by the diagram once it passes)
    refused = data.get("error_message") if data.get("error_code") else None
    return {"batch": batch, "employer": employer,
            "batch_status": BATCH_LABELS.get(batch.status),
            "employer_status": EMPLOYER_LABELS.get(employer.status) if employer else None,
            "differences": notes[0] if notes else [],
            "refused": (refused, data.get("error_message_en")) if refused else None}
