"""Server-side sign-in sessions 登录会话 of the pages (the Flask side of ``service``'s records).

Signing in makes a ``user_session`` record and puts its secret in the (signed) Flask session
cookie; flask-login's user loader accepts a cookie only while that record is live: not revoked,
its user active, seen within ``SESSION_IDLE_TIMEOUT`` seconds (default 12 hours; 0: no idle
limit). Sign-out revokes the record, so a copy of the cookie replayed afterwards signs nobody
in; deactivating a user or changing a password revokes their (other) records. A cookie without
a record (the remember-me cookie, or one made before sessions were kept) is refused too.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request, session as http_session
from flask_login import login_user, logout_user

from app.common.clock import utcnow
from app.extensions import db_session

from . import service
from .models import User, UserSession

SESSION_KEY = "_sid"  # the record's secret in the Flask session
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often
FORGET_AFTER = timedelta(days=30)  # records ended (or unused) this long ago are deleted


def client_ip() -> str:
    """The client's address (the proxy's X-Forwarded-For when app.security_headers trusts it)."""
    return (request.remote_addr or "")[:45]


def _idle() -> timedelta | None:
    seconds = float(current_app.config.get("SESSION_IDLE_TIMEOUT", 12 * 3600) or 0)
    return timedelta(seconds=seconds) if seconds > 0 else None


def sign_in(user: User) -> None:
    """Start a session of ``user`` in this browser (a new record and a fresh Flask session:
    nothing of a session from before carries over)."""
    session = db_session()
    now = utcnow()
    _record, secret = service.create_session(session, user, request.user_agent.string, client_ip(), now)
    service.prune_sessions(session, now - FORGET_AFTER)
    session.commit()
    http_session.clear()
    login_user(user)
    http_session[SESSION_KEY] = secret


def sign_out() -> None:
    """End this browser's session, on the server too."""
    secret = http_session.get(SESSION_KEY)
    if secret and service.revoke_session(db_session(), secret):
        db_session().commit()
    logout_user()
    http_session.pop(SESSION_KEY, None)


def current_record_id() -> str | None:
    """The id of this browser's session record (None when signed out)."""
    secret = http_session.get(SESSION_KEY)
    return UserSession.hash(secret) if secret else None


def load_user(user_id: str) -> User | None:
    """flask-login's user loader: the user of a live session record, else nobody."""
    session = db_session()
    now = utcnow()
    record = service.live_session(session, http_session.get(SESSION_KEY, ""), now, _idle())
    if record is None or str(record.user_id) != str(user_id):
        return None
    if now - record.last_seen_at >= TOUCH_EVERY and not (session.new or session.dirty or session.deleted):
        record.last_seen_at = now
        session.commit()
    return session.get(User, record.user_id)
