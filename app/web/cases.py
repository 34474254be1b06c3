"""Case pages 案件: list, case page (deadline, tasks, incidents, documents, history), start."""
from __future__ import annotations

from dataclasses import dataclass

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import or_, select

from app.auth.models import GROUPS
from app.auth.service import actor_of
from app.common.i18n import T
from app.engine import runtime
from app.engine.models import (ACTIVE_STATUSES, CANCELLED, OPEN, TIMER_PENDING, TIMER_WAITING,
                               AuditEvent, HumanTask, Incident, ProcessInstance, Timer)
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
from app.common.clock import CHINA_TZ
from app.common.clock import china_today as today
from app.extensions import db_session
from app.sla.overrides import calendar_for as calendar
from app.sla.view import pending_text

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
    key = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    if key:
        q = q.where(or_(*matching(session, key)))
    before = parse_id(request.args.get("before"))  # the next page's cursor
    if before:
        q = q.where(ProcessInstance.id < before)
    limit = 50
    cases = session.scalars(q.limit(limit + 1)).all()
    more = cases[limit - 1].id if len(cases) > limit else None
    cases = cases[:limit]
    ids = [c.id for c in cases]
    steps: dict[int, list[HumanTask]] = {}
    if ids:
        for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                            HumanTask.state == OPEN).order_by(HumanTask.id)):
            steps.setdefault(task.instance_id, []).append(task)
    return render_template("cases/index.html", cases=cases, more=more, status=status, key=key,
                           subjects=case_subjects(session, ids), outcomes=case_outcomes(session, cases),
                           steps=steps, searched=SEARCHED)


SEARCH_MAX = 50
#: what the case list searches, for the "未找到" line (the families' ``search`` hooks)
SEARCHED = T("业务编号、申请人姓名、证件号码（全号或末 4 位以上）、手机号码、社保卡号、申领编号",
             "case number, applicant's name, ID number (all of it or its last 4 or more digits), "
             "mobile, card number, application number")


def _families():
    return current_app.extensions["sscard"].families


def matching(session, key: str) -> list:
    """Conditions on ``ProcessInstance`` for what the clerk typed: the case number, or what a
    family finds in its own rows (applicant's name, ID number, ...). The list adds
    ``visible_cases``: a search never reaches past it."""
    conditions = [ProcessInstance.business_key == key]
    for family in _families():
        if family.search is not None:
            found = family.search(session, key)
            if found is not None:
                conditions.append(ProcessInstance.id.in_(found))
    return conditions


def case_subjects(session, ids) -> dict[int, str]:
    """{case id: whom it is for} from the families (e.g. "施雅婷（350581********0682）")."""
    out: dict[int, str] = {}
    for family in _families():
        if family.subject is not None and ids:
            out.update(family.subject(session, ids))
    return out


@dataclass
class Outcome:
    """How a case ended, beyond the engine's 已办结 / 已撤销."""
    kind: str            # issued, refused, cancelled
    label: T             # 已制发 / 已终止 / 已撤销
    reason: T | None     # why (refused, cancelled)

    def text(self) -> T:
        if not self.reason:
            return self.label
        return T("{}：{}", "{}: {}").format(self.label, self.reason)


def case_outcomes(session, cases) -> dict[int, Outcome]:
    """{case id: Outcome} from the families (their application's status and reason); a
    cancelled case a family says nothing of: 已撤销 with the reason given when cancelling."""
    ids = [c.id for c in cases]
    out: dict[int, Outcome] = {}
    for family in _families():
        if family.outcome is not None and ids:
            for iid, (kind, label, reason) in family.outcome(session, ids).items():
                out[iid] = Outcome(kind, label, reason)
    rest = [c.id for c in cases if c.status == CANCELLED and c.id not in out]
    if rest:
        reasons = {}
        for event in session.scalars(select(AuditEvent).where(
                AuditEvent.instance_id.in_(rest), AuditEvent.action == "cancel").order_by(AuditEvent.id)):
            reasons[event.instance_id] = (event.detail or {}).get("reason")
        for iid in rest:
            reason = reasons.get(iid)
            out[iid] = Outcome("cancelled", T("已撤销", "Cancelled"), T(reason, reason) if reason else None)
    return out


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
    panels = case_panels(session, inst)
    waits = waiting_for(session, inst, tasks, panels, titles)
    # reload every few seconds while the card station works on the card (?refresh=off: not)
    refresh = any(w["refresh"] for w in waits) and request.args.get("refresh") != "off"
    return render_template("cases/show.html", inst=inst, deadlines=deadlines, tasks=tasks,
                           incidents=incidents, history=case_history(session, inst, titles),
                           panels=panels, step_titles=titles,
                           outcome=case_outcomes(session, [inst]).get(inst.id),
                           queues=task_queues(tasks), waits=waits,
                           refresh=REFRESH_SECONDS if refresh else None, papers=case_papers(panels))


REFRESH_SECONDS = 3  # the case page's reload while the card station works (meta refresh)


def task_queues(tasks) -> dict[int, dict]:
    """{open task id: {"link": may this user open it, "where": whose queue it is in}}: a task
    is linked only for those the task page admits (its candidates, ``runtime.may_work_on``;
    managers and administrators, who may look at it); the others read where it waits."""
    actor = actor_of(current_user)
    looks = current_user.in_group("manager", "administrator")  # may_view_case: on the page
    out = {}
    for task in tasks:
        if task.state != OPEN:
            continue
        if task.assignee_id is not None:
            where = T("由 {} 办理中", "being handled by {}").format(task.assignee_name or "")
        else:
            zh, en = GROUPS.get(task.group or "", (task.group or "", task.group or ""))
            where = T("在 {} 岗位组待领取", "waiting in the {} queue").format(T(zh, en))
        out[task.id] = {"link": looks or runtime.may_work_on(task, actor), "where": where}
    return out


def waiting_for(session, inst, tasks, panels, titles) -> list[dict]:
    """What an open case waits for, one line each: what the families say (the card station,
    the applicant ...), its open tasks (whose queue), its timers (with their date)."""
    if inst.status not in ACTIVE_STATUSES:
        return []
    waits = [w for panel in panels for w in panel.context.get("waits") or []]
    explained = {w.get("task") for w in waits if w.get("task")}
    for task in tasks:
        if task.state != OPEN or task.task_name in explained:
            continue
        title = T(task.title, task.title_in("en")) if hasattr(task, "title_in") else T(task.title, task.title)
        if task.assignee_id is not None:
            text = T("等待 {} 办理「{}」", "Waiting for {} to do “{}”").format(task.assignee_name or "", title)
        else:
            zh, en = GROUPS.get(task.group or "", (task.group or "", task.group or ""))
            text = T("等待 {} 岗位组领取并办理「{}」", "Waiting for the {} queue to take and do “{}”") \
                .format(T(zh, en), title)
        waits.append({"kind": "task", "text": text, "refresh": False, "task": task.task_name})
    for timer in session.scalars(select(Timer).where(
            Timer.instance_id == inst.id, Timer.state.in_((TIMER_WAITING, TIMER_PENDING))).order_by(Timer.id)):
        name = titles.get(timer.task_name) or T(timer.event_name or timer.task_name,
                                                 timer.event_name or timer.task_name)
        if timer.state == TIMER_PENDING or timer.due_at is None:
            text = T("定时「{}」：{}", "Timer “{}”: {}").format(name, T(*pending_text(timer.pending_year)))
        else:
            when = timer.due_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
            text = T("定时「{}」将于 {} 到期", "Timer “{}” is due at {}").format(name, when)
        waits.append({"kind": "timer", "text": text, "refresh": False, "task": None})
    return waits


def case_papers(panels) -> dict[str, bool]:
    """The papers for the applicant the page offers (a family's panel says which apply)."""
    return {"receipt": any(p.context.get("receipt") for p in panels),
            "refusal_notice": any(p.context.get("refusal_notice") for p in panels)}


@dataclass
class Panel:
    template: str
    context: dict


def family_panels(session, inst, hook: str = "case_panel") -> list[Panel]:
    """What each procedure family shows of a case, from its manifest: ``case_panel`` on the
    case page, ``task_header`` at the top of its task pages (whose card, what a check said)."""
    panels = []
    for family in current_app.extensions["sscard"].families:
        if getattr(family, hook) is not None:
            template, build = getattr(family, hook)
            context = build(session, inst)
            if context is not None:
                panels.append(Panel(template, context))
    return panels


def case_panels(session, inst) -> list[Panel]:
    return family_panels(session, inst, "case_panel")


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


def _paper(instance_id: int, build_name: str, template: str):
    """A printable paper for the applicant (app.procedures.application.documents): to those who
    may see the case; 404 when the case has none (no application yet, or not that outcome)."""
    from app.procedures.application import documents
    session = db_session()
    inst = _instance_or_404(instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    paper = getattr(documents, build_name)(session, inst)
    if paper is None:
        abort(404)
    response = Response(render_template(template, inst=inst, paper=paper))
    response.headers["Cache-Control"] = "private, no-store"  # personal data on a shared PC
    return response


@bp.get("/cases/<int:instance_id>/refusal-notice")
@case_data
def refusal_notice(instance_id):
    """终止制卡告知书: why no card is made, and what the applicant can do (print page)."""
    return _paper(instance_id, "refusal_notice", "cases/refusal_notice.html")


@bp.get("/cases/<int:instance_id>/receipt")
@case_data
def receipt(instance_id):
    """受理回执: the application number, where and from when to collect, the documents to bring."""
    return _paper(instance_id, "receipt", "cases/receipt.html")


@bp.get("/cases/<int:instance_id>/fee-receipt")
@case_data
def fee_receipt(instance_id):
    """工本费收据 of a replacement or exchange (A4, two copies; the document kit's page)."""
    from app.procedures.application import documents
    session = db_session()
    inst = _instance_or_404(instance_id)
    if not may_view_case(session, current_user, inst):
        abort(403)
    page = documents.render_fee_receipt(session, inst, css_href=url_for("static", filename="documents.css"))
    if page is None:
        abort(404)
    response = Response(page)
    response.headers["Cache-Control"] = "private, no-store"  # personal data on a shared PC
    return response


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
        return redirect(url_for("cases.show", instance_id=instance_id) + "#cancel-section")
    if request.form.get("confirm") != "yes":  # the box "确认撤销": a slip of the mouse is not enough
        flash(t("请勾选“确认撤销”后再提交：撤销后办件不能恢复。",
                "Tick “Confirm cancelling” to cancel: a cancelled case cannot be reopened."))
        return redirect(url_for("cases.show", instance_id=instance_id) + "#cancel-section")
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
    from app.procedures.application.drafts import draft_hours
    return render_template("cases/start.html", startable=startable, draft_hours=draft_hours())
