"""Sign-in, sign-out, language and the profile page (API tokens)."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, g, redirect, render_template, request, session as http_session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import Form, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db_session as db
from app.common.i18n import pick as t

from . import service
from .models import ApiToken

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    username = StringField("用户名", [DataRequired(), Length(max=64)])
    password = PasswordField("密码", [DataRequired(), Length(max=128)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect through ?next=."""
    if target and urlparse(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(request.form)
    error = None
    if request.method == "POST" and form.validate():
        user = service.authenticate(db(), form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            http_session["lang"] = g.lang
            return redirect(_safe_next(request.args.get("next")))
        error = t("用户名或密码错误。", "Wrong user name or password.")
    elif request.method == "POST":
        error = t("请输入用户名和密码。", "Enter your user name and password.")
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code):
    http_session["lang"] = "en" if code == "en" else "zh"
    return redirect(_safe_next(request.referrer and urlparse(request.referrer).path))


@bp.route("/profile", methods=["GET", "POST"])
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
            if service.revoke_token(session, current_user, int(request.form.get("token_id", 0))):
                session.commit()
                flash(t("令牌已吊销。", "Token revoked."))
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                             .order_by(ApiToken.created_at.desc())).all()
    return render_template("profile.html", tokens=tokens, new_secret=new_secret)
