"""The application itself (申领): record it, correct it, move it between window and outlet,
mark it overdue, end it (handed over, picked up, rejected, cancelled)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from app.common.clock import CHINA_TZ
from app.common.masking import mask_card_number
from app.common.money import yuan
from app.cards import stock as card_stock
from app.cards.models import CardJob, ServicePoint
from app.cards.states import CARD_BEING_MADE, CardStatus, JobState, ServicePointKind
from app.engine.models import CaseDeadline
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.application import fees
from app.procedures.application.models import Application
from app.procedures.application.numbers import next_application_number, next_fee_receipt_number
from app.procedures.application.replacement import REFUSED, ReplacementRefused, check_old_card
from app.procedures.application.operations.common import (
    _application,
    _date,
    _deadline,
    _now,
    _open,
    _photo_bytes,
    _window_of,
    log,
)
from app.procedures.application.reasons import reason_texts
from app.procedures.application.states import (
    FINAL_APPLICATION_STATES,
    REPLACING,
    ApplicationStatus,
    Channel,
    Purpose,
)

# application form field -> Application column (same names unless listed)
_FORM_TEXT = (
    "name",
    "sex",
    "occupation",
    "landline",
    "mobile",
    "id_type",
    "country",
    "household_address",
    "residence_address",
    "residence_postcode",
    "employer",
    "medical_insurance_type",
    "insurance_agency",
    "guardian_name",
    "guardian_id_type",
    "guardian_id_number",
    "old_card_city",
    "old_card_number",
    "remarks",
)


def _service_point(ctx: ServiceContext, channel: str, code: str | None) -> ServicePoint:
    """The place that accepted the application: ``code`` if given; else the clerk's office; else
    the service point whose code is one of the clerk's groups (e.g. a clerk in groups ``window_clerk`` and ``ICBC-SS``);
    else the first active one of the channel's kind (single-window installations, the demo)."""
    session = ctx.session
    kind = ServicePointKind.WINDOW if channel == Channel.WINDOW else ServicePointKind.OUTLET
    query = select(ServicePoint).where(ServicePoint.kind == kind, ServicePoint.active.is_(True))
    if code:
        point = session.scalars(select(ServicePoint).where(ServicePoint.code == code)).first()
    elif ctx.actor.office and (own := session.scalars(query.where(
            ServicePoint.code == ctx.actor.office)).first()) is not None:
        point = own  # the clerk's own office
    else:
        point = (
            session.scalars(
                query.where(ServicePoint.code.in_(sorted(ctx.actor.groups))).order_by(
                    ServicePoint.id
                )
            ).first()
            if ctx.actor.groups
            else None
        )
        point = point or session.scalars(query.order_by(ServicePoint.id)).first()
    if point is None or point.kind != kind:
        raise ServiceError(
            "unknown_service_point",
            f"未知的受理网点：{code or kind}",
            f"Unknown service point {code or kind}",
        )
    return point


def _set_business_key(ctx: ServiceContext, number: str) -> None:
    """The application number becomes the case's business key (the web layer starts cases
    before the form is filled in, so the key is only known here)."""
    if not ctx.instance_id or ctx.business_key:
        return
    from app.engine.models import ProcessInstance

    instance = ctx.session.get(ProcessInstance, ctx.instance_id)
    if instance is not None and not instance.business_key:
        instance.business_key = number


@registry.operation(
    "application.record",
    results=(
        "application_id",
        "number",
        "channel",
        "applicant",
        "id_number",
        "service_point",
        "window",
        "accepted_on",
        "deadline",
        "first_card",
        "consent_stop_old_card",
        "purpose",
        "old_card_number",
        "fee",
        "fee_receipt_number",
    ),
    errors=("bad_channel", "incomplete_application", "bad_purpose", REFUSED),
)
def record_application(
    ctx: ServiceContext,
    channel: str,
    service_point: str | None = None,
    form: dict | None = None,
    photo: Any = None,
) -> dict:
    """受理: store the application form as an ``Application`` with a new application number,
    which becomes the case's business key. Idempotent per workflow instance (a retried step
    finds the application recorded before).

    A replacement 补卡 or exchange 换卡 (``purpose``) names the person's old card: it must
    qualify (``replacement.check_old_card``; the diagrams check it first with
    ``application.check_old_card`` and take the clerk back to the form), else
    ``old_card_refused``; the fee 工本费 is recorded with its receipt number (``fees``). An
    exchange consents to stopping the old card."""
    session = ctx.session
    existing = (
        session.scalars(
            select(Application).where(Application.instance_id == ctx.instance_id)
        ).first()
        if ctx.instance_id
        else None
    )
    if existing is not None:
        return _recorded(existing, _deadline(ctx))
    if channel not in (Channel.WINDOW, Channel.OUTLET):
        raise ServiceError(
            "bad_channel", f"受理渠道无效：{channel!r}", f"Invalid channel {channel!r}"
        )
    point = _service_point(ctx, channel, service_point)
    data = dict(form if form is not None else ctx.data)
    purpose = str(data.get("purpose") or Purpose.FIRST)
    if purpose not in set(Purpose):
        raise ServiceError("bad_purpose", f"申领类型无效：{purpose!r}", f"Invalid purpose {purpose!r}")
    photo_bytes = _photo_bytes(photo) or _photo_bytes(data.get("photo"))
    now = _now()
    accepted_day = now.astimezone(CHINA_TZ).date()
    app = Application(
        number=next_application_number(session, accepted_day),
        channel=channel,
        service_point=point.code,
        service_point_name=point.name,
        window=_window_of(point),
        status=ApplicationStatus.ACCEPTED,
        instance_id=ctx.instance_id,
        created_by=ctx.actor.username,
        accepted_at=now,
        application_date=_date(data.get("application_date")) or accepted_day,
        ethnicity=str(data.get("ethnicity") or "").zfill(2),
        birth_date=_date(data.get("birth_date")),
        id_number=str(data.get("id_number") or "").upper(),
        id_valid_from=_date(data.get("id_valid_from")),
        id_valid_to=_date(data.get("id_valid_to")),
        id_long_term=bool(data.get("id_long_term")),
        first_card=not (data.get("first_card") is False or str(data.get("first_card")) == "no"),
        consent_stop_old_card=bool(data.get("consent_stop_old_card")),
        purpose=purpose,
        old_card_handed_in=purpose == Purpose.EXCHANGE and bool(data.get("old_card_handed_in")),
        **{k: (data.get(k) or None) for k in _FORM_TEXT},
    )
    if not app.name or not app.id_number or app.birth_date is None or not app.mobile:
        raise ServiceError(
            "incomplete_application",
            "申领表缺少姓名、证件号码、出生日期或手机号码",
            "The application lacks name, ID number, date of birth or mobile",
        )
    if purpose in REPLACING:
        _replacing(ctx, app, now)
    if photo_bytes:
        app.photo = photo_bytes
        app.photo_sha256 = hashlib.sha256(photo_bytes).hexdigest()
        app.photo_format = "PNG" if photo_bytes[:4] == b"\x89PNG" else "JPEG"
    elif isinstance(data.get("photo"), dict):  # the form's cleaned() info without the bytes
        app.photo_sha256 = data["photo"].get("sha256")
        app.photo_format = data["photo"].get("format")
    session.add(app)
    session.flush()
    _set_business_key(ctx, app.number)
    log.info("application %s recorded for %s at %s", app.number, app.id_number_masked, point.code)
    return _recorded(app, _deadline(ctx))


@registry.operation(
    "application.check_old_card",
    results=("ok", "purpose", "card_number", "code", "message_zh", "message_en"),
)
def check_old_card_op(
    ctx: ServiceContext,
    purpose: str | None = None,
    old_card_number: str | None = None,
    id_number: str | None = None,
    handed_in: bool = False,
) -> dict:
    """核对原卡: for a replacement 补卡 or exchange 换卡 the old card on the form must be the
    applicant's own (same ID number), formally lost (补卡) or live in their hands and handed in
    (换卡); ``ok`` False says why (bilingual) and the diagrams take the clerk back to the form.
    A first card is always ``ok``. Reads only."""
    purpose = str(purpose or Purpose.FIRST)
    if purpose not in REPLACING:
        return {"ok": True, "purpose": purpose, "card_number": None, "code": None,
                "message_zh": None, "message_en": None}
    try:
        card = check_old_card(ctx.session, purpose, old_card_number, id_number,
                              handed_in=bool(handed_in))
    except ReplacementRefused as e:
        return {"ok": False, "purpose": purpose,
                "card_number": mask_card_number(str(old_card_number or "").upper()) or None,
                "code": e.code, "message_zh": e.message_zh, "message_en": e.message_en}
    return {"ok": True, "purpose": purpose, "card_number": card.card_number_masked, "code": None,
            "message_zh": None, "message_en": None}


def _replacing(ctx: ServiceContext, app: Application, now) -> None:
    """补卡/换卡: the old card must qualify (else ``old_card_refused``: nothing is recorded);
    it is a card held in Fujian (not a first card); an exchange consents to stopping it; the
    fee is paid now, with its receipt number."""
    try:
        card = check_old_card(ctx.session, app.purpose, app.old_card_number, app.id_number,
                              handed_in=app.old_card_handed_in)
    except ReplacementRefused as e:
        raise ServiceError(REFUSED, e.message_zh, e.message_en) from None
    app.old_card_number = card.card_number
    app.old_card_city = app.old_card_city or card.region_code[:4] + "00"
    app.first_card = False
    app.consent_stop_old_card = app.purpose == Purpose.EXCHANGE
    app.fee_cents = fees.fee_cents()
    app.fee_receipt_number = next_fee_receipt_number(ctx.session, fees.local_day(now))
    app.fee_paid_at = now


def _recorded(app: Application, deadline: CaseDeadline | None) -> dict:
    """Also the case summary (``summaryFields``): personal numbers masked."""
    return {
        "application_id": app.id,
        "number": app.number,
        "channel": app.channel,
        "applicant": app.name,
        "id_number": app.id_number_masked,
        "service_point": app.service_point_name,
        "window": app.window,
        "accepted_on": app.accepted_at.astimezone(CHINA_TZ).date().isoformat(),
        "deadline": deadline.due_on.isoformat() if deadline and deadline.due_on else None,
        "first_card": app.first_card,
        "consent_stop_old_card": app.consent_stop_old_card,
        "purpose": app.purpose,
        "old_card_number": app.old_card_number_masked or None,
        "fee": yuan(app.fee_cents) if app.fee_cents is not None else None,
        "fee_receipt_number": app.fee_receipt_number,
    }


@registry.operation("application.correct", results=("changed",))
def correct_application(ctx: ServiceContext, application_id: int, correction: dict) -> dict:
    """Apply the data the clerk checked with the applicant (form ``correct_data``)."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    changed, log_rows = [], list(app.corrections or [])
    for field in ("name", "sex", "birth_date"):
        new = correction.get(field)
        if new in (None, ""):
            continue
        new_value = _date(new) if field == "birth_date" else str(new).strip()
        old_value = getattr(app, field)
        if new_value != old_value:
            setattr(app, field, new_value)
            changed.append(field)
            log_rows.append(
                {
                    "field": field,
                    "old": str(old_value),
                    "new": str(new_value),
                    "by": ctx.actor.username,
                    "at": _now().isoformat(),
                    "document": correction.get("checked_document"),
                }
            )
    app.corrections = log_rows
    return {"changed": changed}


@registry.operation("application.set_status", results=("status",), errors=("bad_status",))
def set_status(ctx: ServiceContext, application_id: int, status: str) -> dict:
    """Card moved between window and outlet: produced → sent_to_outlet → at_outlet."""
    allowed = {
        ApplicationStatus.SENT_TO_OUTLET: (ApplicationStatus.PRODUCED,),
        ApplicationStatus.AT_OUTLET: (ApplicationStatus.SENT_TO_OUTLET,),
    }
    app = _application(ctx, application_id, for_update=True)
    if status not in allowed:
        raise ServiceError(
            "bad_status",
            f"不能直接设置状态 {status!r}",
            f"Status {status!r} cannot be set directly",
        )
    if app.status == status:
        return {"status": app.status}
    if app.status not in allowed[status]:
        raise ServiceError(
            "bad_status",
            f"申领当前状态为 {app.status}，不能改为 {status}",
            f"The application is {app.status}; it cannot become {status}",
        )
    app.status = status
    if status == ApplicationStatus.SENT_TO_OUTLET:
        app.sent_to_outlet_at = _now()
    else:
        app.received_at_outlet_at = _now()
    return {"status": app.status}


@registry.operation("application.mark_overdue", results=("overdue", "deadline"))
def mark_overdue(ctx: ServiceContext, application_id: int) -> dict:
    """The statutory deadline passed before the applicant was notified (超期)."""
    app = _application(ctx, application_id, for_update=True)
    deadline = _deadline(ctx)
    due = deadline.due_on.isoformat() if deadline and deadline.due_on else None
    if app.notified_at is None:
        app.overdue = True
        log.warning("application %s overdue (deadline %s)", app.number, due)
    return {"overdue": app.overdue, "deadline": due}


@registry.operation(
    "application.finish", results=("status", "reason"), errors=("bad_outcome", "card_not_ready")
)
def finish(
    ctx: ServiceContext,
    application_id: int,
    outcome: str,
    reason: str | None = None,
    detail: str | None = None,
    handover: dict | None = None,
    blank_card_spoiled: bool = False,
) -> dict:
    """办结. ``handed_over`` (window) / ``picked_up`` (outlet): the card is in the holder's
    hands and becomes active (正常). ``rejected`` / ``cancelled``: no card; the reason is kept,
    a card being made is cancelled, its blank card goes back to stock, open jobs are cancelled."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    if app.status in FINAL_APPLICATION_STATES:
        return {"status": app.status}  # a retried step
    now = _now()
    card = app.card
    if outcome in ("handed_over", "picked_up"):
        if card is None or card.status not in (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE):
            raise ServiceError(
                "card_not_ready", "该申领没有已制好的卡", "No finished card for this application"
            )
        card.status = CardStatus.ACTIVE
        card.activated_at = card.activated_at or now
        app.handed_over_at = now
        app.handover = _handover_record(handover or {}, ctx)
        app.status = (
            ApplicationStatus.HANDED_OVER
            if outcome == "handed_over"
            else ApplicationStatus.PICKED_UP
        )
    elif outcome in ("rejected", "cancelled"):
        app.reason_zh, app.reason_en = reason_texts(reason or outcome, detail)
        if card is not None and card.status in CARD_BEING_MADE:
            card.status = CardStatus.CANCELLED
            card.stopped_at = now
            card.stop_reason = app.reason_zh
        card_stock.stock(session).release_blank_card(
            app.id, spoiled=bool(blank_card_spoiled), note=app.reason_zh
        )
        _cancel_card_jobs(session, app.id)
        app.status = (
            ApplicationStatus.REJECTED if outcome == "rejected" else ApplicationStatus.CANCELLED
        )
    else:
        raise ServiceError(
            "bad_outcome", f"办结结果无效：{outcome!r}", f"Invalid outcome {outcome!r}"
        )
    app.finished_at = now
    log.info("application %s finished: %s", app.number, app.status)
    return {"status": app.status, "reason": reason}


def _cancel_card_jobs(session, application_id: int) -> int:
    """Cancel the open jobs making this application's card (``card_jobs.cancel_open_jobs``),
    but not an exchange's job blocking the old card: that card is stopped whatever becomes of
    the new one, and must be locked on its chip all the same."""
    jobs = session.scalars(select(CardJob).where(
        CardJob.application_id == application_id, CardJob.kind != "block",
        CardJob.state.in_([JobState.QUEUED, JobState.CLAIMED]))).all()
    now = _now()
    for job in jobs:
        job.state = JobState.CANCELLED
        job.finished_at = now
    return len(jobs)


def _handover_record(form: dict, ctx: ServiceContext) -> dict:
    keep = (
        "picked_up_by",
        "proxy_name",
        "proxy_id_type",
        "proxy_id_number",
        "identity_checked",
        "holder_id_checked",
        "proxy_documents_checked",
        "receipt_signed",
        "remarks",
    )
    out = {k: form[k] for k in keep if form.get(k) not in (None, "")}
    out["by"] = ctx.actor.username
    return out
