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
from app.engine.tasks import is_candidate
from app.sla.view import views as deadline_views
from app.web.cases import Panel, family_panels
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


@bp.app_context_processor
def menu_helpers():
    """The menu (base.html) links only what the user may use: ``may_open(endpoint)`` reads
    the route's declaration (app.permissions), ``may_start()`` asks whether a procedure's
    start lane is one of the user's groups (app.cases.access.startable_processes)."""
    return {"may_open": _may_open, "may_start": _may_start}


def _may_open(endpoint: str) -> bool:
    from app.permissions import ALWAYS, GROUPS, STATION, access_of
    view = current_app.view_functions.get(endpoint)
    access = access_of(view) if view is not None else None
    if access is None or access.kind == STATION or not current_user.is_authenticated:
        return False
    return access.kind != GROUPS or current_user.in_group(*access.groups, ALWAYS)


def _may_start() -> bool:
    from flask import g
    from app.cases.access import startable_processes
    if "sscard_may_start" not in g:  # once per request
        g.sscard_may_start = current_user.is_authenticated and \
            bool(startable_processes(db_session(), current_user.group_names))
    return g.sscard_may_start


@bp.get("/inbox")
@signed_in
def index():
    session = db_session()
    counts = queries.counts(session, current_user)
    scope = request.args.get("scope")
    if scope not in queries.SCOPES:  # no tab asked for: the one with work, mine first
        scope = "group" if counts["group"] and not counts["mine"] else "mine"
    sort = request.args.get("sort")
    sort = sort if sort in queries.SORTS else "urgent"  # waiting applicants first, then due date
    process = request.args.get("process") or None
    deadline = request.args.get("deadline") or None
    after = request.args.get("after") or None
    if after is not None and parse_id(after.rpartition("|")[2]) is None:
        rows, cursor = [], None  # a tampered cursor ("part:key|id", the id no id): an empty page
    else:
        rows, cursor = queries.tasks(session, current_user, scope, calendar(session), today(),
                                     process=process, deadline=deadline, after=after, sort=sort,
                                     limit=int(current_app.config["PAGE_SIZE"]))
    processes = session.scalars(select(ProcessModel.key).distinct().order_by(ProcessModel.key)).all()
    return render_template("inbox/index.html", rows=rows, cursor=cursor, scope=scope, sort=sort,
                           counts=counts, process=process, deadline=deadline, processes=processes)


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
                     url_for("inbox.index"), t("已放回岗位组，待他人领取。", "Put back for the group."))


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
        return _refused(task)
    form_cls = get_form(task.form_key)
    errors = {}
    if request.method == "POST":
        if task.state != "open" or not _may_work_on(task):
            flash(_owner_text(task) if task.state == "open" and task.assignee_id not in (None, current_user.id)
                  else t("该任务已由他人办理或已不属于您。", "This task was done by someone else or is no longer yours."))
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
            _fit(form, runtime.task_data(session, task.id))
        except STEP_ERRORS as e:
            session.rollback()
            flash(case_errors(e))
            return redirect(url_for("cases.show", instance_id=task.instance_id))
        else:
            target = _next_url(session, task.instance_id)
            flash(_again_text(session, task, target) or t("任务已完成。", "Task completed."))
            return redirect(target)
    else:
        data = runtime.task_data(session, task.id)
        form = form_cls(data=_prefill(instance, task, data))
        _fit(form, data)
    history = case_history(session, instance)
    deadlines = deadline_views(session, [instance.id], calendar(session), today())[instance.id]
    headers = task_headers(session, instance)
    shown = {h.context["deadline"].name for h in headers if h.context.get("deadline") is not None}
    return render_template("inbox/task.html", task=task, instance=instance, form=form, errors=errors,
                           history=history, may_work=_may_work_on(task), deadlines=deadlines,
                           headers=headers, header_deadlines=shown, owner=_owner_text(task))


def task_headers(session, instance) -> list[Panel]:
    """The families' headers of a task page: whose card it is, what a failed check said."""
    return family_panels(session, instance, "task_header")


def _fit(form, data: dict) -> None:
    """A form may shape itself to its task's data (``fit_to_task``: e.g. offer only ending
    when another check cannot pass)."""
    fit = getattr(form, "fit_to_task", None)
    if fit is not None:
        fit(data or {})


def _again_text(session, task: HumanTask, target: str) -> str | None:
    """When the step leads to a task that says why something failed (the police check, the
    blank card): the family header's words — "failed again" when the same form comes straight
    back, "submitted, but the check failed" when the next task is the correction; else None."""
    following = [a for a in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == task.instance_id, HumanTask.state == "open",
        HumanTask.id != task.id).order_by(HumanTask.id))
        if target == url_for("inbox.task", task_id=a.id)]
    if not following:
        return None
    same_form = following[0].form_key == task.form_key
    instance = session.get(ProcessInstance, task.instance_id)
    for header in task_headers(session, instance):
        note = (header.context.get("notes") or {}).get(following[0].id) or {}
        text = note.get("again" if same_form else "first")
        if text is not None:
            return str(text)
    if not same_form:
        return None
    return t("已提交，但流程又回到了本环节，请核对后重新办理。",
             "Submitted, but the case came back to this step: check and complete it again.")


def _owner_text(task: HumanTask) -> str | None:
    """Whose the task is when it is not the user's to take: "该任务已由 X 领取"."""
    if task.state != "open" or task.assignee_id is None or task.assignee_id == current_user.id:
        return None
    name = task.assignee_name or t("其他经办人", "another clerk")
    return t(f"该任务已由 {name} 领取。", f"This task was claimed by {name}.")


def _refused(task: HumanTask):
    """Not the user's task: a 403 page that says why (whose it is, for a clerk of its group
    at its office), never the case's data."""
    actor = actor_of(current_user)
    if task.state != "open":
        message = t("该任务已办结。", "This task is done.")
    elif task.assignee_id is not None and is_candidate(task, actor):
        message = _owner_text(task)
    else:
        message = t("该任务不属于您所在的岗位组或机构，您不能办理。",
                    "This task belongs to another group or office: you cannot work on it.")
    return render_template("inbox/task.html", task=task, refused=message), 403


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


def _prefill(instance: ProcessInstance, task: HumanTask, data: dict | None = None) -> dict:
    """Values the case already holds for this form's fields (e.g. a correction task)."""
    form_cls = get_form(task.form_key)
    if data is None:
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
    """The case's next open task when it is this clerk's, else the case page. A task of the
    clerk's group that follows their step (a correction, the next step at the window) is
    claimed for them: it stays in "my tasks" if they step away (as on starting a case)."""
    nxt = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
                          .order_by(HumanTask.id)).all()
    for task in nxt:
        if not _may_work_on(task):
            continue
        if task.assignee_id is None:
            try:  # the engine's rules (candidate, four eyes) decide; refused: not theirs
                runtime.claim(session, task.id, actor_of(current_user))
            except STEP_ERRORS:
                session.rollback()
                continue
        return url_for("inbox.task", task_id=task.id)
    return url_for("cases.show", instance_id=instance_id)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
