"""Card station endpoints 制卡工作站接口 (hardware/PROTOCOL.md): claim, progress, result."""
from __future__ import annotations

from flask import Blueprint, jsonify

from hardware.protocol import API, JOB_FINISHED_MESSAGE

from app.extensions import csrf
from app.engine import runtime
from app.engine.errors import NoMessageReceiver
from app.engine.services import Actor
from app.extensions import db_session
from app.common.ids import parse_id
from app.permissions import station

from . import errors
from .auth import api_error, require_station
from .errors import json_body, json_object

bp = Blueprint("station_api", __name__, url_prefix=API)
csrf.exempt(bp)
bp.before_request(require_station)
errors.register(bp)


def station_window(station: str) -> str | None:
    """The window whose jobs a station takes: "WINDOW:n" stations take that window's jobs,
    others (one-window installations) any job."""
    return station.split(":", 1)[0] if ":" in station else None


def _kinds() -> list[str] | None:
    kinds = (json_object() or {}).get("kinds")
    return [str(k) for k in kinds][:10] if isinstance(kinds, list) else None


def _station() -> str:
    body = json_object() or {}
    station = str(body.get("station") or "").strip()[:64]
    return station


@bp.post("/jobs/claim")
@station
def claim():
    from app.cards.jobs import claim_next_job, job_payload
    station = _station()
    if not station:
        return api_error(400, "bad_request", "缺少工作站编号", "station id missing")
    session = db_session()
    job = claim_next_job(session, station, window=station_window(station), kinds=_kinds())
    if job is None:
        session.commit()
        return "", 204
    payload = job_payload(session, job)
    session.commit()
    return jsonify(job=payload)


@bp.post("/jobs/<job_id>/progress")
@station
def progress(job_id):
    from app.cards.jobs import find_job, record_progress
    session = db_session()
    job = find_job(session, job_id) if parse_id(job_id) is not None else None
    if job is None:
        return api_error(404, "not_found", "无此制卡任务", "No such card job")
    if job.state == "cancelled":
        return api_error(409, "cancelled", "制卡任务已取消", "The card job was cancelled")
    body = json_body()
    if body is not None and not isinstance(body, dict):
        return api_error(400, "bad_request", "请求体应为 JSON 对象", "The body must be a JSON object")
    body = body or {}
    record_progress(session, job, str(body.get("state", ""))[:32], str(body.get("detail", ""))[:500])
    session.commit()
    return jsonify(ok=True)


@bp.post("/jobs/<job_id>/result")
@station
def result(job_id):
    """Store the first result per job attempt and wake the case waiting for it (idempotent)."""
    from app.cards.jobs import find_job, record_result
    session = db_session()
    job = find_job(session, job_id) if parse_id(job_id) is not None else None
    body = json_object()
    if job is None:
        return api_error(404, "not_found", "无此制卡任务", "No such card job")
    if body is None or not isinstance(body.get("ok"), bool):
        return api_error(400, "bad_request", "结果格式错误", "Malformed result")
    if job.state == "cancelled":
        return api_error(409, "cancelled", "制卡任务已取消", "The card job was cancelled")
    from app.cards.jobs import JobCancelled, JobResultMismatch, message_payload
    try:
        job, first_time = record_result(session, job.id, body)
    except JobCancelled:  # cancelled, or this attempt superseded by a newer one
        session.rollback()
        return api_error(409, "cancelled", "制卡任务已取消或已重新派发", "The card job was cancelled or handed out again")
    except JobResultMismatch as e:
        session.rollback()
        return api_error(422, "invalid", f"结果与任务不符：{e}", f"The result does not match the job: {e}")
    if first_time and job.instance_id is None:  # a job on a card in use: its family records it
        from app.cards.jobs import finish_without_case
        finish_without_case(session, job)
        session.commit()
    elif first_time:  # the same step records the result and wakes the case (one transaction)
        try:
            runtime.send_message(session, JOB_FINISHED_MESSAGE, message_payload(job), instance_id=job.instance_id,
                                 actor=Actor.system(f"station:{_station() or 'unknown'}"))
        except NoMessageReceiver:  # the case ended (e.g. cancelled) or no longer waits for a card
            session.rollback()     # nothing recorded: the station keeps the result for a person
            return api_error(409, "no_case_waiting", "没有办件在等待该制卡结果，结果未登记",
                             "No case is waiting for this card job's result; nothing was recorded")
    else:
        session.commit()
    return jsonify(ok=True, recorded=first_time)
