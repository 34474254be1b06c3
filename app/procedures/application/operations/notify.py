"""Telling the applicant (通知): the SMS that the card is at the outlet."""

from __future__ import annotations

import app.adapters as adapters
from app.common.clock import CHINA_TZ
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.application.operations.common import (
    _application,
    _deadline,
    _now,
    _open,
)
from app.procedures.application.states import ApplicationStatus

# ------------------------------------------------------------------------------ SMS

PICKUP_TEXT = (
    "{sig}{name}您好，您申领的社会保障卡（申领编号{number}）已到{point}，"
    "请本人携带身份证原件前来领取；他人代领须携带双方身份证原件及户口簿。"
)


@registry.operation(
    "sms.notify_pickup",
    results=("sms_id", "notified_at", "on_time", "mobile"),
    errors=("sms_failed",),
)
def notify_pickup(ctx: ServiceContext, application_id: int) -> dict:
    """代办网点通过手机短信通知申请人领卡; the 15-working-day limit ends here (notified_at)."""
    from app.adapters.sms import SIGNATURE

    app = _application(ctx, application_id, for_update=True)
    _open(app)
    text = PICKUP_TEXT.format(
        sig=SIGNATURE, name=app.name, number=app.number, point=app.service_point_name
    )
    try:
        sms_id = adapters.sms(ctx.session).send(app.mobile, text, application_id=app.id)
    except adapters.SmsError as e:
        raise ServiceError.of(e) from None
    now = _now()
    app.notified_at = now
    app.status = ApplicationStatus.NOTIFIED
    local = now.astimezone(CHINA_TZ).date()
    deadline = _deadline(ctx)
    on_time = deadline is None or deadline.due_on is None or local <= deadline.due_on
    if not on_time:
        app.overdue = True
    return {
        "sms_id": sms_id,
        "notified_at": now.isoformat(),
        "on_time": on_time,
        "mobile": app.mobile_masked,
    }
