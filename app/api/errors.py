"""What the API answers when a request goes wrong (接口错误): always JSON in the API's error
shape (``api_error``: code, message, message_zh, message_en), never an HTML page, never a 500
for a lock wait. And the request body, read as JSON without trusting its size or depth."""
from __future__ import annotations

import json
import logging
import re

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.engine.transaction import is_race
from app.extensions import db_session

from .auth import api_error

log = logging.getLogger(__name__)

MAX_BODY_DEPTH = 32  # nesting of a request body (the start data has its own, smaller limit)
RETRY_AFTER_SECONDS = 2

_NO_BODY = object()


class BadBody(Exception):
    """The body is JSON nested too deep to read (answered 400 by :func:`register`)."""


class BadText(BadBody):
    """The body holds a lone UTF-16 surrogate: "\\ud800" is valid JSON, and Python's parser
    reads it, but it is no Unicode text and cannot be stored (UTF-8) (answered 400)."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_BODY_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def json_body():
    """The request's JSON body (any JSON value), None when there is none or it is not JSON.
    Raises :class:`BadBody` for JSON nested deeper than ``MAX_BODY_DEPTH`` (Python's parser
    would otherwise hit its recursion limit on 1,000 levels)."""
    cached = g.get("api_json_body", _NO_BODY)
    if cached is not _NO_BODY:
        return cached
    raw = request.get_data(cache=True)
    body = None
    if raw:
        try:
            body = json.loads(raw)
        except RecursionError:
            raise BadBody() from None
        except ValueError:  # not JSON, not UTF-8
            body = None
        if body is not None and _too_deep(body):
            raise BadBody()
        if body is not None and _lone_surrogate(body):
            raise BadText()
    g.api_json_body = body
    return body


def json_object() -> dict | None:
    """The body when it is a JSON object, else None."""
    body = json_body()
    return body if isinstance(body, dict) else None


# -- error handlers ------------------------------------------------------------------------------

_HTTP_TEXTS = {
    400: ("请求无效", "Bad request"),
    401: ("未登录或令牌无效", "Not signed in or invalid token"),
    403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    409: ("与当前状态冲突", "Conflict with the current state"),
    413: ("请求体过大", "Request body too large"),
    415: ("不支持的内容类型", "Unsupported media type"),
    429: ("请求过于频繁，请稍后再试", "Too many requests, please try again later"),
}
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large",
               415: "unsupported_media_type", 429: "too_many_requests"}


def http_error(e: HTTPException):
    zh, en = _HTTP_TEXTS.get(e.code or 500, (e.name, e.name))
    response, status = api_error(e.code or 500, _HTTP_CODES.get(e.code, "http_error"), zh, en)
    if e.code == 405 and getattr(e, "valid_methods", None):
        response.headers["Allow"] = ", ".join(e.valid_methods)
    return response, status


def bad_body(_e: BadBody):
    return api_error(400, "bad_request", f"请求体 JSON 嵌套过深（至多 {MAX_BODY_DEPTH} 层）",
                     f"The JSON body is nested too deep (at most {MAX_BODY_DEPTH} levels)")


def bad_text(_e: BadText):
    return api_error(400, "bad_request", "请求体含有无效的 Unicode 文本（单独的代理码位，如 \\ud800）",
                     "The JSON body holds text that is not valid Unicode (a lone surrogate such as \\ud800)")


def database_error(e: DBAPIError):
    """A lock wait that outlived the database's timeout (SQLite "database is locked",
    PostgreSQL serialization / deadlock / lock-not-available): the clerk may simply try
    again, so 503 with Retry-After. Any other database error is an internal error."""
    try:
        db_session().rollback()
    except Exception:  # noqa: BLE001 - the answer matters more than a broken connection
        log.warning("rollback after a database error failed", exc_info=True)
    if not is_race(e):
        return internal_error(e)
    log.warning("API request gave way to a lock: %s", e.orig)
    response, status = api_error(503, "busy", "系统繁忙（数据正被他人办理），请稍后重试",
                                 "The system is busy (someone else is changing the same data); "
                                 "please try again in a moment")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def internal_error(e: Exception):
    if isinstance(e, HTTPException):
        return http_error(e)
    log.exception("API request failed", exc_info=e)
    return api_error(500, "internal_error", "系统内部错误，请联系管理员",
                     "Internal error, please contact the administrator")


def register(bp) -> None:
    """The error handlers of an API blueprint."""
    bp.register_error_handler(BadText, bad_text)
    bp.register_error_handler(BadBody, bad_body)
    bp.register_error_handler(DBAPIError, database_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, internal_error)


def register_routing_errors(app: Flask, prefix: str = "/api/") -> None:
    """Routing errors (no such URL, e.g. an id beyond 64 bits; wrong method) of paths under
    ``prefix`` answer in the API's shape; other paths keep the app's handlers. Call after the
    app's own 404/405 handlers are registered."""
    for code in (404, 405):
        handlers = app.error_handler_spec[None][code]
        exc_class = next(iter(handlers), None)
        page_handler = handlers.get(exc_class) if exc_class is not None else None

        def handler(e, page_handler=page_handler):
            if request.path.startswith(prefix):
                return http_error(e)
            return page_handler(e) if page_handler is not None else e
        app.register_error_handler(code, handler)
