"""Service operations 服务操作 of the card procedures, called by BPMN service tasks.

Each runs inside the step's transaction (``ctx.session``; never commits), takes its inputs as
named parameters (BPMN ``spiffworkflow:parameter``), and returns a small JSON dict: ids,
flags, masked numbers, never a photo or a full ID number. A failure the diagram may handle
raises ``ServiceError`` with a stable ``code`` (listed per operation); anything else becomes an
incident the clerk can retry.

=========================  ===================================================================
operation                  parameters → result
=========================  ===================================================================
application.record         channel, service_point, form=None (default: the task data), photo=None
                           → application_id, number, channel, window, first_card, consent,
                           deadline
archive.query              application_id → has_live_card, being_made, card_number (masked),
                           status, matches_form, consent
archive.stop_old_card      application_id → stopped, card_number (masked), status
                           errors: card_in_production, card_not_live, card_unknown
police.verify              application_id → match, reasons [{code, zh, en}], checks
                           errors: police_unavailable (retryable)
application.correct        application_id, correction (the correct_data form) → changed
card.allocate              application_id, reserve_blank_card=True, bank_card_number=None
                           → card_id, card_number (masked), bank_card_number (masked)
                           errors: live_card_exists, invalid_card_data, no_blank_card, ...
stock.reserve_blank_card   application_id, bank_card_number=None → bank_card_number, bank
                           errors: no_blank_card, blank_card_unknown, blank_card_not_available,
                           wrong_window
card.submit_issue_job      application_id, replace_blank_card=False → job_id, attempt
                           errors: no_blank_card
card.mark_issued           application_id, job_id → card_number (masked), status
                           errors: job_not_done, card_result_mismatch
application.set_status     application_id, status (sent_to_outlet | at_outlet) → status
sms.notify_pickup          application_id → sms_id, notified_at, on_time
                           errors: sms_failed
application.mark_overdue   application_id → overdue, deadline
application.finish         application_id, outcome (handed_over | picked_up | rejected |
                           cancelled), reason=None (code, see reasons.py), detail=None,
                           handover=None (the handover/pickup form) → status
=========================  ===================================================================
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import app.adapters as adapters
from app.cards import jobs as card_jobs
from app.cards import rules
from app.cards.models import Application, Card, CardJob, ServicePoint
from app.cards.numbers import next_application_number
from app.cards.reasons import reason_texts
from app.cards.states import (CARD_BEING_MADE, ApplicationStatus, CardStatus, Channel,
                              FINAL_APPLICATION_STATES, JobState, ServicePointKind)
from app.engine import clock
from app.engine.services import Actor, ServiceContext, ServiceError, registry
from app.engine.models import CaseDeadline
from hardware.errors import ProfileError
from app.common.masking import mask_id

log = logging.getLogger(__name__)



# ------------------------------------------------------------------------------ helpers

def _now() -> datetime:
    return clock.now()


def _today() -> date:
    return _now().astimezone(rules.CHINA_TZ).date()


def _application(ctx: ServiceContext, application_id: Any, for_update: bool = False) -> Application:
    try:
        key = int(application_id)
    except (TypeError, ValueError):
        raise ServiceError("application_not_found", f"申领编号无效：{application_id!r}",
                           f"Invalid application id {application_id!r}") from None
    query = select(Application).where(Application.id == key)
    if for_update:
        query = query.with_for_update()
    app = ctx.session.scalars(query).first()
    if app is None:
        raise ServiceError("application_not_found", f"未找到申领 {key}", f"No application {key}")
    return app


def _open(app: Application) -> None:
    if app.status in FINAL_APPLICATION_STATES:
        raise ServiceError("application_closed", f"申领 {app.number} 已办结，不能再办理",
                           f"Application {app.number} is closed")


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _yes(value: Any) -> bool:
    return str(value).strip().lower() in ("yes", "true", "1", "on", "是")


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


def _service_error(exc, retryable: bool = False) -> ServiceError:
    """An adapter's error (code, zh, en) as a ServiceError."""
    return ServiceError(exc.code, exc.zh, exc.en, retryable=retryable)


# ------------------------------------------------------------------------------ application

# application form field -> Application column (same names unless listed)
_FORM_TEXT = ("name", "sex", "occupation", "landline", "mobile", "id_type", "country",
              "household_address", "residence_address", "residence_postcode", "employer",
              "medical_insurance_type", "insurance_agency", "guardian_name", "guardian_id_type",
              "guardian_id_number", "old_card_city", "old_card_number", "remarks")


def _service_point(ctx: ServiceContext, channel: str, code: str | None) -> ServicePoint:
    """The place that accepted the application: ``code`` if given; else the service point whose
    code is one of the clerk's groups (e.g. a clerk in groups ``window_clerk`` and ``ICBC-SS``);
    else the first active one of the channel's kind (single-window installations, the demo)."""
    session = ctx.session
    kind = ServicePointKind.WINDOW if channel == Channel.WINDOW else ServicePointKind.OUTLET
    query = select(ServicePoint).where(ServicePoint.kind == kind, ServicePoint.active.is_(True))
    if code:
        point = session.scalars(select(ServicePoint).where(ServicePoint.code == code)).first()
    else:
        point = session.scalars(query.where(ServicePoint.code.in_(sorted(ctx.actor.groups)))
                                .order_by(ServicePoint.id)).first() if ctx.actor.groups else None
        point = point or session.scalars(query.order_by(ServicePoint.id)).first()
    if point is None or point.kind != kind:
        raise ServiceError("unknown_service_point", f"未知的受理网点：{code or kind}",
                           f"Unknown service point {code or kind}")
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


@registry.operation("application.record")
def record_application(ctx: ServiceContext, channel: str, service_point: str | None = None,
                       form: dict | None = None, photo: Any = None) -> dict:
    """受理: store the application form as an ``Application`` with a new application number,
    which becomes the case's business key. Idempotent per workflow instance (a retried step
    finds the application recorded before)."""
    session = ctx.session
    existing = session.scalars(select(Application).where(
        Application.instance_id == ctx.instance_id)).first() if ctx.instance_id else None
    if existing is not None:
        return _recorded(existing, _deadline(ctx))
    if channel not in (Channel.WINDOW, Channel.OUTLET):
        raise ServiceError("bad_channel", f"受理渠道无效：{channel!r}", f"Invalid channel {channel!r}")
    point = _service_point(ctx, channel, service_point)
    data = dict(form if form is not None else ctx.data)
    photo_bytes = _photo_bytes(photo) or _photo_bytes(data.get("photo"))
    now = _now()
    accepted_day = now.astimezone(rules.CHINA_TZ).date()
    app = Application(
        number=next_application_number(session, accepted_day), channel=channel,
        service_point=point.code, service_point_name=point.name,
        window=_window_of(point), status=ApplicationStatus.ACCEPTED,
        instance_id=ctx.instance_id, created_by=ctx.actor.username, accepted_at=now,
        application_date=_date(data.get("application_date")) or accepted_day,
        ethnicity=str(data.get("ethnicity") or "").zfill(2),
        birth_date=_date(data.get("birth_date")),
        id_number=str(data.get("id_number") or "").upper(),
        id_valid_from=_date(data.get("id_valid_from")), id_valid_to=_date(data.get("id_valid_to")),
        id_long_term=bool(data.get("id_long_term")),
        first_card=not (data.get("first_card") is False or str(data.get("first_card")) == "no"),
        consent_stop_old_card=bool(data.get("consent_stop_old_card")),
        **{k: (data.get(k) or None) for k in _FORM_TEXT},
    )
    if not app.name or not app.id_number or app.birth_date is None or not app.mobile:
        raise ServiceError("incomplete_application", "申领表缺少姓名、证件号码、出生日期或手机号码",
                           "The application lacks name, ID number, date of birth or mobile")
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


def _recorded(app: Application, deadline: CaseDeadline | None) -> dict:
    """Also the case summary (``summaryFields``): personal numbers masked."""
    return {"application_id": app.id, "number": app.number, "channel": app.channel,
            "applicant": app.name, "id_number": app.id_number_masked,
            "service_point": app.service_point_name, "window": app.window,
            "accepted_on": app.accepted_at.astimezone(rules.CHINA_TZ).date().isoformat(),
            "deadline": deadline.due_on.isoformat() if deadline and deadline.due_on else None,
            "first_card": app.first_card, "consent_stop_old_card": app.consent_stop_old_card}


@registry.operation("application.correct")
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
            log_rows.append({"field": field, "old": str(old_value), "new": str(new_value),
                             "by": ctx.actor.username, "at": _now().isoformat(),
                             "document": correction.get("checked_document")})
    app.corrections = log_rows
    return {"changed": changed}


@registry.operation("application.set_status")
def set_status(ctx: ServiceContext, application_id: int, status: str) -> dict:
    """Card moved between window and outlet: produced → sent_to_outlet → at_outlet."""
    allowed = {ApplicationStatus.SENT_TO_OUTLET: (ApplicationStatus.PRODUCED,),
               ApplicationStatus.AT_OUTLET: (ApplicationStatus.SENT_TO_OUTLET,)}
    app = _application(ctx, application_id, for_update=True)
    if status not in allowed:
        raise ServiceError("bad_status", f"不能直接设置状态 {status!r}", f"Status {status!r} cannot be set directly")
    if app.status == status:
        return {"status": app.status}
    if app.status not in allowed[status]:
        raise ServiceError("bad_status", f"申领当前状态为 {app.status}，不能改为 {status}",
                           f"The application is {app.status}; it cannot become {status}")
    app.status = status
    if status == ApplicationStatus.SENT_TO_OUTLET:
        app.sent_to_outlet_at = _now()
    else:
        app.received_at_outlet_at = _now()
    return {"status": app.status}


@registry.operation("application.mark_overdue")
def mark_overdue(ctx: ServiceContext, application_id: int) -> dict:
    """The statutory deadline passed before the applicant was notified (超期)."""
    app = _application(ctx, application_id, for_update=True)
    deadline = _deadline(ctx)
    due = deadline.due_on.isoformat() if deadline and deadline.due_on else None
    if app.notified_at is None:
        app.overdue = True
        log.warning("application %s overdue (deadline %s)", app.number, due)
    return {"overdue": app.overdue, "deadline": due}


@registry.operation("application.finish")
def finish(ctx: ServiceContext, application_id: int, outcome: str, reason: str | None = None,
           detail: str | None = None, handover: dict | None = None,
           blank_card_spoiled: bool = False) -> dict:
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
            raise ServiceError("card_not_ready", "该申领没有已制好的卡", "No finished card for this application")
        card.status = CardStatus.ACTIVE
        card.activated_at = card.activated_at or now
        app.handed_over_at = now
        app.handover = _handover_record(handover or {}, ctx)
        app.status = (ApplicationStatus.HANDED_OVER if outcome == "handed_over"
                      else ApplicationStatus.PICKED_UP)
    elif outcome in ("rejected", "cancelled"):
        app.reason_zh, app.reason_en = reason_texts(reason or outcome, detail)
        if card is not None and card.status in CARD_BEING_MADE:
            card.status = CardStatus.CANCELLED
            card.stopped_at = now
            card.stop_reason = app.reason_zh
        adapters.stock(session).release_blank_card(app.id, spoiled=bool(blank_card_spoiled),
                                                   note=app.reason_zh)
        card_jobs.cancel_open_jobs(session, app.id)
        app.status = (ApplicationStatus.REJECTED if outcome == "rejected"
                      else ApplicationStatus.CANCELLED)
    else:
        raise ServiceError("bad_outcome", f"办结结果无效：{outcome!r}", f"Invalid outcome {outcome!r}")
    app.finished_at = now
    log.info("application %s finished: %s", app.number, app.status)
    return {"status": app.status, "reason": reason}


def _handover_record(form: dict, ctx: ServiceContext) -> dict:
    keep = ("picked_up_by", "proxy_name", "proxy_id_type", "proxy_id_number", "identity_checked",
            "holder_id_checked", "proxy_documents_checked", "receipt_signed", "remarks")
    out = {k: form[k] for k in keep if form.get(k) not in (None, "")}
    out["by"] = ctx.actor.username
    return out


# ------------------------------------------------------------------------------ archive, police

@registry.operation("archive.query")
def archive_query(ctx: ServiceContext, application_id: int) -> dict:
    """通过全省社保卡档案库查询申请人在本省是否已制卡."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    app.status = ApplicationStatus.CHECKING
    record = adapters.archive(ctx.session).find_live_card(app.id_number)
    if record is None:
        return {"has_live_card": False, "being_made": False, "card_number": None, "status": None,
                "matches_form": None, "consent": app.consent_stop_old_card}
    return {"has_live_card": True, "being_made": record.status in CARD_BEING_MADE,
            "card_number": record.card_number_masked, "status": record.status,
            "matches_form": (app.old_card_number or "").upper() == record.card_number,
            "consent": app.consent_stop_old_card}


@registry.operation("archive.stop_old_card")
def archive_stop_old_card(ctx: ServiceContext, application_id: int) -> dict:
    """在本省已制卡的，按照相关规定办理卡的停用手续. The applicant's consent is required: on the
    form, or confirmed in ``confirm_old_card_stop`` (the diagram only comes here then)."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    archive = adapters.archive(ctx.session)
    record = archive.find_live_card(app.id_number)
    if record is None:
        return {"stopped": False, "card_number": None, "status": None}
    try:
        stopped = archive.stop_card(record.card_number,
                                    f"换领新卡（申领编号 {app.number}）", by=ctx.actor.username)
    except adapters.ArchiveError as e:
        raise _service_error(e) from None
    app.consent_stop_old_card = True
    app.old_card_stopped = stopped.card_number
    return {"stopped": True, "card_number": stopped.card_number_masked, "status": stopped.status}


@registry.operation("police.verify")
def police_verify(ctx: ServiceContext, application_id: int) -> dict:
    """与公安部门联网核查: compare name, sex and date of birth with the household register.
    A mismatch is a result (``match: false`` with reasons), not an error: the diagram
    decides. An unreachable register is the retryable error ``police_unavailable``."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    app.status = ApplicationStatus.CHECKING
    app.police_checks = (app.police_checks or 0) + 1
    if app.id_type != "resident_id":
        result = adapters.VerifyResult(False, [adapters.Reason.of("not_resident_id")])
    else:
        try:
            result = adapters.police(ctx.session).verify(app.id_number, app.name, app.sex,
                                                         app.birth_date)
        except adapters.PoliceUnavailable as e:
            raise ServiceError("police_unavailable", "公安联网核查系统暂时无法连接，请稍后重试",
                               "The police register cannot be reached; retry later",
                               retryable=True) from e
    return {**result.as_dict(), "checks": app.police_checks}


# ------------------------------------------------------------------------------ card

@registry.operation("card.allocate")
def card_allocate(ctx: ServiceContext, application_id: int, reserve_blank_card: bool = True,
                  bank_card_number: str | None = None) -> dict:
    """比对成功的，获取卡号，生成完整制卡数据 (and at a window: reserve a blank card)."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    card = app.card
    if card is None or card.status not in CARD_BEING_MADE:
        if rules.live_card_of(session, app.id_number) is not None:
            raise ServiceError("live_card_exists", rules.LiveCardExists.zh, rules.LiveCardExists.en)
        number = adapters.stock(session).allocate_card_number()
        try:
            chip = rules.build_chip_data(app, number, rules.new_card_identifier(session), _today())
        except ProfileError as e:
            zh = "；".join(z for z, _ in e.errors.values())
            en = "; ".join(en for _, en in e.errors.values())
            raise ServiceError("invalid_card_data", f"制卡数据不符合卡规范：{zh}",
                               f"The card data does not fit the card profile: {en}") from None
        card = Card(card_number=number, ssn=chip["ssn"], name=chip["name"], sex=chip["sex"],
                    ethnicity=chip["ethnicity"], birthplace=chip["birthplace"],
                    birth_date=app.birth_date, region_code=rules.REGION_CODE,
                    card_identifier=chip["card_identifier"], card_type=chip["card_type"],
                    spec_version=chip["spec_version"], init_org=chip["init_org"],
                    issue_date=_date(chip["issue_date"]), expiry_date=_date(chip["expiry_date"]),
                    status=CardStatus.NUMBER_ASSIGNED, application_id=app.id)
        try:
            with session.begin_nested():
                session.add(card)
                session.flush()
        except IntegrityError:  # another step got a live card for this person first
            raise ServiceError("live_card_exists", rules.LiveCardExists.zh,
                               rules.LiveCardExists.en) from None
        session.expire(app, ["cards"])
        log.info("card %s allocated to %s", card.card_number_masked, app.id_number_masked)
    result = {"card_id": card.id, "card_number": card.card_number_masked, "bank_card_number": None}
    if reserve_blank_card:
        result.update(reserve_blank_card_op(ctx, application_id, bank_card_number))
    return result


@registry.operation("stock.reserve_blank_card")
def reserve_blank_card_op(ctx: ServiceContext, application_id: int,
                          bank_card_number: str | None = None) -> dict:
    """Take a blank card (半成品卡, with its bank account) from the window's stock."""
    app = _application(ctx, application_id)
    _open(app)
    if not app.window:
        raise ServiceError("no_window", "该申领没有指定制卡窗口", "No producing window for this application")
    try:
        blank = adapters.stock(ctx.session).reserve_blank_card(app.id, app.window,
                                                               bank_card_number or None)
    except adapters.StockError as e:
        raise _service_error(e) from None
    if app.card is not None:
        app.card.bank = blank.bank
    return {"bank_card_number": blank.bank_card_number_masked, "bank": blank.bank}


@registry.operation("card.submit_issue_job")
def submit_issue_job(ctx: ServiceContext, application_id: int,
                     replace_blank_card: bool = False) -> dict:
    """Queue the card job for the card station (outbox, in this step's transaction): write the
    financial data check, print the face, write the social-security data. After a failed
    attempt the same job is queued again (next attempt); ``replace_blank_card`` writes the old
    blank card off and takes another."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    card = app.card
    if card is None or card.status not in CARD_BEING_MADE:
        raise ServiceError("no_card_allocated", "尚未获取卡号", "No card number allocated yet")
    stock = adapters.stock(session)
    blank = stock.reserved_for(app.id)
    if replace_blank_card and blank is not None:
        stock.release_blank_card(app.id, spoiled=True, note="制卡失败报废")
        blank = None
    if blank is None:
        try:
            blank = stock.reserve_blank_card(app.id, app.window)
        except adapters.StockError as e:
            raise _service_error(e) from None
    card.bank = blank.bank
    payload = {"card": card.chip_data(), "face": rules.card_face(card, blank.bank),
               "expected_bank_card_number": blank.bank_card_number}
    job = session.scalars(select(CardJob).where(CardJob.card_id == card.id, CardJob.kind == "issue")
                          .order_by(CardJob.id.desc())).first()
    if job is not None and job.state == JobState.FAILED:
        card_jobs.requeue(job, payload)
    elif job is None or job.state in (JobState.CANCELLED,):
        job = CardJob(instance_id=ctx.instance_id, application_id=app.id, card_id=card.id,
                      kind="issue", window=app.window, payload=payload, state=JobState.QUEUED)
        session.add(job)
    elif job.state == JobState.QUEUED:
        job.payload = payload
    # claimed or done: a retried step, the job is already on its way
    card.status = CardStatus.IN_PRODUCTION
    app.status = ApplicationStatus.IN_PRODUCTION
    session.flush()
    log.info("card job %s queued for %s (blank card %s)", job.id, app.number,
             mask_id(blank.bank_card_number))
    return {"job_id": job.id, "attempt": (job.attempts or 0) + 1,
            "bank_card_number": blank.bank_card_number_masked}


@registry.operation("card.mark_issued")
def mark_issued(ctx: ServiceContext, application_id: int, job_id: int) -> dict:
    """The station reported the card made and verified: the card is issued, not yet active
    (未启用) until it is in the holder's hands; the blank card is used up."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    job = card_jobs.find_job(session, job_id)
    card = app.card
    if job is None or job.application_id != app.id or job.state != JobState.DONE:
        raise ServiceError("job_not_done", "制卡任务未成功完成", "The card job did not finish successfully")
    if card is None:
        raise ServiceError("no_card_allocated", "尚未获取卡号", "No card number allocated yet")
    if card.status in (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE):
        return {"card_number": card.card_number_masked, "status": card.status}  # retried step
    expected = (job.payload or {}).get("expected_bank_card_number")
    result = job.result or {}
    read_back = (result.get("card") or {}).get("card_number")
    reported_bank = result.get("bank_card_number")
    if (read_back and read_back != card.card_number) or (
            reported_bank and expected and reported_bank != expected):
        raise ServiceError("card_result_mismatch", "工作站回报的卡号或银行卡号与制卡任务不一致，卡片不得发放",
                           "The station reported another card or bank account than the job's; "
                           "the card must not be handed out")
    stock = adapters.stock(session)
    blank = stock.mark_used(app.id)
    now = _now()
    card.status = CardStatus.NOT_ACTIVATED
    card.bank = blank.bank
    card.bank_card_number = blank.bank_card_number
    card.issued_at = now
    app.status = ApplicationStatus.PRODUCED
    app.produced_at = now
    return {"card_number": card.card_number_masked, "status": card.status,
            "bank_card_number": blank.bank_card_number_masked}


# ------------------------------------------------------------------------------ SMS

PICKUP_TEXT = ("{sig}{name}您好，您申领的社会保障卡（申领编号{number}）已到{point}，"
               "请本人携带身份证原件前来领取；他人代领须携带双方身份证原件及户口簿。")


@registry.operation("sms.notify_pickup")
def notify_pickup(ctx: ServiceContext, application_id: int) -> dict:
    """代办网点通过手机短信通知申请人领卡; the 15-working-day limit ends here (notified_at)."""
    from app.adapters.sms import SIGNATURE
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    text = PICKUP_TEXT.format(sig=SIGNATURE, name=app.name, number=app.number,
                              point=app.service_point_name)
    try:
        sms_id = adapters.sms(ctx.session).send(app.mobile, text, application_id=app.id)
    except adapters.SmsError as e:
        raise _service_error(e) from None
    now = _now()
    app.notified_at = now
    app.status = ApplicationStatus.NOTIFIED
    local = now.astimezone(rules.CHINA_TZ).date()
    deadline = _deadline(ctx)
    on_time = deadline is None or deadline.due_on is None or local <= deadline.due_on
    if not on_time:
        app.overdue = True
    return {"sms_id": sms_id, "notified_at": now.isoformat(), "on_time": on_time,
            "mobile": app.mobile_masked}



# ------------------------------------------------------------------------------ case cancelled

def cancel_for_instance(session, instance_id: int, actor: Actor, reason: str | None = None) -> dict | None:
    """For the web/API layer after ``runtime.cancel_instance`` (撤销办件), in the same
    transaction: the application of that case ends as ``cancelled`` (card being made cancelled,
    blank card back to stock, open card jobs cancelled). None when the case has no application
    yet or it is already closed."""
    app = session.scalars(select(Application).where(Application.instance_id == instance_id)).first()
    if app is None or app.status in FINAL_APPLICATION_STATES:
        return None
    ctx = ServiceContext(session=session, instance_id=instance_id, business_key=app.number,
                         process_key="", task_name="cancel", actor=actor)
    return finish(ctx, app.id, "cancelled", reason="case_cancelled", detail=reason)
