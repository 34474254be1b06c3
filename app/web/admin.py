"""Manager and analyst pages: deadlines 时限监控, calendar 工作日历, SMS outbox 短信发件箱,
process models 流程模型."""
from __future__ import annotations

from calendar import monthcalendar
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.adapters.sms import SmsMessage
from app.auth.service import actor_of
from app.cases.access import at_offices, visible_cases
from app.common.clock import china_today as today
from app.common.i18n import get_locale as lang
from app.engine.models import ACTIVE_STATUSES, ProcessInstance, ProcessModel
from app.extensions import db_session
from app.procedures.application.models import Application
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
    visible = visible_cases(session, current_user)  # what the manager's office supervises
    open_ids = session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.status.in_(ACTIVE_STATUSES), visible)
        .order_by(ProcessInstance.id.desc()).limit(2000)).all()
    cases = {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(open_ids)))}
    order = {"overdue": 0, "at_risk": 1, "running": 2, "paused": 3, "pending": 4, "met": 5}
    rows = [(cases[iid], d) for iid, ds in deadline_views(session, open_ids, calendar(session), today()).items()
            for d in ds if d.state in order]
    rows.sort(key=lambda r: (order[r[1].state], r[1].due_on or date.max, r[0].id))
    stats = session.execute(select(ProcessInstance.process_key, ProcessInstance.status, func.count())
                            .where(visible).group_by(ProcessInstance.process_key, ProcessInstance.status)
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



SMS_READERS = ("manager", "outlet_clerk", "window_clerk", "centre_clerk")


@bp.get("/sms")
@require_groups(*SMS_READERS)
def sms_outbox():
    session = db_session()
    q = select(SmsMessage)
    if not current_user.in_group("administrator"):  # the messages of cases the user may see
        q = q.join(Application, Application.id == SmsMessage.application_id) \
            .join(ProcessInstance, ProcessInstance.id == Application.instance_id) \
            .where(at_offices(session, current_user))
    messages = session.scalars(q.order_by(SmsMessage.id.desc()).limit(200)).all()
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
    """流程模型: upload a BPMN file. A new procedure (or the same file) deploys at once; a new
    version of a deployed procedure becomes a draft another person reviews (四眼原则)."""
    from app.engine import review
    from app.engine.repository import ModelInvalid
    session = db_session()
    problems = []
    if request.method == "POST":
        upload = request.files.get("bpmn")
        if upload is None or not upload.filename.endswith(".bpmn"):
            flash(t("请选择 .bpmn 文件。", "Choose a .bpmn file."))
        else:
            try:
                result = review.submit(session, upload.filename, upload.read().decode("utf-8"),
                                       actor_of(current_user))
                for model in result.unchanged:
                    flash(t(f"{model.key} 未修改，仍为第 {model.version} 版。",
                            f"{model.key} is unchanged: still version {model.version}."))
                for model in result.deployed:
                    flash(t(f"已部署 {model.key} 第 {model.version} 版。",
                            f"Deployed {model.key} version {model.version}."))
                if result.draft is not None:
                    d = result.draft
                    if result.already_pending:
                        flash(t(f"同一文件已在复核中（草稿 {d.id}，{d.submitted_by} 提交），未重复提交。",
                                f"The same file is already awaiting review (draft {d.id}, "
                                f"submitted by {d.submitted_by}); not submitted again."))
                    else:
                        flash(t(f"{d.process_key} 的新版本已提交复核（草稿 {d.id}）：须由另一名流程分析员、"
                                f"科长或系统管理员批准后才会部署，在此之前新办件仍按现行版本办理。",
                                f"The new version of {d.process_key} was submitted for review (draft "
                                f"{d.id}): it is deployed only when another process analyst, manager "
                                f"or administrator approves it; until then new cases use the current "
                                f"version."))
            except ModelInvalid as e:
                session.rollback()
                problems = e.problems
            except UnicodeDecodeError:
                session.rollback()
                flash(t("文件不是 UTF-8 编码的 XML。", "The file is not UTF-8 XML."))
    models = session.scalars(select(ProcessModel).order_by(ProcessModel.key, ProcessModel.version.desc())).all()
    drafts = review.list_drafts(session, limit=50)
    return render_template("admin/processes.html", models=models, problems=problems, drafts=drafts,
                           draft_state=draft_state, names=_display_names(session, drafts))


# -- model review 流程模型复核 (four eyes: app.engine.review) -------------------------------------

REVIEWERS = ("process_analyst", "manager")  # and administrators (require_groups)


def draft_state(draft) -> str:
    """A draft's state in words: 待复核 / 已批准并部署（第 N 版）/ 已退回（原因…）."""
    if draft.state == "approved":
        version = draft.deployed_model.version if draft.deployed_model is not None else "?"
        return t(f"已批准并部署（第 {version} 版，复核人 {draft.reviewed_by}）",
                 f"Approved and deployed (version {version}, reviewed by {draft.reviewed_by})")
    if draft.state == "rejected":
        return t(f"已退回（原因：{draft.reason}；复核人 {draft.reviewed_by}）",
                 f"Rejected (reason: {draft.reason}; reviewed by {draft.reviewed_by})")
    return t("待复核", "Awaiting review")


def _display_names(session, drafts) -> dict[str, str]:
    from app.auth.models import User
    usernames = {d.submitted_by for d in drafts} | {d.reviewed_by for d in drafts if d.reviewed_by}
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.display_name)
                                .where(User.username.in_(usernames))).all())


@bp.get("/processes/drafts")
@require_groups(*REVIEWERS)
def drafts():
    """流程模型复核: the drafts awaiting review first, then those reviewed lately."""
    from app.engine import review
    session = db_session()
    pending = review.list_drafts(session, state="draft")
    recent = [d for d in review.list_drafts(session, limit=100) if d.state != "draft"]
    return render_template("admin/drafts.html", pending=pending, recent=recent, draft_state=draft_state,
                           names=_display_names(session, pending + recent))


def _draft_page(draft_id: int, *, error: str | None = None, problems=None, status: int = 200):
    from app.engine import review
    session = db_session()
    try:
        draft = review.get_draft(session, draft_id)
    except review.DraftNotFound:
        abort(404)
    actor = actor_of(current_user)
    pending = draft.state == "draft"
    return render_template(
        "admin/draft.html", draft=draft, cmp=review.compare(session, draft),
        problems=problems if problems is not None else (review.validation(session, draft) if pending else []),
        checked_now=pending, error=error, draft_state=draft_state,
        names=_display_names(session, [draft]), own=review.is_uploader(draft, actor),
        may_review=pending and review.may_review(draft, actor)), status


@bp.get("/processes/drafts/<int:draft_id>")
@require_groups(*REVIEWERS)
def draft(draft_id: int):
    """One draft: who uploaded it when, the diff against the live version, the validation
    result, and (for another reviewer) approve / reject."""
    return _draft_page(draft_id)


def _review_refused(draft_id: int, err):
    from app.engine.repository import ModelInvalid
    db_session().rollback()
    if isinstance(err, ModelInvalid):
        return _draft_page(draft_id, error=t("模型未部署：复核时重新校验未通过。",
                                             "The model was not deployed: it failed validation again."),
                           problems=err.problems, status=422)
    status = {"forbidden": 403, "conflict": 409, "invalid": 422}.get(err.kind, 409)
    return _draft_page(draft_id, error=err.message(lang()), status=status)


@bp.post("/processes/drafts/<int:draft_id>/approve")
@require_groups(*REVIEWERS)
def approve_draft(draft_id: int):
    from app.engine import review
    from app.engine.errors import EngineError
    session = db_session()
    try:
        models = review.approve(session, draft_id, actor_of(current_user))
    except review.DraftNotFound:
        abort(404)
    except EngineError as e:
        return _review_refused(draft_id, e)
    for model in models:
        flash(t(f"已批准并部署 {model.key} 第 {model.version} 版：新办件按此版本办理，在办案件按原版本办结。",
                f"Approved and deployed {model.key} version {model.version}: new cases start on it, "
                f"running cases finish on theirs."))
    return redirect(url_for("admin.draft", draft_id=draft_id))


@bp.post("/processes/drafts/<int:draft_id>/reject")
@require_groups(*REVIEWERS)
def reject_draft(draft_id: int):
    from app.engine import review
    from app.engine.errors import EngineError
    session = db_session()
    try:
        review.reject(session, draft_id, actor_of(current_user), request.form.get("reason") or "")
    except review.DraftNotFound:
        abort(404)
    except EngineError as e:
        return _review_refused(draft_id, e)
    flash(t("已退回该草稿，提交人将看到退回原因。", "The draft was rejected; the uploader will see the reason."))
    return redirect(url_for("admin.draft", draft_id=draft_id))
