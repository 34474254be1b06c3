"""Inbox and task pages 待办与任务办理."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

import wtforms
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import CombinedMultiDict

from app.auth.models import User
from app.auth.service import actor_of
from app.engine import runtime
from app.engine.errors import FormInvalid
from app.engine.models import HumanTask, ProcessInstance, ProcessModel
from app.sla.view import views as deadline_views
from app.web.history import history as case_history
from app.cases.access import may_view_case
from app.permissions import case_data, signed_in, task_work
from app.web import require_groups, t
from app.web.steps import page_step
from app.cases.errors import STEP_ERRORS, case_errors
from app.common.clock import china_today as today
from app.common.ids import parse_id
from app.extensions import db_session
from app.sla.overrides import calendar_for as calendar
from forms.base import to_formdata
from forms.registry import get_form

from . import queries

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@signed_in
def index():
    session = db_session()
    scope = "group" if request.args.get("scope") == "group" else "mine"
    process = request.args.get("process") or None
    deadline = request.args.get("deadline") or None
    after = request.args.get("after") or None
    if after is not None and parse_id(after.rpartition("|")[2]) is None:
        rows, cursor = [], None  # a tampered cursor ("due|id", the id no id): an empty page
    else:
        rows, cursor = queries.tasks(session, current_user, scope, calendar(session), today(),
                                     process=process, deadline=deadline, after=after,
                                     limit=int(current_app.config["PAGE_SIZE"]))
    processes = session.scalars(select(ProcessModel.key).distinct().order_by(ProcessModel.key)).all()
    return render_template("inbox/index.html", rows=rows, cursor=cursor, scope=scope,
                           process=process, deadline=deadline, processes=processes)


def _task_or_404(task_id: int) -> HumanTask:
    task = db_session().get(HumanTask, task_id)
    if task is None:
        abort(404)
    return task


def _may_work_on(task: HumanTask) -> bool:
    return runtime.may_work_on(task, actor_of(current_user))


@bp.post("/tasks/<int:task_id>/claim")
@task_work
def claim(task_id):
    session = db_session()
    task = _task_or_404(task_id)
    # the engine checks who may claim (group, four eyes): not a candidate is a 403
    return page_step(lambda: runtime.claim(session, task.id, actor_of(current_user)),
                     _local(request.form.get("next")) or url_for("inbox.task", task_id=task_id),
                     t("已领取任务。", "Task claimed."))


def _local(target: str | None) -> str | None:
    """A same-site path only (no open redirect through the form's ``next``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlparse(target).netloc:
        return target
    return None


@bp.post("/tasks/<int:task_id>/release")
@task_work
def release(task_id):
    session = db_session()
    task = _task_or_404(task_id)
    if task.assignee_id != current_user.id:
        abort(403)
    return page_step(lambda: runtime.release(session, task.id, actor_of(current_user)),
                     url_for("inbox.index"), t("已退回到岗位组。", "Task released to the group."))


@bp.post("/tasks/<int:task_id>/reassign")
@require_groups("manager")
def reassign(task_id):
    session = db_session()
    task = _task_or_404(task_id)
    if not may_view_case(session, current_user, task.instance):  # a manager of another region
        abort(403)
    user = session.scalar(select(User).where(User.username == request.form.get("username", "").strip()))
    if user is None or not user.in_group(task.group):
        flash(t("该用户不存在或不属于该岗位组。", "No such user in the task's group."))
    else:
        try:
            runtime.reassign(session, task.id, user.id, actor_of(current_user),
                             to_username=user.display_name or user.username)
            flash(t("已改派给 ", "Reassigned to ") + user.display_name)
        except STEP_ERRORS as e:
            session.rollback()
            flash(case_errors(e))
    return redirect(url_for("cases.show", instance_id=task.instance_id))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@case_data  # the form only to its candidates (runtime.may_work_on)
def task(task_id):
    session = db_session()
    task = _task_or_404(task_id)
    instance = session.get(ProcessInstance, task.instance_id)
    # its candidates work on it; managers (of the case's offices) may look at it
    if not (_may_work_on(task) or (current_user.in_group("manager", "administrator")
                                   and may_view_case(session, current_user, instance))):
        abort(403)
    form_cls = get_form(task.form_key)
    errors = {}
    if request.method == "POST":
        if task.state != "open" or not _may_work_on(task):
            flash(t("该任务已由他人办理或已不属于您。", "This task was done by someone else or is no longer yours."))
            return redirect(url_for("cases.show", instance_id=task.instance_id))
        data = _posted_data()
        # validated once, by the engine's step (FormInvalid carries the messages)
        form = form_cls(formdata=to_formdata(data))
        try:
            runtime.complete_task(session, task.id, data, actor_of(current_user),
                                  expected_lock_version=_int(request.form.get("lock_version")))
        except FormInvalid as e:
            session.rollback()
            errors = e.errors
        except STEP_ERRORS as e:
            session.rollback()
            flash(case_errors(e))
            return redirect(url_for("cases.show", instance_id=task.instance_id))
        else:
            flash(t("任务已完成。", "Task completed."))
            return redirect(_next_url(session, task.instance_id))
    else:
        form = form_cls(data=_prefill(instance, task))
    history = case_history(session, instance)
    deadlines = deadline_views(session, [instance.id], calendar(session), today())[instance.id]
    return render_template("inbox/task.html", task=task, instance=instance, form=form, errors=errors,
                           history=history, may_work=_may_work_on(task), deadlines=deadlines)


def _posted_data() -> dict:
    """Form fields and uploads as one dict (lists for repeated fields)."""
    combined = CombinedMultiDict([request.files, request.form])
    data = {}
    for key in combined.keys():
        if key in ("csrf_token", "lock_version"):
            continue
        values = combined.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return data


def _prefill(instance: ProcessInstance, task: HumanTask) -> dict:
    """Values the case already holds for this form's fields (e.g. a correction task)."""
    form_cls = get_form(task.form_key)
    data = runtime.task_data(db_session(), task.id)
    values = {}
    for name, field in form_cls()._fields.items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(field, wtforms.DateField) and isinstance(value, str):
            # task data keeps dates as ISO text; a DateField renders date objects only
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                continue
        values[name] = value
    return values


def _next_url(session, instance_id: int) -> str:
    """The case's next open task when it is this clerk's, else the case page."""
    nxt = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
                          .order_by(HumanTask.id)).all()
    for task in nxt:
        if _may_work_on(task):
            return url_for("inbox.task", task_id=task.id)
    return url_for("cases.show", instance_id=instance_id)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
