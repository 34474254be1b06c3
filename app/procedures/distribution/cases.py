"""The distribution family's cases opened by the platform: one correction case 信息更正 per card
returned with wrong data (a background job, one case per step, idempotent by business key)."""
from __future__ import annotations

from sqlalchemy import select

from app.engine import jobs, runtime
from app.engine.jobs import JobContext
from app.engine.models import ProcessInstance
from app.engine.services import Actor
from app.procedures.batch.models import Batch, Person
from app.procedures.distribution.models import CardReturn, DataCorrection

CORRECTION_PROCESS = "data_correction"


def correction_key(correction_id: int) -> str:
    return f"GZ{correction_id}"


@jobs.handler("distribution.open_corrections")
def open_corrections(ctx: JobContext) -> dict:
    """信息更正办件 for every returned wrong-data card that has none yet."""
    with ctx.session_factory() as s:
        todo = s.scalars(select(DataCorrection.id).where(DataCorrection.instance_id.is_(None))
                         .order_by(DataCorrection.id)).all()
    started = 0
    for n, correction_id in enumerate(todo, 1):
        with ctx.session_factory() as s:
            row = s.get(DataCorrection, correction_id)
            key = correction_key(row.id)
            if row.instance_id is not None or s.scalars(select(ProcessInstance.id).where(
                    ProcessInstance.process_key == CORRECTION_PROCESS,
                    ProcessInstance.business_key == key)).first() is not None:
                continue
            person = s.get(Person, row.person_id)
            returned = s.get(CardReturn, row.return_id)
            office = s.get(Batch, person.batch_id).office
            runtime.start_instance(s, CORRECTION_PROCESS, {
                "correction_id": row.id, "holder_name": person.name}, key,
                Actor(username=returned.received_by, office=office))
            started += 1
        ctx.progress(n, len(todo), "open_corrections")
    return {"started": started}
