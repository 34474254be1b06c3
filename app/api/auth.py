"""Bearer-token authentication for /api/ (the pages use the sign-in session instead)."""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta, timezone

from flask import current_app, g, jsonify, request
from sqlalchemy import inspect, or_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import ApiToken
from app.auth.service import user_for_token
from app.common.clock import utcnow
from app.extensions import db_session
from app.common.i18n import pick as t

log = logging.getLogger(__name__)


def bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def api_error(status: int, code: str, zh: str, en: str, **extra):
    body = {"error": {"code": code, "message": t(zh, en), "message_zh": zh, "message_en": en, **extra}}
    return jsonify(body), status


# A token's last use is recorded at most this often: authenticating writes nothing otherwise
# (50 clients at once would queue for SQLite's one write lock just to say "used just now").
LAST_USE_EVERY = timedelta(minutes=5)


def require_user():
    """before_request of the API: the token's user, or 401."""
    session = db_session()
    secret = bearer()
    user = user_for_token(session, secret) if secret else None
    if user is None:
        session.rollback()
        return api_error(401, "unauthorized", "缺少或无效的 API 令牌", "Missing or invalid API token")
    _note_use(session, ApiToken.hash(secret))
    g.api_user = user
    return None


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None \
        else moment


def _note_use(session, token_hash: str) -> None:
    """Record the token's last use when the one recorded is older than ``LAST_USE_EVERY``, in a
    short transaction of its own that gives way to a lock (the use is a hint, the request
    goes on). The request's own transaction is ended with nothing written."""
    token = next((o for o in list(session.identity_map.values())
                  if isinstance(o, ApiToken) and o.token_hash == token_hash), None)
    recorded = None
    if token is not None:
        history = inspect(token).attrs.last_used_at.history
        recorded = history.deleted[0] if history.deleted else token.last_used_at
        set_committed_value(token, "last_used_at", recorded)  # not written with the request
    session.commit()  # ends the read transaction: nothing to flush
    now = utcnow()
    if token is None or (recorded is not None and now - _aware(recorded) < LAST_USE_EVERY):
        return
    try:
        session.execute(update(ApiToken).where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USE_EVERY))
            .values(last_used_at=now).execution_options(synchronize_session=False))
        session.commit()
        set_committed_value(token, "last_used_at", now)
    except DBAPIError as exc:  # locked / serialization failure: skip this time
        session.rollback()
        log.info("API token %s: last use not recorded (%s)", token.id, type(exc.orig).__name__)


def require_station():
    """before_request of the station API: a configured station token (constant-time compare)."""
    expected = current_app.config.get("STATION_TOKEN") or ""
    if not expected or not hmac.compare_digest(bearer().encode(), expected.encode()):
        return api_error(401, "unauthorized", "制卡工作站令牌无效", "Invalid card station token")
    return None
