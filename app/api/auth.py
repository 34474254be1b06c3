"""Bearer-token authentication for /api/ (the pages use the sign-in session instead)."""
from __future__ import annotations

import hmac

from flask import current_app, g, jsonify, request

from app.auth.service import user_for_token
from app.extensions import db_session
from app.common.i18n import pick as t


def bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def api_error(status: int, code: str, zh: str, en: str, **extra):
    body = {"error": {"code": code, "message": t(zh, en), "message_zh": zh, "message_en": en, **extra}}
    return jsonify(body), status


def require_user():
    """before_request of the API: the token's user, or 401."""
    user = user_for_token(db_session(), bearer()) if bearer() else None
    if user is None:
        return api_error(401, "unauthorized", "缺少或无效的 API 令牌", "Missing or invalid API token")
    db_session().commit()  # last_used_at
    g.api_user = user
    return None


def require_station():
    """before_request of the station API: a configured station token (constant-time compare)."""
    expected = current_app.config.get("STATION_TOKEN") or ""
    if not expected or not hmac.compare_digest(bearer().encode(), expected.encode()):
        return api_error(401, "unauthorized", "制卡工作站令牌无效", "Invalid card station token")
    return None
