"""Sign-in (throttled), sign-out, language, the profile page (API tokens) and the password page."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlparse

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   session as http_session, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import Form, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.common.ids import parse_id
from app.permissions import public, signed_in
from app.extensions import db_session as db
from app.common.i18n import pick as t

from . import service, throttle
from .models import ApiToken
from .sessions import client_ip, current_record_id, sign_in, sign_out

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    username = StringField("用户名", [DataRequired(), Length(max=64)])
    password = PasswordField("密码", [DataRequired(), Length(max=128)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect through ?next=."""
    if target and urlparse(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home")


def lock_message(lock: throttle.Lock, now) -> str:
    """What a clerk reads during a lockout: why, for how long, and whom to call."""
    m = lock.minutes_left(now)
    minutes = f"{m} minute" if m == 1 else f"{m} minutes"
    if lock.scope == throttle.IP:
        return t(f"此电脑登录失败次数过多，已临时禁止登录，请 {m} 分钟后再试或联系管理员。",
                 f"Too many failed sign-ins from this computer: signing in from it is blocked for now. "
                 f"Try again in {minutes} or contact your administrator.")
    return t(f"登录失败次数过多，账号已临时锁定，请 {m} 分钟后再试或联系管理员。",
             f"Too many failed sign-ins: the account is locked for now. "
             f"Try again in {minutes} or contact your administrator.")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm(request.form)
    error, status = None, 200
    if request.method == "POST" and form.validate():
        session, now, ip = db(), throttle.now(), client_ip()
        policy = throttle.Policy.from_config(current_app.config)
        username = form.username.data
        lock = throttle.lock_of(session, username, ip, now)
        if lock is not None:  # even the right password is refused (and none is checked)
            throttle.record_refused(session, username, ip, now)
            session.commit()
            error, status = lock_message(lock, now), 429
        else:
            user = service.authenticate(session, username, form.password.data)
            # The password check takes a while: end its read before writing the attempt, or a
            # write committed meanwhile (card station, scheduler) makes SQLite refuse ours.
            session.commit()
            if user is not None:
                throttle.record_success(session, username, ip, now, policy)
                sign_in(user)  # commits
                http_session["lang"] = g.lang
                return redirect(_safe_next(request.args.get("next")))
            failure = throttle.record_failure(session, username, ip, now, policy)
            session.commit()
            if failure.lock is not None:
                error, status = lock_message(failure.lock, now), 429
            else:
                error, status = t("用户名或密码错误。", "Wrong user name or password."), 401
                if failure.left <= 2:
                    error += t(f"再输错 {failure.left} 次，账号将被临时锁定。",
                               f" {failure.left} more wrong attempt{'s' if failure.left > 1 else ''} "
                               f"will lock the account for a while.")
    elif request.method == "POST":
        error, status = t("请输入用户名和密码。", "Enter your user name and password."), 401
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
@signed_in
def logout():
    sign_out()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
@public
def set_language(code):
    http_session["lang"] = "en" if code == "en" else "zh"
    back = None
    if request.referrer:  # the same page again, its query kept (a search) but for ?lang=
        ref = urlparse(request.referrer)
        query = urlencode([(k, v) for k, v in parse_qsl(ref.query, keep_blank_values=True) if k != "lang"])
        back = ref.path + ("?" + query if query else "")
    return redirect(_safe_next(back))


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
@login_required
def profile():
    session = db()
    new_secret = None
    if request.method == "POST":
        if request.form.get("action") == "create":
            name = (request.form.get("name") or "api").strip()[:64]
            _, new_secret = service.create_token(session, current_user, name)
            session.commit()
        elif request.form.get("action") == "revoke":
            token_id = parse_id(request.form.get("token_id"))
            if token_id is not None and service.revoke_token(session, current_user, token_id):
                session.commit()
                flash(t("令牌已吊销。", "Token revoked."))
            else:
                flash(t("未找到该令牌，或已吊销。", "No such token, or it was revoked already."))
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                             .order_by(ApiToken.created_at.desc())).all()
    return render_template("profile.html", tokens=tokens, new_secret=new_secret)


@bp.route("/password", methods=["GET", "POST"])
@signed_in
@login_required
def password():
    """Change one's own password 修改密码: the user's sessions in other browsers end."""
    errors: list[str] = []
    if request.method == "POST":
        session, now, ip = db(), throttle.now(), client_ip()
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        lock = throttle.lock_of(session, current_user.username, ip, now)
        if lock is not None:
            errors.append(lock_message(lock, now))
        elif not current_user.check_password(current):
            # a guess at the password, like one on the login page
            failure = throttle.record_failure(session, current_user.username, ip, now,
                                              throttle.Policy.from_config(current_app.config))
            session.commit()
            errors.append(lock_message(failure.lock, now) if failure.lock is not None
                          else t("当前密码不正确。", "The current password is wrong."))
        else:
            if len(new) < service.MIN_PASSWORD_LENGTH:
                errors.append(t(f"新密码至少 {service.MIN_PASSWORD_LENGTH} 个字符。",
                                f"The new password needs at least {service.MIN_PASSWORD_LENGTH} characters."))
            elif len(new) > 128:
                errors.append(t("新密码最多 128 个字符。", "The new password has at most 128 characters."))
            if new != request.form.get("confirm_password", ""):
                errors.append(t("两次输入的新密码不一致。", "The two new passwords differ."))
            if new and new == current:
                errors.append(t("新密码不能与当前密码相同。", "The new password must differ from the current one."))
        if not errors:
            ended = service.change_password(session, current_user._get_current_object(), new,
                                           keep_session=current_record_id())
            session.commit()
            flash(t(f"密码已修改。其他设备上的 {ended} 个登录已退出。" if ended else "密码已修改。",
                    f"Password changed. {ended} sign-in(s) on other devices ended." if ended
                    else "Password changed."))
            return redirect(url_for("auth.profile"))
    return render_template("password.html", errors=errors), (400 if errors else 200)
