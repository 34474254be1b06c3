"""Card jobs 制卡任务: the outbox between the workflow and the card station.

A service task (``card.submit_issue_job``) writes a ``CardJob`` in the workflow step's
transaction; the station (``hardware/station/``) claims it over HTTP, makes the card and
reports a result; the platform records the result here and, the first time only, sends the
message ``card_job_finished`` to the waiting workflow instance (``app/api/station.py``).

Following ``hardware/PROTOCOL.md``:
- a job claimed by a station but without a result is handed out again to the *same* station on
  its next claim (it may have crashed before spooling it), with the same attempt number;
- after a failed attempt the workflow may queue the same job again (``requeue``): the next
  claim hands it out as attempt n+1; a late result for a closed attempt is refused
  (``JobSuperseded``, HTTP 409);
- results are idempotent per ``result_id``.

The HTTP endpoints belong to the web layer; these are the database functions behind them.
None of them commits.
"""
from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.models import CardJob
from app.cards.states import FINAL_JOB_STATES, JobState
from app.common.clock import utcnow
from app.common.masking import mask_id

log = logging.getLogger(__name__)

# The BPMN message a finished job sends to its instance.
from hardware.protocol import JOB_FINISHED_MESSAGE  # noqa: E402,F401  (the protocol's name)


class JobNotFound(LookupError):
    pass


class JobCancelled(Exception):
    """The job was cancelled on the platform (HTTP 409 for the station)."""


class JobSuperseded(JobCancelled):
    """A result for an attempt the platform has already closed (HTTP 409)."""


class JobResultMismatch(ValueError):
    """The result does not belong to this job (HTTP 400/422 for the station)."""


def find_job(session: Session, job_id: int | str) -> CardJob | None:
    """The job with this id (the station sends it as a string), or None."""
    try:
        return session.get(CardJob, int(job_id))
    except (TypeError, ValueError):
        return None


def claim_next_job(session: Session, station_id: str, window: str | None = None,
                   kinds: tuple[str, ...] | list[str] | None = None,
                   now: datetime | None = None) -> CardJob | None:
    """The job ``station_id`` should do now, or None when there is nothing to do.

    First a job this station claimed earlier without sending a result (handed out again,
    same attempt); otherwise the oldest queued job (of ``window`` if given), claimed now as
    the next attempt. Concurrent stations never get the same queued job: its row is locked
    with SKIP LOCKED on PostgreSQL; SQLite serialises writers anyway."""
    mine = select(CardJob).where(CardJob.state == JobState.CLAIMED,
                                 CardJob.station_id == station_id)
    if kinds:
        mine = mine.where(CardJob.kind.in_(list(kinds)))
    job = session.scalars(mine.order_by(CardJob.id).limit(1)).first()
    if job is not None:
        log.info("card job %s handed out again to station %s (attempt %s)", job.id, station_id,
                 job.attempts)
        return job
    query = select(CardJob).where(CardJob.state == JobState.QUEUED)
    if window is not None:
        query = query.where(CardJob.window == window)
    if kinds:
        query = query.where(CardJob.kind.in_(list(kinds)))
    query = query.order_by(CardJob.id).limit(1).with_for_update(skip_locked=True)
    job = session.scalars(query).first()
    if job is None:
        return None
    job.state = JobState.CLAIMED
    job.station_id = station_id
    job.attempts = (job.attempts or 0) + 1
    job.claimed_at = now or utcnow()
    session.flush()
    log.info("card job %s claimed by station %s (attempt %s)", job.id, station_id, job.attempts)
    return job


#: fn(session, job) -> the holder's photo (bytes) or None. The family whose row asked for the card
#: registers how its photo is found: the photo stays in that row, never in the job.
PHOTO_SOURCES: list[Callable[[Session, CardJob], bytes | None]] = []


def photo_source(fn: Callable[[Session, CardJob], bytes | None]):
    """Decorator: register a family's photo lookup for :func:`job_payload`."""
    PHOTO_SOURCES.append(fn)
    return fn


def job_payload(session: Session, job: CardJob) -> dict:
    """The job as the station receives it (PROTOCOL.md §4): id, kind, attempt, the chip data
    under ``card``, the printer's ``face`` (with the applicant's photo, base64) and the
    expected bank card number of the blank card. The photo is not kept in the job row."""
    payload = dict(job.payload or {})
    face = dict(payload.get("face") or {})
    photo = next((p for p in (source(session, job) for source in PHOTO_SOURCES) if p), None)
    if photo:
        face["photo"] = base64.b64encode(photo).decode("ascii")
    out = {"id": str(job.id), "kind": job.kind, "attempt": job.attempts or 1,
           "card": payload.get("card"), "face": face}
    if payload.get("expected_bank_card_number"):
        out["expected_bank_card_number"] = payload["expected_bank_card_number"]
    if payload.get("region"):  # rewrite_region: the new insured region
        out["region"] = payload["region"]
    return out


#: kind -> fn(session, job): what the result of a job on a card in use records when no case
#: waits for it (a PIN change at the self-service terminal, a PIN reset at the counter). The
#: family owning the action registers it; it runs in the transaction storing the result.
RESULT_HOOKS: dict[str, Callable[[Session, CardJob], None]] = {}


def on_result(kind: str):
    """Decorator: register what a finished job of ``kind`` without a case records."""
    def register(fn):
        RESULT_HOOKS[kind] = fn
        return fn
    return register


def finish_without_case(session: Session, job: CardJob) -> bool:
    """Run the registered hook of a job no case waits for; False if none is registered."""
    hook = RESULT_HOOKS.get(job.kind)
    if hook is None:
        return False
    hook(session, job)
    return True


station_job = job_payload


def record_progress(session: Session, job: CardJob | int | str, state: str,
                    detail: str = "") -> CardJob:
    """What the station is doing now (for the clerk's screen). Refused once cancelled."""
    job = job if isinstance(job, CardJob) else _get(session, job)
    if job.state == JobState.CANCELLED:
        raise JobCancelled(job.id)
    if job.state not in FINAL_JOB_STATES:
        job.progress = {"state": str(state)[:32], "detail": str(detail)[:500],
                        "at": utcnow().isoformat()}
    return job


def record_result(session: Session, job_id: int | str, result: dict,
                  now: datetime | None = None) -> tuple[CardJob, bool]:
    """Store the station's result of a job. Returns ``(job, first_time)``: the same result
    sent again (same ``result_id``), or any second result of an attempt already finished,
    changes nothing and gives ``first_time=False``, so the caller sends the workflow message
    only once.

    Raises ``JobNotFound``, ``JobCancelled`` (cancelled job), ``JobSuperseded`` (the result's
    attempt is not the current one) and ``JobResultMismatch`` (the result names another job)."""
    job = _get(session, job_id, for_update=True)
    if str(result.get("job_id", job.id)) != str(job.id):
        raise JobResultMismatch(f"result for job {result.get('job_id')!r} sent to job {job.id}")
    if job.state == JobState.CANCELLED:
        raise JobCancelled(job.id)
    if result.get("result_id") and result.get("result_id") == job.result_id:
        return job, False  # a resend of the result we have
    attempt = _int(result.get("attempt"), job.attempts)
    if attempt != job.attempts or job.state == JobState.QUEUED:
        raise JobSuperseded(job.id)
    if job.state in (JobState.DONE, JobState.FAILED):
        log.warning("card job %s attempt %s already finished; another result %s ignored",
                    job.id, attempt, result.get("result_id"))
        return job, False
    ok = result.get("ok") is True
    job.state = JobState.DONE if ok else JobState.FAILED
    job.finished_at = now or utcnow()
    job.result_id = result.get("result_id")
    job.result = _stored_result(result)
    if job.station_id is None:
        job.station_id = result.get("station")
    session.flush()
    log.info("card job %s attempt %s %s (holder %s)", job.id, attempt, job.state,
             mask_id((job.payload or {}).get("card", {}).get("ssn", "")))
    return job, True


def requeue(job: CardJob, payload: dict | None = None) -> CardJob:
    """Queue a failed job again (the clerk chose to retry); the next claim is attempt n+1.
    ``payload`` replaces the old one (e.g. another blank card)."""
    if job.state != JobState.FAILED:
        raise ValueError(f"only a failed job can be queued again, job {job.id} is {job.state}")
    job.history = [*(job.history or []), {"attempt": job.attempts, "station": job.station_id,
                                          "finished_at": job.finished_at.isoformat()
                                          if job.finished_at else None, "result": job.result}]
    job.state = JobState.QUEUED
    job.station_id = None
    job.claimed_at = job.finished_at = None
    job.result = job.result_id = job.progress = None
    if payload is not None:
        job.payload = payload
    return job


def message_payload(job: CardJob) -> dict:
    """A compact payload for the ``card_job_finished`` message: ids, ok, the error; no
    personal data (the bank card number masked)."""
    result = job.result or {}
    error = result.get("error") or None
    return {"job_id": job.id, "ok": job.state == JobState.DONE, "attempt": job.attempts,
            "bank_card_number": mask_id(result.get("bank_card_number") or ""), "error": error}


def cancel_open_jobs(session: Session, application_id: int) -> int:
    """Cancel queued/claimed/failed jobs of an application (the case ended); a station still
    holding one gets HTTP 409 and keeps its spool for a person to look at."""
    jobs = session.scalars(select(CardJob).where(
        CardJob.application_id == application_id,
        CardJob.state.in_([JobState.QUEUED, JobState.CLAIMED]))).all()
    for job in jobs:
        job.state = JobState.CANCELLED
        job.finished_at = utcnow()
    return len(jobs)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _stored_result(result: dict) -> dict:
    keep = ("job_id", "attempt", "kind", "station", "result_id", "ok", "bank_card_number",
            "apdus", "resumed", "error", "finished_at", "printed", "pin_changed", "region")
    out = {k: result.get(k) for k in keep if k in result}
    card = result.get("card")
    if isinstance(card, dict):  # read back from the chip: keep the identifying fields only
        out["card"] = {k: card.get(k) for k in ("card_number", "card_identifier", "ssn")
                       if k in card}
    return out


def _get(session: Session, job_id: int | str, for_update: bool = False) -> CardJob:
    try:
        key = int(job_id)
    except (TypeError, ValueError):
        raise JobNotFound(job_id) from None
    query = select(CardJob).where(CardJob.id == key)
    if for_update:
        query = query.with_for_update()
    job = session.scalars(query).first()
    if job is None:
        raise JobNotFound(job_id)
    return job
