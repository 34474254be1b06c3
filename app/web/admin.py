"""Manager and analyst pages: deadlines 时限监控, calendar 工作日历, SMS outbox 短信发件箱,
process models 流程模型."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.service import actor_of
from app.engine.models import ProcessInstance, ProcessModel
from app.inbox.queries import days_left, deadline_state
from app.sla.calendar import CalendarYearMissing
from app.sla.models import CalendarDay, CalendarYear
from app.sla.overrides import DbOverrides
from app.web import require_groups, t
from app.web.common import calendar, db_session, today

bp = Blueprint("admin", __name__)


@bp.get("/sla")
@require_groups("manager")
def sla():
    """Open cases with a statutory deadline, worst first, and counts per procedure/status."""
    session = db_session()
    cal = calendar(session)
    open_cases = session.scalars(select(ProcessInstance).where(
        ProcessInstance.status.in_(("running", "waiting", "error")), ProcessInstance.deadline_at.is_not(None))
        .order_by(ProcessInstance.deadline_at).limit(500)).all()
    rows, missing = [], None
    for inst in open_cases:
        try:
            left = days_left(cal, inst.deadline_at, today())
        except CalendarYearMissing as e:
            left, missing = None, str(e)
        rows.append((inst, left, deadline_state(left) if left is not None else "unknown"))
    stats = session.execute(select(ProcessInstance.process_key, ProcessInstance.status, func.count())
                            .group_by(ProcessInstance.process_key, ProcessInstance.status)
                            .order_by(ProcessInstance.process_key)).all()
    return render_template("admin/sla.html", rows=rows, stats=stats, missing=missing)


@bp.route("/calendar", methods=["GET", "POST"], endpoint="calendar")
@require_groups("manager")
def calendar_admin():
    session = db_session()
    overrides = DbOverrides(session)
    if request.method == "POST":
        try:
            if request.form.get("action") == "day":
                day = date.fromisoformat(request.form["day"])
                overrides.set_day(day, request.form.get("is_working") == "1", (request.form.get("note") or "")[:64])
            elif request.form.get("action") == "year":
                year = int(request.form["year"])
                if not 2000 <= year <= 2100:
                    raise ValueError(year)
                overrides.mark_year(year, current_user.username, complete=True)
            session.commit()
            flash(t("工作日历已保存。", "Calendar saved."))
        except (KeyError, ValueError):
            session.rollback()
            flash(t("日期或年份格式不正确（例如 2027-01-01）。", "Invalid date or year (e.g. 2027-01-01)."))
        return redirect(url_for("admin.calendar"))
    days = session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc()).limit(200)).all()
    years = session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    from app.sla.calendar import package_years
    return render_template("admin/calendar.html", days=days, years=years, package_years=package_years())



SMS_READERS = ("manager", "outlet_clerk", "window_clerk", "centre_clerk", "administrator")


@bp.get("/sms")
def sms_outbox():
    from app.cards.models import SmsMessage
    if not current_user.in_group(*SMS_READERS):
        abort(403)
    messages = db_session().scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(200)).all()
    return render_template("admin/sms.html", messages=messages)


@bp.route("/processes", methods=["GET", "POST"])
@require_groups("process_analyst")
def processes():
    from app.engine.repository import ModelInvalid, deploy_string
    session = db_session()
    problems = []
    if request.method == "POST":
        upload = request.files.get("bpmn")
        if upload is None or not upload.filename.endswith(".bpmn"):
            flash(t("请选择 .bpmn 文件。", "Choose a .bpmn file."))
        else:
            try:
                before = dict(session.execute(select(ProcessModel.key, func.max(ProcessModel.version))
                                              .group_by(ProcessModel.key)).all())
                models = deploy_string(session, upload.filename, upload.read().decode("utf-8"), actor_of(current_user))
                session.commit()
                for model in models:
                    if before.get(model.key) == model.version:  # same file: no new version
                        flash(t(f"{model.key} 未修改，仍为第 {model.version} 版。",
                                f"{model.key} is unchanged: still version {model.version}."))
                    else:
                        flash(t(f"已部署 {model.key} 第 {model.version} 版。",
                                f"Deployed {model.key} version {model.version}."))
            except ModelInvalid as e:
                session.rollback()
                problems = e.problems
            except UnicodeDecodeError:
                session.rollback()
                flash(t("文件不是 UTF-8 编码的 XML。", "The file is not UTF-8 XML."))
    models = session.scalars(select(ProcessModel).order_by(ProcessModel.key, ProcessModel.version.desc())).all()
    return render_template("admin/processes.html", models=models, problems=problems)
