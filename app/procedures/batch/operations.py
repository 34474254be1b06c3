"""Service operations of the batch procedures 批量制卡服务操作 (``processes/batch/*.bpmn``).

Each runs inside the step's transaction; a refused domain rule becomes a ``ServiceError`` the
diagram may catch. Work on many rows or many cases (opening 2,000 employer cases, telling
them their cards arrived) is queued as a background job in the same transaction: it starts
once the step has committed, one case per step.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.common.clock import CHINA_TZ
from app.common.errors import BilingualError
from app.engine import clock, jobs, ports
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.batch.models import Batch, Employer
from app.procedures.batch.states import BatchStatus, EmployerStatus

EMPLOYER_PROCESS = "employer_application"


def china_today():
    """The step's day in China (the engine's clock: a test or a timer fixes it)."""
    return clock.now().astimezone(CHINA_TZ).date()


def _batch(ctx: ServiceContext, batch_id) -> Batch:
    batch = ctx.session.get(Batch, int(batch_id))
    if batch is None:
        raise ServiceError("not_found", f"批次 {batch_id} 不存在", f"Batch {batch_id} does not exist")
    return batch


def _employer(ctx: ServiceContext, employer_id) -> Employer:
    employer = ctx.session.get(Employer, int(employer_id))
    if employer is None:
        raise ServiceError("not_found", f"单位申领 {employer_id} 不存在",
                           f"Employer application {employer_id} does not exist")
    return employer


def _rule(call):
    """A domain rule's refusal as the ServiceError a diagram catches."""
    try:
        return call()
    except BilingualError as e:
        if isinstance(e, ServiceError):
            raise
        raise ServiceError.of(e) from None


# -- the batch 制卡批次 ------------------------------------------------------------------

@registry.operation("batch.release", results=("employers", "return_by"), errors=("not_checked",))
def release(ctx: ServiceContext, batch_id: int, return_working_days: int) -> dict:
    """下发单位: open one employer application per employer with eligible persons (a job)."""
    batch = _batch(ctx, batch_id)
    if batch.status != BatchStatus.CHECKED:
        raise ServiceError("not_checked", "批次尚未完成导入比对，不能下发",
                           "The batch has not finished its checks")
    days = int(return_working_days)
    try:
        batch.return_by = ports.calendar(ctx.session).add_working_days(china_today(), days)
    except ports.YearNotEntered:
        batch.return_by = None  # the employer cases' timers wait for the calendar year
    batch.status = BatchStatus.CONFIRMING
    jobs.enqueue(ctx.session, "batch.open_employers", {"batch_id": batch.id, "days": days},
                 ctx.actor.username, subject=f"batch:{batch.id}")
    return {"employers": _eligible_employers(ctx.session, batch.id),
            "return_by": batch.return_by.isoformat() if batch.return_by else None}


def _eligible_employers(session, batch_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Employer).where(
        Employer.batch_id == batch_id, Employer.eligible > 0))


@registry.operation("batch.send_to_production", results=("sent", "employers"))
def send_to_production(ctx: ServiceContext, batch_id: int) -> dict:
    """送制卡厂: the persons of employers that applied go to the manufacturer; the embedded
    manufacturer answers at once, a real one later (the delivery round reads it)."""
    from app.procedures.batch import production
    batch = _batch(ctx, batch_id)
    order = _rule(lambda: production.send_to_manufacturer(ctx.session, batch.id, ctx.actor.username))
    if order is None:
        return {"sent": 0, "employers": 0}
    batch.status = BatchStatus.IN_PRODUCTION
    delivered = _rule(lambda: production.receive_delivery(ctx.session, order.id))
    announce_delivery(ctx, batch.id)
    return {"sent": order.persons, "employers": int(delivered.get("employers", 0))
            if isinstance(delivered, dict) else 0}


def announce_delivery(ctx: ServiceContext, batch_id: int) -> None:
    """Tell the employer cases whose cards arrived (a job: one message step per case)."""
    jobs.enqueue(ctx.session, "batch.announce_delivery", {"batch_id": batch_id},
                 ctx.actor.username, subject=f"batch:{batch_id}")


@registry.operation("batch.close", results=("status",), errors=("employers_open",))
def close(ctx: ServiceContext, batch_id: int) -> dict:
    """结束批次: refused while an employer application has not told its agents yet."""
    batch = _batch(ctx, batch_id)
    open_ = ctx.session.scalar(select(Employer.id).where(
        Employer.batch_id == batch.id, Employer.eligible > 0,
        Employer.status.not_in((EmployerStatus.NOTIFIED,))).limit(1))
    if open_ is not None:
        raise ServiceError("employers_open", "还有单位申领未办结（未通知领卡），不能结束批次",
                           "Some employer applications are not finished yet")
    batch.status = BatchStatus.CLOSED
    return {"status": batch.status}


# -- the employer application 单位申领 ----------------------------------------------------

@registry.operation("batch.employer_open",
                    results=("has_voucher", "reminder_days", "opened_on", "employer_name"))
def employer_open(ctx: ServiceContext, employer_id: int, return_working_days: int) -> dict:
    """The employer's case begins: it owns the employer's row from now on."""
    from app.procedures.batch.voucher import current_voucher
    employer = _employer(ctx, employer_id)
    employer.instance_id = ctx.instance_id
    employer.status = EmployerStatus.CONFIRMING
    days = int(return_working_days)
    return {"has_voucher": current_voucher(ctx.session, employer.code) is not None,
            "reminder_days": max(days - 2, 1), "opened_on": china_today().isoformat(),
            "employer_name": employer.name}


@registry.operation("batch.returned_in_time", results=("returned",))
def returned_in_time(ctx: ServiceContext, employer_id: int) -> dict:
    """At the return date: did the employer hand in its forms (the summary reconciled)?"""
    employer = _employer(ctx, employer_id)
    return {"returned": employer.applied_at is not None}


@registry.operation("batch.record_voucher", results=("version",), errors=("voucher_invalid",))
def record_voucher(ctx: ServiceContext, employer_id: int, voucher: dict) -> dict:
    """登记申领凭证 from the task form (``voucher``: the form's fields)."""
    from app.procedures.batch import voucher as vouchers
    employer = _employer(ctx, employer_id)
    agents = [{"slot": n, "name": voucher.get(f"agent{n}_name"),
               "office_phone": voucher.get(f"agent{n}_office_phone"),
               "mobile": voucher.get(f"agent{n}_mobile"),
               "id_number": voucher.get(f"agent{n}_id_number")}
              for n in (1, 2, 3) if voucher.get(f"agent{n}_name")]
    row = _rule(lambda: vouchers.record_voucher(
        ctx.session, employer.code, voucher.get("employer_name") or employer.name, agents,
        ctx.actor.username, phone=voucher.get("phone"), address=voucher.get("address"),
        postcode=voucher.get("postcode"), filled_by=voucher.get("filled_by")))
    return {"version": row.version}


@registry.operation("batch.reconcile", results=("agreed", "differences"))
def reconcile(ctx: ServiceContext, employer_id: int, forms_received: int, forms_returned: int) -> dict:
    """清点确认表并与申领汇总表核对: agreed → the application counts as made (review next)."""
    from app.procedures.batch import reconcile as rec
    employer = _employer(ctx, employer_id)
    differences = _rule(lambda: rec.reconcile(ctx.session, employer.id, employer.declared or {},
                                              int(forms_received), int(forms_returned),
                                              ctx.actor.username))
    employer.status = EmployerStatus.ENTERING if differences else EmployerStatus.REVIEWING
    return {"agreed": not differences, "differences": len(differences)}


@registry.operation("batch.finish_review", results=("sent_back", "submitted"), errors=("not_reviewed",))
def finish_review(ctx: ServiceContext, employer_id: int) -> dict:
    """After the review: entries sent back return to the clerk; otherwise the application is
    submitted and the persons' basic data frozen until the cards are issued (N §4.3)."""
    from app.procedures.batch import entry
    employer = _employer(ctx, employer_id)
    waiting = entry.open_for_review(ctx.session, employer.id)
    if waiting:
        raise ServiceError("not_reviewed", f"还有 {waiting} 人的录入未复核",
                           f"{waiting} entries are not reviewed yet")
    back = len(entry.sent_back(ctx.session, employer.id))
    if back:
        employer.status = EmployerStatus.ENTERING
        return {"sent_back": back, "submitted": 0}
    submitted = _rule(lambda: entry.submit(ctx.session, employer.id, ctx.actor.username))
    return {"sent_back": 0, "submitted": submitted}


@registry.operation("batch.remind_return", results=("sms",))
def remind_return(ctx: ServiceContext, employer_id: int) -> dict:
    """到期前提醒: an SMS to each agent of the employer's voucher."""
    from app.procedures.batch.notices import remind_agents
    employer = _employer(ctx, employer_id)
    return {"sms": remind_agents(ctx.session, employer)}


@registry.operation("batch.accept_delivery", results=("complete", "accepted", "missing", "damaged"),
                    errors=("acceptance_refused",))
def accept_delivery(ctx: ServiceContext, employer_id: int, scanned: str, damaged: str | None = None) -> dict:
    """到货验收: the counted card numbers against the employer's delivered cards."""
    from app.procedures.batch import production
    employer = _employer(ctx, employer_id)
    try:
        result = production.accept_delivery(ctx.session, employer.id, (scanned or "").split(),
                                            (damaged or "").split(), ctx.actor.username)
    except BilingualError as e:
        raise ServiceError("acceptance_refused", e.message_zh, e.message_en) from None
    if result.remake_order:  # the embedded manufacturer delivers the remake at once
        from app.procedures.batch.models import ProductionOrder
        order = ctx.session.scalars(select(ProductionOrder)
                                    .where(ProductionOrder.number == result.remake_order)).one()
        _rule(lambda: production.receive_delivery(ctx.session, order.id))
        announce_delivery(ctx, employer.batch_id)
    return {"complete": result.complete, "accepted": len(result.accepted),
            "missing": len(result.missing), "damaged": len(result.damaged)}


@registry.operation("batch.notify_agents", results=("sms",), errors=("no_agents",))
def notify_agents(ctx: ServiceContext, employer_id: int) -> dict:
    """通知单位领卡: an SMS to the employer's agents."""
    from app.procedures.batch import production
    employer = _employer(ctx, employer_id)
    return {"sms": _rule(lambda: production.notify_agents(ctx.session, employer.id))}

