"""The batch family's cases 办件: the batch's own case once its checks are done, one case per
employer application when the batch is released, the delivery told to the employer cases.
Each runs as background work, one case per step (one transaction each), idempotent: a job
resumed after a crash finds the cases it had already started by their business keys."""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.engine import jobs, repository, runtime
from app.engine.jobs import JobContext
from app.engine.models import ProcessInstance
from app.engine.services import Actor
from app.procedures.batch.models import Batch, Employer
from app.procedures.batch.states import EmployerStatus

log = logging.getLogger(__name__)

BATCH_PROCESS = "card_batch"
EMPLOYER_PROCESS = "employer_application"


def batch_key(batch_id: int) -> str:
    return f"PC{batch_id}"


def employer_key(employer: Employer) -> str:
    return f"DW{employer.batch_id}-{employer.id}"


def _existing(session, process_key: str, business_key: str) -> ProcessInstance | None:
    return session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == process_key,
        ProcessInstance.business_key == business_key)).first()


def _deployed(session, process_key: str) -> bool:
    return repository.latest_model(session, process_key) is not None


def start_batch_case(session_factory, batch_id: int) -> int | None:
    """The batch's case (制卡批次), once; None while its procedure is not deployed."""
    with session_factory() as s:
        batch = s.get(Batch, batch_id)
        if batch.instance_id is not None:
            return batch.instance_id
        if not _deployed(s, BATCH_PROCESS):
            log.info("batch %s: %s not deployed, no case started", batch_id, BATCH_PROCESS)
            return None
        instance = _existing(s, BATCH_PROCESS, batch_key(batch_id)) or runtime.start_instance(
            s, BATCH_PROCESS, {"batch_id": batch.id, "batch_name": batch.name},
            batch_key(batch.id), Actor(username=batch.created_by, office=batch.office))
        iid = instance.id
    with session_factory() as s, s.begin():
        s.get(Batch, batch_id).instance_id = iid
    return iid


@jobs.handler("batch.open_employers")
def open_employers(ctx: JobContext) -> dict:
    """下发单位: one employer application case per employer with eligible persons."""
    batch_id, days = int(ctx.params["batch_id"]), int(ctx.params["days"])
    with ctx.session_factory() as s:
        batch = s.get(Batch, batch_id)
        actor = Actor(username=batch.created_by, office=batch.office)
        todo = s.scalars(select(Employer.id).where(Employer.batch_id == batch_id,
                                                   Employer.eligible > 0).order_by(Employer.id)).all()
    started = 0
    for n, employer_id in enumerate(todo, 1):
        with ctx.session_factory() as s:
            employer = s.get(Employer, employer_id)
            if employer.instance_id is None and _existing(s, EMPLOYER_PROCESS, employer_key(employer)) is None:
                runtime.start_instance(s, EMPLOYER_PROCESS, {
                    "employer_id": employer.id, "batch_id": batch_id, "employer_code": employer.code,
                    "employer_name": employer.name, "return_working_days": days},
                    employer_key(employer), actor)
                started += 1
        if n % 20 == 0 or n == len(todo):
            ctx.progress(n, len(todo), "open_employers")
    return {"started": started, "employers": len(todo)}


@jobs.handler("batch.announce_delivery")
def announce_delivery(ctx: JobContext) -> dict:
    """到货: tell every employer case whose cards all arrived (message ``cards_delivered``)."""
    batch_id = int(ctx.params["batch_id"])
    with ctx.session_factory() as s:
        waiting = s.execute(select(Employer.id, Employer.instance_id).where(
            Employer.batch_id == batch_id, Employer.status == EmployerStatus.DELIVERED,
            Employer.instance_id.is_not(None))).all()
    told = 0
    for employer_id, instance_id in waiting:
        with ctx.session_factory() as s:
            try:
                runtime.send_message(s, "cards_delivered", {"employer_id": employer_id},
                                     instance_id=instance_id)
                told += 1
            except runtime.NoMessageReceiver:
                s.rollback()  # already at the acceptance: told before
    ctx.progress(len(waiting), len(waiting), "done")
    return {"told": told}
