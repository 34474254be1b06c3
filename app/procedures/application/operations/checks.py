"""The checks (核查): the provincial card archive and the police household register."""

from __future__ import annotations

from datetime import date

import app.adapters as adapters
from app.cards import archive as card_archive
from app.cards.states import CARD_BEING_MADE
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.application.operations.common import (
    _application,
    _open,
)
from app.procedures.application.reasons import POLICE_FIELDS, police_may_pass_again
from app.procedures.application.replacement import (EXCHANGE_STOP_REASON, old_card_of,
                                                    queue_block_job)
from app.procedures.application.states import ApplicationStatus, Purpose

# ------------------------------------------------------------------------------ archive, police


@registry.operation(
    "archive.query",
    results=("has_live_card", "being_made", "card_number", "status", "matches_form", "consent"),
)
def archive_query(ctx: ServiceContext, application_id: int) -> dict:
    """通过全省社保卡档案库查询申请人在本省是否已制卡."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    app.status = ApplicationStatus.CHECKING
    record = card_archive.archive(ctx.session).find_live_card(app.id_number)
    if record is None:
        return {
            "has_live_card": False,
            "being_made": False,
            "card_number": None,
            "status": None,
            "matches_form": None,
            "consent": app.consent_stop_old_card,
        }
    return {
        "has_live_card": True,
        "being_made": record.status in CARD_BEING_MADE,
        "card_number": record.card_number_masked,
        "status": record.status,
        "matches_form": (app.old_card_number or "").upper() == record.card_number,
        "consent": app.consent_stop_old_card,
    }


@registry.operation(
    "archive.stop_old_card",
    results=("stopped", "card_number", "status", "block_job_id"),
    errors=("card_in_production", "card_not_live", "card_unknown"),
)
def archive_stop_old_card(ctx: ServiceContext, application_id: int) -> dict:
    """在本省已制卡的，按照相关规定办理卡的停用手续. The applicant's consent is required: on the
    form, or confirmed in ``confirm_old_card_stop`` (the diagram only comes here then).

    换卡 (exchange): the card handed in is stopped with the reason 换卡 and a card job ``block``
    is queued at the producing window to lock it on the chip (no case waits for it)."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    archive = card_archive.archive(ctx.session)
    record = archive.find_live_card(app.id_number)
    if record is None:
        return {"stopped": False, "card_number": None, "status": None, "block_job_id": None}
    exchange = app.purpose == Purpose.EXCHANGE and record.card_number == app.old_card_number
    reason = EXCHANGE_STOP_REASON if exchange else "换领新卡"
    try:
        stopped = archive.stop_card(
            record.card_number, f"{reason}（申领编号 {app.number}）", by=ctx.actor.username
        )
    except card_archive.ArchiveError as e:
        raise ServiceError.of(e) from None
    app.consent_stop_old_card = True
    app.old_card_stopped = stopped.card_number
    job = queue_block_job(ctx.session, app, old_card_of(ctx.session, stopped.card_number)) \
        if exchange else None
    return {"stopped": True, "card_number": stopped.card_number_masked, "status": stopped.status,
            "block_job_id": job.id if job is not None else None}


@registry.operation(
    "police.verify",
    results=("match", "reasons", "checks", "fields", "retry"),
    errors=("police_unavailable",),
)
def police_verify(ctx: ServiceContext, application_id: int) -> dict:
    """与公安部门联网核查: compare name, sex and date of birth with the household register.
    A mismatch is a result (``match: false`` with reasons), not an error: the diagram
    decides. An unreachable register is the retryable error ``police_unavailable``.

    For the clerk's correction task the result also says which fields differ (``fields``:
    ``{field, register, form}``, the register's value where the register tells it, never an
    ID number) and whether a correction on the spot can make the next check pass (``retry``:
    not for a household elsewhere or a number the register does not know)."""
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    app.status = ApplicationStatus.CHECKING
    app.police_checks = (app.police_checks or 0) + 1
    register = None
    if app.id_type != "resident_id":
        result = adapters.VerifyResult(False, [adapters.Reason.of("not_resident_id")])
    else:
        register = adapters.police(ctx.session)
        try:
            result = register.verify(app.id_number, app.name, app.sex, app.birth_date)
        except adapters.PoliceUnavailable as e:
            raise ServiceError(
                "police_unavailable",
                "公安联网核查系统暂时无法连接，请稍后重试",
                "The police register cannot be reached; retry later",
                retryable=True,
            ) from e
    codes = [r.code for r in result.reasons]
    return {**result.as_dict(), "checks": app.police_checks,
            "fields": _differing_fields(ctx, register, result, app),
            "retry": bool(result.match) or police_may_pass_again(codes)}


def _differing_fields(ctx: ServiceContext, register, result, app) -> list[dict]:
    """``[{field, register, form}]`` of the fields the register names as differing: the value
    the check used and the register's own (None where the register does not tell it)."""
    registered = {k: _plain(v) for k, v in (result.registered or {}).items()}
    return [{"field": f, "register": registered.get(f), "form": _plain(getattr(app, f))}
            for f in (POLICE_FIELDS[r.code] for r in result.reasons if r.code in POLICE_FIELDS)]


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value
