"""JSON API v1 接口: same services, same forms and same permissions as the pages."""
from __future__ import annotations

import re
import zlib
from typing import Callable

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select, text

from app.extensions import csrf
from app.auth.service import actor_of
from app.engine import audit, runtime
from app.engine.errors import FormInvalid
from app.engine.models import AuditEvent, HumanTask, Incident, ProcessInstance
from app.inbox import queries
from app.sla.calendar import CalendarYearMissing
from app.sla.view import primary
from app.sla.view import views as deadline_views
from app.cases.access import may_view_case, startable_processes
from app.permissions import PUBLIC, access_of, case_data, public, signed_in, task_work
from app.cases.cancel import cancel_case
from app.cases.errors import STEP_ERRORS, error_texts
from app.common.clock import china_today as today
from app.extensions import db_session
from app.sla.overrides import calendar_for as calendar
from app.common.i18n import T, to_text
from app.common.ids import parse_id
from app.common.masking import mask_data

from . import errors
from .auth import api_error, require_user
from .errors import json_object
from .openapi import SPEC

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated: no cookies, so no CSRF
errors.register(bp)  # every error answer is JSON in both languages, a lock wait a 503

# A caller-chosen business key (业务编号): printable, no spaces, unique per procedure. Without
# one the platform assigns it (e.g. the application number once the form is accepted).
BUSINESS_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_BUSINESS_KEY_RULE = T("业务编号为 1 至 64 个字母、数字或 _ . : - 字符",
                       "A business key is 1 to 64 letters, digits or the characters _ . : -")


@bp.before_request
def authenticate():
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and (access := access_of(view)) is not None and access.kind == PUBLIC:
        return None  # the API's description
    return require_user()


def _engine_error(e: Exception):
    if isinstance(e, CalendarYearMissing):
        zh, en = error_texts(e)
        return api_error(409, "calendar_year_missing", zh, en, year=e.year)
    status = {"not_found": 404, "invalid": 422, "forbidden": 403, "conflict": 409}.get(e.kind, 400)
    return api_error(status, type(e).__name__, e.message_zh, e.message_en)


def api_step(run: Callable[[], object], answer: Callable[[object], object]):
    """The API's sequence for an engine step: run it and answer with ``answer(result)``; when
    it was refused roll back and answer the error (422 with the fields for a form, the
    engine's kind otherwise)."""
    session = db_session()
    try:
        result = run()
    except FormInvalid as e:
        session.rollback()
        return api_error(422, "invalid", "表单填写有误", "The form has errors", fields=to_text(e.errors))
    except STEP_ERRORS as e:
        session.rollback()
        return _engine_error(e)
    return answer(result)


def _task_json(task: HumanTask) -> dict:
    return {"id": task.id, "instance_id": task.instance_id, "name": task.task_name, "title": task.title,
            "form_key": task.form_key, "group": task.group, "state": task.state,
            "assignee_id": task.assignee_id, "due_at": task.due_at.isoformat() if task.due_at else None,
            "created_at": task.created_at.isoformat() if task.created_at else None}


def _instance_json(session, inst: ProcessInstance, full: bool = True, unmasked: bool = False) -> dict:
    """A case as the API shows it; personal data masked (mask_data) unless ``unmasked``."""
    out = {"id": inst.id, "process": inst.process_key, "business_key": inst.business_key,
           "status": inst.status, "started_at": inst.started_at.isoformat() if inst.started_at else None,
           "ended_at": inst.ended_at.isoformat() if inst.ended_at else None,
           "deadline": inst.deadline_at.isoformat() if inst.deadline_at else None,
           "lock_version": inst.lock_version}
    cal = calendar(session)
    try:
        out["working_days_left"] = queries.days_left(cal, inst.deadline_at, today())
    except CalendarYearMissing as e:
        out["working_days_left"] = None
        out["calendar_error"] = str(e)
    deadlines = deadline_views(session, [inst.id], cal, today())[inst.id]
    out["deadlines"] = [d.as_json() for d in deadlines]
    main = primary(deadlines)
    out["deadline_state"] = main.state if main else None
    if full:
        out["open_tasks"] = [_task_json(t) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open"))]
        out["incidents"] = [{"id": i.id, "task": i.task_name, "state": i.state, "message_zh": i.message_zh,
                             "message_en": i.message_en} for i in session.scalars(
            select(Incident).where(Incident.instance_id == inst.id))]
        out["history"] = [{"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "task": e.task_name,
                           "detail": e.detail} for e in session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.id))]
    return out if unmasked else mask_data(out)


@bp.get("/openapi.json")
@public  # what the API offers, no data
def openapi():
    return jsonify(SPEC)


@bp.get("/process-models")
@signed_in
def process_models():
    session = db_session()
    startable = {p.key for p in startable_processes(session, g.api_user.group_names)}
    from app.engine.repository import list_models
    models = list_models(session)
    return jsonify(process_models=[{"key": m.key, "version": m.version, "name": m.name or m.key,
                                    "startable": m.key in startable} for m in models])


@bp.post("/process-instances")
@signed_in  # who may start what: the start event's lane
def start_instance():
    session = db_session()
    body = json_object()
    if body is None or not isinstance(body.get("process"), str):
        return api_error(400, "bad_request", "请求体应为 {\"process\": 流程标识, \"data\": {...}}",
                         'Body must be {"process": key, "data": {...}}')
    data = body.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):  # also [] and "" (falsy, but not an object)
        return api_error(400, "bad_request", "data 应为对象", "data must be an object")
    business_key = body.get("business_key")
    if business_key is not None and not isinstance(business_key, str):
        return api_error(400, "bad_request", "business_key 应为文本", "business_key must be a string")
    if body["process"] not in {p.key for p in startable_processes(session, g.api_user.group_names)}:
        return api_error(403, "forbidden", "您的岗位不能发起该业务", "Your groups cannot start this procedure")
    if business_key is not None:
        refused = _check_business_key(session, body["process"], business_key)
        if refused is not None:
            session.rollback()
            return refused
    return api_step(lambda: runtime.start_instance(session, body["process"], data, business_key,
                                                   actor_of(g.api_user)),
                    lambda inst: (jsonify(_instance_json(session, inst)), 201))


def _check_business_key(session, process_key: str, business_key: str):
    """None when a caller-chosen business key may be used, else the answer refusing it: 422 for
    its format, 409 when a case of the procedure already has it. Checked in the start's own
    transaction: on PostgreSQL an advisory lock on (procedure, key) holds a second start with
    the same key until this one commits; on SQLite a start that began before the other one
    committed loses at write time (409)."""
    if not BUSINESS_KEY.fullmatch(business_key):
        return api_error(422, "invalid", "业务编号格式不正确", "The business key is not valid",
                         fields={"business_key": [to_text(_BUSINESS_KEY_RULE)]})
    if session.get_bind().dialect.name == "postgresql":
        lock = zlib.crc32(f"{process_key}\n{business_key}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": 0x5353, "b": lock - 2**31})
    taken = session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == process_key, ProcessInstance.business_key == business_key).limit(1))
    if taken is not None:
        return api_error(409, "duplicate_business_key",
                         f"业务编号“{business_key}”已被该业务的其他办件使用，请使用其他编号或不填（由平台分配）",
                         f"The business key '{business_key}' is already used by another case of this "
                         "procedure; choose another one or leave it out (the platform assigns one)")
    return None


def _case(session, instance_id: int):
    """(case, None) when it exists and the user works on it, else (None, error response)."""
    inst = session.get(ProcessInstance, instance_id)
    if inst is None:
        return None, api_error(404, "not_found", "无此案件", "No such case")
    if not may_view_case(session, g.api_user, inst):
        return None, api_error(403, "forbidden", "您无权办理或查看该案件", "This case is not yours to see or change")
    return inst, None


@bp.get("/process-instances/<int:instance_id>")
@case_data
def get_instance(instance_id):
    """A case, its personal data masked; ``?full=1`` unmasked, for administrators only and
    recorded in the case's audit trail (view_full_data) before it is shown."""
    session = db_session()
    inst, error = _case(session, instance_id)
    if error:
        return error
    if request.args.get("full", "") in ("", "0", "false"):
        return jsonify(_instance_json(session, inst))
    if not g.api_user.in_group("administrator"):
        return api_error(403, "forbidden", "仅系统管理员可查看未脱敏的个人信息",
                         "Only administrators may view unmasked personal data")
    audit.record(session, "view_full_data", actor_of(g.api_user), instance_id=inst.id, via="api",
                 ip=(request.remote_addr or "")[:45])
    session.commit()  # recorded first: no record, no data
    return jsonify(_instance_json(session, inst, unmasked=True))


@bp.get("/tasks")
@signed_in
def list_tasks():
    session = db_session()
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "group"):
        return api_error(400, "bad_request", "scope 应为 mine 或 group", "scope must be mine or group")
    after = request.args.get("after") or None
    if after is not None and parse_id(after.rpartition("|")[2]) is None:
        return jsonify(tasks=[], next=None)  # a tampered cursor: an empty page, as the inbox's
    rows, cursor = queries.tasks(session, g.api_user, scope, calendar(session), today(),
                                 process=request.args.get("process"), deadline=request.args.get("deadline"),
                                 after=after,
                                 limit=max(1, min(request.args.get("limit", 50, type=int), 200)))
    return jsonify(tasks=[dict(_task_json(r.task), business_key=r.instance.business_key,
                               working_days_left=r.days_left, deadline_state=r.deadline_state) for r in rows],
                   next=cursor)


def _task(session, task_id) -> HumanTask | None:
    return session.get(HumanTask, task_id)


@bp.post("/tasks/<int:task_id>/claim")
@task_work
def claim_task(task_id):
    session = db_session()
    task = _task(session, task_id)
    if task is None:
        return api_error(404, "not_found", "无此任务", "No such task")
    # the engine checks who may claim (group, four eyes): NotCandidate is a 403
    return api_step(lambda: runtime.claim(session, task.id, actor_of(g.api_user)),
                    lambda _row: jsonify(_task_json(session.get(HumanTask, task_id))))


@bp.post("/tasks/<int:task_id>/complete")
@task_work
def complete_task(task_id):
    session = db_session()
    task = _task(session, task_id)
    if task is None:
        return api_error(404, "not_found", "无此任务", "No such task")
    if not runtime.may_work_on(task, actor_of(g.api_user)):  # the engine's rule
        return api_error(403, "forbidden", "该任务不属于您", "This task is not yours")
    body = json_object()
    lock_version = body.get("lock_version") if isinstance(body, dict) else None
    if body is None or not isinstance(body.get("data", {}), dict) or \
            (lock_version is not None and (not isinstance(lock_version, int) or isinstance(lock_version, bool))):
        return api_error(400, "bad_request", "请求体应为 {\"data\": {...}, \"lock_version\": 整数（可选）}",
                         'Body must be {"data": {...}, "lock_version": integer (optional)}')
    return api_step(lambda: runtime.complete_task(session, task.id, body.get("data") or {}, actor_of(g.api_user),
                                                  expected_lock_version=lock_version),
                    lambda inst: jsonify(_instance_json(session, inst)))


@bp.post("/process-instances/<int:instance_id>/cancel")
@case_data
def cancel_instance(instance_id):
    session = db_session()
    inst, error = _case(session, instance_id)
    if error:
        return error
    body = json_object()
    reason = body.get("reason") if body is not None else None
    if not isinstance(reason, str) or not reason.strip():
        return api_error(400, "bad_request", "请求体应为 {\"reason\": 撤销原因}", 'Body must be {"reason": "..."}')
    families = current_app.extensions["sscard"].families
    return api_step(lambda: cancel_case(session, families, instance_id, actor_of(g.api_user), reason.strip()[:200]),
                    lambda _inst: jsonify(_instance_json(session, session.get(ProcessInstance, instance_id))))


@bp.post("/incidents/<int:incident_id>/retry")
@case_data
def retry_incident(incident_id):
    session = db_session()
    incident = session.get(Incident, incident_id)
    if incident is None:
        return api_error(404, "not_found", "无此异常", "No such incident")
    inst = session.get(ProcessInstance, incident.instance_id)
    if not may_view_case(session, g.api_user, inst):
        return api_error(403, "forbidden", "您无权重试该案件", "You may not retry this case")
    return api_step(lambda: runtime.retry_incident(session, incident_id, actor_of(g.api_user)),
                    lambda _inst: jsonify(_instance_json(session, session.get(ProcessInstance, incident.instance_id))))
