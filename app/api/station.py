"""Card station endpoints 制卡工作站接口 (hardware/PROTOCOL.md): claim, progress, result."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from app import csrf, db_session
from app.engine import runtime
from app.engine.errors import EngineError, FormInvalid
from app.engine.services import Actor

from .auth import api_error, require_station

bp = Blueprint("station_api", __name__, url_prefix="/api/v1/station")
csrf.exempt(bp)
bp.before_request(require_station)


def _station() -> str:
    body = request.get_json(silent=True) or {}
    station = str(body.get("station") or "").strip()[:64]
    return station


@bp.post("/jobs/claim")
def claim():
    from app.cards.jobs import claim_next_job, job_payload
    station = _station()
    if not station:
        return api_error(400, "bad_request", "缺少工作站编号", "station id missing")
    session = db_session()
    job = claim_next_job(session, station)
    if job is None:
        session.commit()
        return "", 204
    payload = job_payload(session, job)
    session.commit()
    return jsonify(job=payload)


@bp.post("/jobs/<job_id>/progress")
def progress(job_id):
    from app.cards.jobs import find_job, record_progress
    session = db_session()
    job = find_job(session, job_id)
    if job is None:
        return api_error(404, "not_found", "无此制卡任务", "No such card job")
    if job.state == "cancelled":
        return api_error(409, "cancelled", "制卡任务已取消", "The card job was cancelled")
    body = request.get_json(silent=True) or {}
    record_progress(session, job, str(body.get("state", ""))[:32], str(body.get("detail", ""))[:500])
    session.commit()
    return jsonify(ok=True)


@bp.post("/jobs/<job_id>/result")
def result(job_id):
    """Store the first result per job attempt and wake the case waiting for it (idempotent)."""
    from app.cards.jobs import find_job, record_result
    session = db_session()
    job = find_job(session, job_id)
    body = request.get_json(silent=True)
    if job is None:
        return api_error(404, "not_found", "无此制卡任务", "No such card job")
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        return api_error(400, "bad_request", "结果格式错误", "Malformed result")
    if job.state == "cancelled":
        return api_error(409, "cancelled", "制卡任务已取消", "The card job was cancelled")
    job, first_time = record_result(session, job.id, body)
    if first_time:
        message = {"ok": body["ok"], "job_id": job.id, "error": body.get("error"),
                   "card_number": (body.get("card") or {}).get("card_number"),
                   "bank_card_number": body.get("bank_card_number")}
        runtime.send_message(session, "card_job_finished", message, instance_id=job.instance_id,
                             actor=Actor.system(f"station:{_station() or 'unknown'}"))
    else:
        session.commit()
    return jsonify(ok=True, recorded=first_time)
