"""Case pages 案件: list, case page (deadline, tasks, incidents, documents, history), start."""
from __future__ import annotations

from dataclasses import dataclass

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import select

from app.auth.service import actor_of
from app.engine import runtime
from app.engine.models import HumanTask, Incident, ProcessInstance
from app.engine.repository import latest_models
from app.sla.view import views as deadline_views
from app.web.history import history as case_history
from app.web.steps import page_step
from app.web.history import step_titles
from app.common.ids import parse_id
from app.permissions import case_data, signed_in
from app.web import t
from app.cases.access import may_view_case, startable_processes, visible_cases
from app.cases.cancel import cancel_case
from app.cases.errors import STEP_ERRORS, case_errors
from app.common.clock import china_today as today
from app.extensions import db_session
from app.sla.overrides import calendar_for as calendar

bp = Blueprint("cases", __name__)

STATUSES = ("running", "waiting", "error", "completed", "cancelled")


@bp.get("/cases")
@signed_in  # the list shows what app.cases.access.visible_cases allows
def index():
    session = db_session()
    q = select(ProcessInstance).where(visible_cases(session, current_user)) \
        .order_by(ProcessInstance.id.desc())
    status = request.args.get("status")
    if status in STATUSES:
        q = q.where(ProcessInstance.status == status)
    key = (request.args.get("q") or "").strip()
    if key:
        q = q.where(ProcessInstance.business_key == key)
    before = parse_id(request.args.get("before"))  # the next page's cursor
    if before:
        q = q.where(ProcessInstance.id < before)
    limit = 50
    cases = session.scalars(q.limit(limit + 1)).all()
    more = cases[limit - 1].id if len(cases) > limit else None
    return render_template("cases/index.html", cases=cases[:limit], more=more, status=status, key=key)


def _instance_or_404(instance_id: int) -> ProcessInstance:
    inst = db_session().get(ProcessInstance, instance_id)
    if inst is None:
        abort(404)
    return inst


@bp.get("/cases/<int:instance_id>")
@case_data
def show(instance_id):
    session = db_session()
    inst = _instance_or_404(instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    deadlines = deadline_views(session, [inst.id], calendar(session), today())[inst.id]
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id).order_by(HumanTask.id)).all()
    incidents = session.scalars(select(Incident).where(Incident.instance_id == inst.id).order_by(Incident.id)).all()
    titles = step_titles(session, inst)  # for the history and the incidents: read once
    return render_template("cases/show.html", inst=inst, deadlines=deadlines, tasks=tasks,
                           incidents=incidents, history=case_history(session, inst, titles),
                           panels=case_panels(session, inst), step_titles=titles)


@dataclass
class Panel:
    template: str
    context: dict


def case_panels(session, inst) -> list[Panel]:
    """What each procedure family shows on its cases' page (declared in its manifest)."""
    panels = []
    for family in current_app.extensions["sscard"].families:
        if family.case_panel is not None:
            template, build = family.case_panel
            context = build(session, inst)
            if context is not None:
                panels.append(Panel(template, context))
    return panels


def _application(session, inst):
    from app.procedures.application.panel import application_of
    return application_of(session, inst)


@bp.get("/cases/<int:instance_id>/photo")
@case_data
def photo(instance_id):
    inst = _instance_or_404(instance_id)
    if not may_view_case(db_session(), current_user, inst):
        abort(403)
    application = _application(db_session(), inst)
    if application is None or not application.photo:
        abort(404)
    kind = "image/png" if application.photo[:4] == b"\x89PNG" else "image/jpeg"
    return Response(application.photo, mimetype=kind, headers={"Cache-Control": "private, no-store"})


@bp.post("/incidents/<int:incident_id>/retry")
@case_data
def retry(incident_id):
    session = db_session()
    incident = session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    inst = session.get(ProcessInstance, incident.instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    return page_step(lambda: runtime.retry_incident(session, incident_id, actor_of(current_user)),
                     url_for("cases.show", instance_id=incident.instance_id), t("已重试。", "Retried."))


@bp.post("/cases/<int:instance_id>/cancel")
@case_data
def cancel(instance_id):
    """撤销办件: the applicant gave up, or a card job can no longer finish."""
    session = db_session()
    inst = _instance_or_404(instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    reason = (request.form.get("reason") or "").strip()[:200]
    if not reason:
        flash(t("请填写撤销原因。", "Give the reason for cancelling."))
        return redirect(url_for("cases.show", instance_id=instance_id))
    families = current_app.extensions["sscard"].families
    return page_step(lambda: cancel_case(session, families, instance_id, actor_of(current_user), reason),
                     url_for("cases.show", instance_id=instance_id),
                     t("办件已撤销。", "The case was cancelled."))


@bp.post("/cases/<int:instance_id>/deadline")
@case_data
def deadline_clock(instance_id):
    """时限挂起 / 恢复计时: the case waits for the applicant (补正材料...), or no longer does."""
    session = db_session()
    inst = _instance_or_404(instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    name = (request.form.get("name") or "").strip()[:100] or None
    action = request.form.get("action")
    reason = (request.form.get("reason") or "").strip()[:200]
    back = url_for("cases.show", instance_id=instance_id)
    actor = actor_of(current_user)
    if action == "suspend":
        if not reason:
            flash(t("请填写暂停计时的原因（例如：等待申请人补正材料）。",
                    "Give the reason for pausing the clock (e.g. waiting for documents)."))
            return redirect(back)
        return page_step(lambda: runtime.suspend_deadline(session, instance_id, reason, actor, name),
                         back, t("已暂停计时。", "The clock is paused."))
    if action == "resume":
        return page_step(lambda: runtime.resume_deadline(session, instance_id, actor, name),
                         back, t("已恢复计时，时限已顺延。", "The clock runs again; the deadline moved."))
    abort(400)


@bp.route("/start", methods=["GET", "POST"])
@signed_in  # what each may start: the start event's lane (startable_processes)
def start():
    session = db_session()
    startable = startable_processes(session, current_user.group_names)
    if request.method == "POST":
        key = request.form.get("process", "")
        if key not in {p.key for p in startable}:
            if key in {m.key for m in latest_models(session)}:
                abort(403)  # a procedure the start event's lane keeps from this user
            flash(t("请选择要办理的业务。", "Choose the procedure to start."))
            return redirect(url_for("cases.start"))
        try:
            inst = runtime.start_instance(session, key, {}, None, actor_of(current_user))
        except STEP_ERRORS as e:  # e.g. the deadline falls in a year nobody entered yet
            session.rollback()
            flash(case_errors(e))
            return redirect(url_for("cases.start"))
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
                               .order_by(HumanTask.id)).first()
        if task is not None and current_user.in_group(task.group):
            # the clerk who opens the case takes its first task: it is in "my tasks" if they
            # step away, rather than up for grabs in the group
            try:
                runtime.claim(session, task.id, actor_of(current_user))
            except STEP_ERRORS:
                session.rollback()
            return redirect(url_for("inbox.task", task_id=task.id))
        return redirect(url_for("cases.show", instance_id=inst.id))
    return render_template("cases/start.html", startable=startable)
