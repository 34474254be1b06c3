"""Making the card (制卡): card number and data, the blank card from stock, the card job for
the station at the desk, the card made."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.cards import jobs as card_jobs
from app.cards import rules
from app.cards import stock as card_stock
from app.cards.models import Card, CardJob
from app.cards.states import CARD_BEING_MADE, CardStatus, JobState
from app.common.masking import mask_id
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.application.operations.common import (
    _application,
    _date,
    _now,
    _open,
    _today,
    log,
)
from app.procedures.application.models import Application
from app.procedures.application.replacement import cancel_lost_card
from app.procedures.application.states import ApplicationStatus
from hardware.errors import ProfileError



@card_jobs.photo_source
def _applicant_photo(session, job: CardJob) -> bytes | None:
    """The card face carries the applicant's photo from the application (never kept in the job)."""
    if job.application_id is None:
        return None
    return session.scalar(select(Application.photo).where(Application.id == job.application_id))

# ------------------------------------------------------------------------------ card


@registry.operation(
    "card.allocate",
    results=("card_id", "card_number", "bank_card_number"),
    errors=("live_card_exists", "invalid_card_data", "no_blank_card"),
)
def card_allocate(
    ctx: ServiceContext,
    application_id: int,
    reserve_blank_card: bool = True,
    bank_card_number: str | None = None,
) -> dict:
    """比对成功的，获取卡号，生成完整制卡数据 (and at a window: reserve a blank card). The new
    card carries the applicant's social security number (= ID number) and a new random card
    number; for a replacement 补卡 the formally lost old card becomes 挂失后注销 now."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    card = app.card
    if card is None or card.status not in CARD_BEING_MADE:
        if rules.live_card_of(session, app.id_number) is not None:
            raise ServiceError.of(rules.LiveCardExists())
        number = card_stock.stock(session).allocate_card_number()
        try:
            chip = rules.build_chip_data(app, number, rules.new_card_identifier(session), _today())
        except ProfileError as e:
            zh = "；".join(z for z, _ in e.errors.values())
            en = "; ".join(en for _, en in e.errors.values())
            raise ServiceError(
                "invalid_card_data",
                f"制卡数据不符合卡规范：{zh}",
                f"The card data does not fit the card profile: {en}",
            ) from None
        card = Card(
            card_number=number,
            ssn=chip["ssn"],
            name=chip["name"],
            sex=chip["sex"],
            ethnicity=chip["ethnicity"],
            birthplace=chip["birthplace"],
            birth_date=app.birth_date,
            region_code=rules.REGION_CODE,
            card_identifier=chip["card_identifier"],
            card_type=chip["card_type"],
            spec_version=chip["spec_version"],
            init_org=chip["init_org"],
            issue_date=_date(chip["issue_date"]),
            expiry_date=_date(chip["expiry_date"]),
            status=CardStatus.NUMBER_ASSIGNED,
            application_id=app.id,
        )
        try:
            with session.begin_nested():
                session.add(card)
                session.flush()
        except IntegrityError:  # another step got a live card for this person first
            raise ServiceError.of(rules.LiveCardExists()) from None
        session.expire(app, ["cards"])
        log.info("card %s allocated to %s", card.card_number_masked, app.id_number_masked)
        cancel_lost_card(session, app, _now())
    result = {"card_id": card.id, "card_number": card.card_number_masked, "bank_card_number": None}
    if reserve_blank_card:
        result.update(reserve_blank_card_op(ctx, application_id, bank_card_number))
    return result


@registry.operation(
    "stock.reserve_blank_card",
    results=("bank_card_number", "bank"),
    errors=("no_blank_card", "blank_card_unknown", "blank_card_not_available", "wrong_window",
            "no_window"),
)
def reserve_blank_card_op(
    ctx: ServiceContext, application_id: int, bank_card_number: str | None = None
) -> dict:
    """Take a blank card (半成品卡, with its bank account) from the window's stock."""
    app = _application(ctx, application_id)
    _open(app)
    if not app.window:
        raise ServiceError(
            "no_window", "该申领没有指定制卡窗口", "No producing window for this application"
        )
    try:
        blank = card_stock.stock(ctx.session).reserve_blank_card(
            app.id, app.window, bank_card_number or None
        )
    except card_stock.StockError as e:
        raise ServiceError.of(e) from None
    if app.card is not None:
        app.card.bank = blank.bank
    return {"bank_card_number": blank.bank_card_number_masked, "bank": blank.bank}


@registry.operation(
    "card.submit_issue_job",
    results=("job_id", "attempt"),
    errors=("no_blank_card", "no_card_allocated"),
)
def submit_issue_job(
    ctx: ServiceContext, application_id: int, replace_blank_card: bool = False
) -> dict:
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
    stock = card_stock.stock(session)
    blank = stock.reserved_for(app.id)
    if replace_blank_card and blank is not None:
        stock.release_blank_card(app.id, spoiled=True, note="制卡失败报废")
        blank = None
    if blank is None:
        try:
            blank = stock.reserve_blank_card(app.id, app.window)
        except card_stock.StockError as e:
            raise ServiceError.of(e) from None
    card.bank = blank.bank
    payload = {
        "card": card.chip_data(),
        "face": rules.card_face(card, blank.bank),
        "expected_bank_card_number": blank.bank_card_number,
    }
    job = session.scalars(
        select(CardJob)
        .where(CardJob.card_id == card.id, CardJob.kind == "issue")
        .order_by(CardJob.id.desc())
    ).first()
    if job is not None and job.state == JobState.FAILED:
        card_jobs.requeue(job, payload)
    elif job is None or job.state in (JobState.CANCELLED,):
        job = CardJob(
            instance_id=ctx.instance_id,
            application_id=app.id,
            card_id=card.id,
            kind="issue",
            window=app.window,
            payload=payload,
            state=JobState.QUEUED,
        )
        session.add(job)
    elif job.state == JobState.QUEUED:
        job.payload = payload
    # claimed or done: a retried step, the job is already on its way
    card.status = CardStatus.IN_PRODUCTION
    app.status = ApplicationStatus.IN_PRODUCTION
    session.flush()
    log.info(
        "card job %s queued for %s (blank card %s)",
        job.id,
        app.number,
        mask_id(blank.bank_card_number),
    )
    return {
        "job_id": job.id,
        "attempt": (job.attempts or 0) + 1,
        "bank_card_number": blank.bank_card_number_masked,
    }


@registry.operation(
    "card.mark_issued",
    results=("card_number", "status", "bank_card_number"),
    errors=("card_result_mismatch", "job_not_done", "no_card_allocated"),
)
def mark_issued(ctx: ServiceContext, application_id: int, job_id: int) -> dict:
    """The station reported the card made and verified: the card is issued, not yet active
    (未启用) until it is in the holder's hands; the blank card is used up."""
    session = ctx.session
    app = _application(ctx, application_id, for_update=True)
    _open(app)
    job = card_jobs.find_job(session, job_id)
    card = app.card
    if job is None or job.application_id != app.id or job.state != JobState.DONE:
        raise ServiceError(
            "job_not_done", "制卡任务未成功完成", "The card job did not finish successfully"
        )
    if card is None:
        raise ServiceError("no_card_allocated", "尚未获取卡号", "No card number allocated yet")
    if card.status in (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE):
        return {"card_number": card.card_number_masked, "status": card.status}  # retried step
    expected = (job.payload or {}).get("expected_bank_card_number")
    result = job.result or {}
    read_back = (result.get("card") or {}).get("card_number")
    reported_bank = result.get("bank_card_number")
    if (read_back and read_back != card.card_number) or (
        reported_bank and expected and reported_bank != expected
    ):
        raise ServiceError(
            "card_result_mismatch",
            "工作站回报的卡号或银行卡号与制卡任务不一致，卡片不得发放",
            "The station reported another card or bank account than the job's; "
            "the card must not be handed out",
        )
    stock = card_stock.stock(session)
    blank = stock.mark_used(app.id)
    now = _now()
    card.status = CardStatus.NOT_ACTIVATED
    card.bank = blank.bank
    card.bank_card_number = blank.bank_card_number
    card.issued_at = now
    app.status = ApplicationStatus.PRODUCED
    app.produced_at = now
    return {
        "card_number": card.card_number_masked,
        "status": card.status,
        "bank_card_number": blank.bank_card_number_masked,
    }
