"""统一启用 pages (seed 000 §4.2.2, §4.3): the issuance rounds (batches) with where their
activation stands, in words; a round's page with the manager's form (the announcement's date),
the job's progress bar while it runs, the figures once done (activated, picked up and activated
later, still waiting, balance moved in yuan), a retry when the job failed; and the printable
announcement 启用公告 (A4, the document kit).

Who: managers (administrators always), each for the batches of their offices — the batch
pages' rule (:func:`app.web.batch.visible_batches` for the list, :func:`may_view_batch` for one
batch). The work is :mod:`app.procedures.lifecycle.activation`; every POST and every printed
announcement is an audit record (``family``: lifecycle).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.common.clock import china_today
from app.common.errors import BilingualError
from app.common.i18n import T, get_locale
from app.common.money import yuan
from app.common.ids import parse_id
from app.engine.jobs import BackgroundJob
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BATCH_LABELS
from app.procedures.lifecycle import activation
from app.procedures.lifecycle.models import ActivationRound
from app.procedures.lifecycle.states import ROUND_LABELS, RoundState
from app.web import t
from app.web.batch import batch_or_404, file_response, not_found, visible_batches
from app.web.distribution import display_names
from forms.lifecycle.activation import ActivationForm

bp = Blueprint("lifecycle_activation", __name__)

WHO = ("manager",)
PAGE = 50
REFRESH_SECONDS = 2
UNKNOWN = T("（未知状态）", "(unknown state)")
NOT_CLOSED = T("发卡未结束，暂不能启用", "Still being handed out: not yet")
TO_ACTIVATE = T("待统一启用", "To be activated")
JOB_FAILED = ROUND_LABELS[RoundState.FAILED]
JOB_STATES = {"queued": T("排队等待", "Waiting to start"), "running": T("启用中", "Activating"),
              "done": T("已完成", "Done"), "failed": T("失败", "Failed")}


def round_label(batch: Batch, row: ActivationRound | None, job: BackgroundJob | None) -> T:
    """Where a batch's activation stands, in words (never a code)."""
    if row is None:
        return TO_ACTIVATE if batch.status in activation.ACTIVATABLE else NOT_CLOSED
    if activation.may_retry(row, job):
        return JOB_FAILED
    return ROUND_LABELS.get(row.state, UNKNOWN)


def audit(session, what: str, **detail) -> None:
    """One audit record of an activation page, in the page's transaction."""
    from app.engine import audit as engine_audit
    from app.engine.services import Actor
    engine_audit.record(session, "family", Actor(current_user.username, current_user.id),
                        family="lifecycle", what=what, **detail)


@bp.context_processor
def helpers():
    return {"batch_label": lambda c: BATCH_LABELS.get(c, UNKNOWN),
            "job_state": lambda c: JOB_STATES.get(c, UNKNOWN), "yuan": yuan}


# -- the list 统一启用 ----------------------------------------------------------------------------

@bp.get("/activation")
@groups(*WHO)
def index():
    """The issuance rounds the user sees, newest first, with their activation."""
    session = db_session()
    q = select(Batch).where(visible_batches(session)).order_by(Batch.id.desc())
    before = parse_id(request.args.get("before"))
    if before:
        q = q.where(Batch.id < before)
    batches = session.scalars(q.limit(PAGE + 1)).all()
    more = batches[PAGE - 1].id if len(batches) > PAGE else None
    batches = batches[:PAGE]
    rounds = {r.batch_id: r for r in session.scalars(select(ActivationRound).where(
        ActivationRound.batch_id.in_([b.id for b in batches])))} if batches else {}
    job_ids = [r.job_id for r in rounds.values() if r.job_id]
    jobs = {j.id: j for j in session.scalars(select(BackgroundJob).where(
        BackgroundJob.id.in_(job_ids)))} if job_ids else {}
    rows = []
    for b in batches:
        row = rounds.get(b.id)
        job = jobs.get(row.job_id) if row and row.job_id else None
        rows.append({"batch": b, "round": row, "job": job, "label": round_label(b, row, job)})
    return render_template("lifecycle/activation_index.html", rows=rows, more=more)


# -- one round 批次的统一启用 ------------------------------------------------------------------------

def _page(batch: Batch, form: ActivationForm | None = None, errors: dict | None = None, status=200):
    session = db_session()
    row = activation.round_of(session, batch.id)
    job = activation.job_of(session, row) if row else None
    running = row is not None and row.state == RoundState.RUNNING and job is not None and job.active
    figures = activation.figures(session, row) if row else None
    if form is None and row is None:
        form = ActivationForm(data={"announced_on": china_today()})
    return render_template(
        "lifecycle/activation_show.html", batch=batch, round=row, job=job, running=running,
        figures=figures, label=round_label(batch, row, job), form=form, errors=errors or {},
        names=display_names(session, [row.created_by]) if row else {},
        may_activate=row is None and batch.status in activation.ACTIVATABLE,
        may_retry=row is not None and activation.may_retry(row, job),
        left=activation.remaining(session, batch.id) if row is None else None,
        waiting=activation.waiting_now(session, batch.id) if row is None else None,
        refresh=REFRESH_SECONDS if running and request.args.get("refresh") != "off" else None), status


@bp.get("/activation/batches/<int:batch_id>")
@groups(*WHO)
def show(batch_id):
    return _page(batch_or_404(batch_id))


@bp.post("/activation/batches/<int:batch_id>")
@groups(*WHO)
def start(batch_id):
    """统一启用: the announcement's date checked (form, then the service against the batch),
    the round and its job in one transaction with the audit record."""
    session = db_session()
    batch = batch_or_404(batch_id)
    form = ActivationForm(formdata=request.form)
    if not form.validate():
        session.rollback()
        return _page(batch, form, form.errors_text(), 422)
    try:
        row = activation.start_round(session, batch.id, form.announced_on.data,
                                     current_user.username, current_user.office)
        audit(session, "activation_start", batch=batch.id, round=row.id, job=row.job_id,
              announced_on=row.announced_on.isoformat())
        session.commit()
    except BilingualError as e:
        session.rollback()
        if isinstance(e, activation.BadAnnouncementDate):
            return _page(batch, form, {"announced_on": [e.message(get_locale())]}, 422)
        flash(e.message(get_locale()))
        return redirect(url_for("lifecycle_activation.show", batch_id=batch.id))
    flash(t(f"“{batch.name}”的社会保障卡正在统一启用。", f"The cards of “{batch.name}” are being activated."))
    return redirect(url_for("lifecycle_activation.show", batch_id=batch.id))


@bp.post("/activation/batches/<int:batch_id>/retry")
@groups(*WHO)
def retry(batch_id):
    """重新执行: a new job for a round whose job failed (activated cards are skipped)."""
    session = db_session()
    batch = batch_or_404(batch_id)
    row = activation.round_of(session, batch.id)
    if row is None:
        not_found(T("该批次尚未统一启用。", "This batch has not been activated."))
    try:
        job = activation.retry_round(session, row.id, current_user.username)
        audit(session, "activation_retry", batch=batch.id, round=row.id, job=job.id)
        session.commit()
    except BilingualError as e:
        session.rollback()
        flash(e.message(get_locale()))
    else:
        flash(t("已重新执行统一启用，已启用的卡不会重复启用。",
                "The activation runs again; cards already activated are not activated twice."))
    return redirect(url_for("lifecycle_activation.show", batch_id=batch.id))


@bp.get("/activation/batches/<int:batch_id>/announcement")
@groups(*WHO)
def announcement(batch_id):
    """启用公告: A4, printed from the browser."""
    session = db_session()
    batch = batch_or_404(batch_id)
    row = activation.round_of(session, batch.id)
    if row is None:
        not_found(T("该批次尚未统一启用，没有启用公告。", "This batch has not been activated: there is no announcement."))
    body = activation.announcement_html(session, row.id, css_href=url_for("static", filename="documents.css"))
    audit(session, "activation_announcement", batch=batch.id, round=row.id)
    session.commit()
    return file_response(body, "text/html; charset=utf-8", f"{batch.name}-社会保障卡统一启用公告.html",
                         f"activation-{batch.id}.html", inline=True)
