"""Web layer 页面: blueprints, the sign-in guard and template helpers."""
from __future__ import annotations

import importlib
from functools import wraps

from flask import Flask, redirect, request, url_for
from flask_login import current_user

from app.auth.models import GROUPS
from app.common.masking import mask_id, mask_phone
from app.permissions import PUBLIC, access_of, groups, public, signed_in
from app.common.i18n import T, get_locale, pick, to_text

# The API and the station API authenticate with tokens; pages are public only when declared
# so (app.permissions.public).
TOKEN_PREFIXES = ("/api/",)


CASE_STATUSES = {
    "running": ("办理中", "In progress"), "waiting": ("等待中", "Waiting"), "error": ("异常", "Error"),
    "completed": ("已办结", "Completed"), "cancelled": ("已撤销", "Cancelled"),
}
TASK_STATES = {"open": ("待办", "Open"), "completed": ("已完成", "Completed"), "cancelled": ("已取消", "Cancelled")}


def label(table: dict, code: str) -> str:
    """A status code's label in the current language (the code itself if unknown)."""
    zh, en = table.get(code, (code, code))
    return t(zh, en)


def _length_label(text: str) -> str:
    from app.engine.lengths import BadLength, Length
    try:
        return Length.parse(text).label(get_locale())
    except BadLength:
        return text


def _calendar_warning():
    """The banner of managers and administrators from 60 days before a year not entered."""
    if not (current_user.is_authenticated and current_user.in_group("manager", "administrator")):
        return None
    from app.sla.coverage import years_to_enter
    from app.common.clock import china_today as today
    from app.extensions import db_session
    years = years_to_enter(db_session(), today())
    if not years:
        return None
    y = years[0]
    return t(f"{y} 年法定节假日安排尚未录入：涉及 {y} 年的时限将显示为“待定”。请在“工作日历”中粘贴国务院办公厅通知录入。",
             f"The official holiday schedule for {y} has not been entered: deadlines reaching into "
             f"{y} show as pending. Paste the State Council notice under Calendar.")


t = pick  # the text of the current language (templates: {{ t('收件箱', 'Inbox') }})


require_groups = groups  # the pages' name for app.permissions.groups (declared and enforced)


def register_web(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    app.register_blueprint(auth_bp)
    for module in ("app.inbox.views", "app.web.cases", "app.web.admin", "app.web.batch",
                   "app.web.distribution", "app.web.distribution_stats", "app.web.lifecycle",
                   "app.web.lifecycle_activation",
                   "app.api.views", "app.api.station"):
        app.register_blueprint(importlib.import_module(module).bp)

    @app.get("/healthz", endpoint="health")
    @public
    def health():
        return {"ok": True}

    send_static = app.view_functions["static"]

    @public
    @wraps(send_static)
    def static(**kwargs):  # the stylesheet of the sign-in page
        return send_static(**kwargs)
    app.view_functions["static"] = static

    @app.before_request
    def sign_in_everywhere():
        if request.path.startswith(TOKEN_PREFIXES):
            return None  # the API and the station authenticate with tokens
        view = app.view_functions.get(request.endpoint)
        access = access_of(view) if view is not None else None
        if access is not None and access.kind == PUBLIC:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return None

    @app.get("/")
    @signed_in
    def home():
        return redirect(url_for("inbox.index") if "inbox.index" in app.view_functions else url_for("auth.profile"))

    @app.context_processor
    def helpers():
        from app.web.names import deadline_title, procedure_name
        return {"t": t, "lang": lambda: get_locale(), "text": to_text, "T": T,
                "procedure_name": procedure_name, "deadline_title": deadline_title,
                "case_status": lambda code: label(CASE_STATUSES, code),
                "task_state": lambda code: label(TASK_STATES, code),
                "group_label": lambda name: label(GROUPS, name),
                "length_label": _length_label,
                "calendar_warning": _calendar_warning}

    app.add_template_filter(mask_id, "mask")
    app.add_template_filter(mask_phone, "mask_phone")

    @app.template_filter("dt")
    def dt_filter(value, fmt="%Y-%m-%d %H:%M"):
        from app.common.clock import CHINA_TZ
        if value is None:
            return ""
        if getattr(value, "tzinfo", None) is None and hasattr(value, "hour"):
            from datetime import timezone
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(CHINA_TZ).strftime(fmt) if hasattr(value, "hour") else value.isoformat()

    @app.errorhandler(403)
    def forbidden(_e):
        from flask import render_template
        return render_template("error.html", code=403,
                               message=t("您没有执行此操作的权限。", "You are not allowed to do this.")), 403

    @app.errorhandler(404)
    def not_found(_e):
        from flask import render_template, jsonify
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "not_found", "message": t("未找到", "Not found")}), 404
        return render_template("error.html", code=404, message=t("页面不存在。", "Page not found.")), 404
