"""Helpers the application family's operations share: find the case's application, today's
clock, dates, the adapters' errors as ServiceError."""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.common.clock import CHINA_TZ
from app.cards.models import ServicePoint
from app.cards.states import ServicePointKind
from app.engine import clock
from app.engine.models import CaseDeadline
from app.engine.services import ServiceContext, ServiceError
from app.procedures.application.models import Application
from app.procedures.application.states import FINAL_APPLICATION_STATES

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ helpers


def _now() -> datetime:
    return clock.now()


def _today() -> date:
    return _now().astimezone(CHINA_TZ).date()


def _application(ctx: ServiceContext, application_id: Any, for_update: bool = False) -> Application:
    try:
        key = int(application_id)
    except (TypeError, ValueError):
        raise ServiceError(
            "application_not_found",
            f"申领编号无效：{application_id!r}",
            f"Invalid application id {application_id!r}",
        ) from None
    query = select(Application).where(Application.id == key)
    if for_update:
        query = query.with_for_update()
    app = ctx.session.scalars(query).first()
    if app is None:
        raise ServiceError("application_not_found", f"未找到申领 {key}", f"No application {key}")
    return app


def _open(app: Application) -> None:
    if app.status in FINAL_APPLICATION_STATES:
        raise ServiceError(
            "application_closed",
            f"申领 {app.number} 已办结，不能再办理",
            f"Application {app.number} is closed",
        )


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])



def _photo_bytes(value: Any) -> bytes | None:
    """Photo bytes from bytes, base64 text, a data URL, or a dict carrying one of them under
    "data" (None for the form's bare info dict: size, format, sha256)."""
    if isinstance(value, dict):
        value = value.get("data") or value.get("base64")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value) or None
    if isinstance(value, str) and value.strip():
        text = value.split(",", 1)[1] if value.startswith("data:") else value
        try:
            return base64.b64decode("".join(text.split()), validate=True) or None
        except (binascii.Error, ValueError):
            raise ServiceError("bad_photo", "照片数据无效", "The photo data is invalid") from None
    return None


def _window_of(point: ServicePoint) -> str | None:
    return point.code if point.kind == ServicePointKind.WINDOW else point.window_code


def _deadline(ctx: ServiceContext) -> CaseDeadline | None:
    """The case's statutory deadline (declared in its BPMN), if it has one."""
    return CaseDeadline.of(ctx.session, ctx.instance_id) if ctx.instance_id else None


