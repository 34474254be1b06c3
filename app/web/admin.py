"""Manager and analyst pages: deadlines 时限监控, calendar 工作日历, SMS outbox 短信发件箱,
process models 流程模型."""
from __future__ import annotations

from calendar import monthcalendar
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.service import actor_of
from app.common.clock import china_today as today
from app.common.i18n import get_locale as lang
from app.engine.models import ACTIVE_STATUSES, ProcessInstance, ProcessModel
from app.extensions import db_session
from app.sla.calendar import package_years
from app.sla.coverage import SOURCE_LABELS, status_years, year_sources
from app.sla.entry import enter_day, enter_notice, enter_year_complete
from app.sla.models import CalendarDay, CalendarYear
from app.sla.notice import NoticeError, parse_notice
from app.sla.overrides import calendar_for as calendar
from app.sla.view import views as deadline_views
from app.web import require_groups, t

bp = Blueprint("admin", __name__)


@bp.get("/sla")
@require_groups("manager")
def sla():
    """Every named deadline of the open cases (时限监控): overdue first, then by last day;
    paused and pending ones with their reason; counts per procedure and status."""
    session = db_session()
    open_ids = session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.status.in_(ACTIVE_STATUSES)).order_by(ProcessInstance.id.desc()).limit(2000)).all()
    cases = {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(open_ids)))}
    order = {"overdue": 0, "at_risk": 1, "running": 2, "paused": 3, "pending": 4, "met": 5}
    rows = [(cases[iid], d) for iid, ds in deadline_views(session, open_ids, calendar(session), today()).items()
            for d in ds if d.state in order]
    rows.sort(key=lambda r: (order[r[1].state], r[1].due_on or date.max, r[0].id))
    stats = session.execute(select(ProcessInstance.process_key, ProcessInstance.status, func.count())
                            .group_by(ProcessInstance.process_key, ProcessInstance.status)
                            .order_by(ProcessInstance.process_key)).all()
    return render_template("admin/sla.html", rows=rows[:500], stats=stats)


@bp.route("/calendar", methods=["GET", "POST"], endpoint="calendar")
@require_groups("manager")
def calendar_admin():
    """工作日历: paste the State Council's notice (preview, then enter), correct one day,
    confirm a year. Every entry recomputes the deadlines it moves."""
    session = db_session()
    preview, notice_text, notice_error = None, "", None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action in ("notice_preview", "notice_apply"):
                notice_text = (request.form.get("notice") or "")[:20000]
                notice = parse_notice(notice_text)
                if action == "notice_preview":
                    preview = notice
                else:
                    enter_notice(session, notice, current_user.username)
                    session.commit()
                    moved = _recompute()
                    flash(t(f"{notice.year} 年节假日安排已录入（{len(notice.days)} 天），{moved} 件办件的时限已重新计算。",
                            f"The {notice.year} schedule was entered ({len(notice.days)} days); "
                            f"deadlines of {moved} case(s) were recomputed."))
                    return redirect(url_for("admin.calendar"))
            elif action == "day":
                day = date.fromisoformat(request.form["day"])
                if not 2000 <= day.year <= 2100:
                    raise ValueError(day)
                enter_day(session, day, request.form.get("is_working") == "1",
                          (request.form.get("note") or "")[:64], current_user.username)
                session.commit()
                moved = _recompute()
                flash(t(f"工作日历已保存，{moved} 件办件的时限已重新计算。",
                        f"Calendar saved; deadlines of {moved} case(s) were recomputed."))
                return redirect(url_for("admin.calendar"))
            elif action == "year":
                year = int(request.form["year"])
                if not 2000 <= year <= 2100:
                    raise ValueError(year)
                enter_year_complete(session, year, current_user.username)
                session.commit()
                moved = _recompute()
                flash(t(f"工作日历已保存，{moved} 件办件的时限已重新计算。",
                        f"Calendar saved; deadlines of {moved} case(s) were recomputed."))
                return redirect(url_for("admin.calendar"))
            else:
                abort(400)
        except NoticeError as e:
            session.rollback()
            notice_error = e.message(lang())
        except (KeyError, ValueError):
            session.rollback()
            flash(t("日期或年份格式不正确（例如 2027-01-01）。", "Invalid date or year (e.g. 2027-01-01)."))
            return redirect(url_for("admin.calendar"))
    days = session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc()).limit(200)).all()
    years = session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    sources = year_sources(session, status_years(today()))
    return render_template("admin/calendar.html", days=days, years=years, package_years=package_years(),
                           sources=sources, source_labels=SOURCE_LABELS, preview=preview,
                           grids=_month_grids(preview) if preview else [], notice_text=notice_text,
                           notice_error=notice_error)


def _recompute() -> int:
    from flask import current_app

    from app.engine.recompute import process_calendar_changes
    return process_calendar_changes(current_app.extensions["sscard"].session_factory)


def _month_grids(notice) -> list[tuple[str, list[list[tuple[int, str, str]]]]]:
    """Month grids of the preview: (title, weeks of (day, css class, note)); 0 = blank."""
    grids = []
    for year, month in notice.months():
        weeks = []
        for week in monthcalendar(year, month):
            row = []
            for i, d in enumerate(week):
                if d == 0:
                    row.append((0, "", ""))
                    continue
                day = date(year, month, d)
                kind = notice.days.get(day)
                css = "off" if kind is False else "work" if kind is True else ("weekend" if i >= 5 else "")
                row.append((d, css, notice.notes.get(day, "")))
            weeks.append(row)
        grids.append((f"{year}年{month}月", weeks))
    return grids



SMS_READERS = ("manager", "outlet_clerk", "window_clerk", "centre_clerk", "administrator")


@bp.get("/sms")
def sms_outbox():
    from app.adapters.sms import SmsMessage
    if not current_user.in_group(*SMS_READERS):
        abort(403)
    messages = db_session().scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(200)).all()
    return render_template("admin/sms.html", messages=messages)


@bp.get("/processes/operations")
@require_groups("process_analyst")
def operations():
    """服务操作: what a BPMN service task may call (generated from the registry)."""
    from app.engine.services import registry
    return render_template("admin/operations.html", operations=registry.describe())


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
