"""Service operations of the distribution procedures 发放服务操作 (``processes/distribution/``).

Each runs in the step's transaction; a refused rule becomes a ``ServiceError`` that the
diagram catches to send the clerk back to the task with the reason on the page. Opening the
correction cases of a return is a background job (one case per step).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.common.clock import CHINA_TZ
from app.common.errors import BilingualError
from app.common.masking import mask_card_number
from app.engine import clock, jobs, ports
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.batch.models import Employer, Person
from app.procedures.distribution.models import DataCorrection, EmployerPickup, PickupCard
from app.procedures.distribution.states import Custody, PickupStatus


def china_today():
    """The step's day in China (the engine's clock: a test or a timer fixes it)."""
    return clock.now().astimezone(CHINA_TZ).date()


def _rule(call):
    """A domain rule's refusal as the ServiceError a diagram catches."""
    try:
        return call()
    except ServiceError:
        raise
    except BilingualError as e:
        raise ServiceError.of(e) from None


def _pickup(ctx: ServiceContext, pickup_id) -> EmployerPickup:
    pickup = ctx.session.get(EmployerPickup, int(pickup_id))
    if pickup is None:
        raise ServiceError("not_found", f"领卡记录 {pickup_id} 不存在", f"Pickup {pickup_id} does not exist")
    return pickup


# -- the employer's pickup 单位领卡 ------------------------------------------------------------

@registry.operation("distribution.check_agent", results=("pickup_id", "number"))
def check_agent(ctx: ServiceContext, employer_id: int, agent_name: str, agent_id_number: str,
                shown_id_number: str, seal_checked: bool) -> dict:
    """核收介绍信，检验领卡人身份: the agent on the letter, the ID shown and the current voucher."""
    from app.procedures.distribution import pickup
    row = _rule(lambda: pickup.check_agent(
        ctx.session, int(employer_id), agent_name=agent_name, agent_id=agent_id_number,
        shown_id=shown_id_number, seal_checked=bool(seal_checked), actor_name=ctx.actor.username,
        office=ctx.actor.office, instance_id=ctx.instance_id))
    return {"pickup_id": row.id, "number": row.number}


@registry.operation("distribution.count_cards", results=("cards",), errors=("count_differs",))
def count_cards(ctx: ServiceContext, pickup_id: int, scanned: str) -> dict:
    """当面清点: the numbers counted must equal the list; the differences are the refusal."""
    from app.procedures.distribution import pickup
    return _rule(lambda: pickup.count_cards(ctx.session, _pickup(ctx, pickup_id).id,
                                            (scanned or "").split(), ctx.actor.username))


@registry.operation("distribution.hand_over", results=("handed_over_on", "distribute_by", "return_by"))
def hand_over(ctx: ServiceContext, pickup_id: int) -> dict:
    """双方签字后领卡: the cards are the employer's from now; the two deadlines start."""
    from app.procedures.distribution import pickup
    today = china_today()
    row = _rule(lambda: pickup.hand_over(ctx.session, _pickup(ctx, pickup_id).id, ctx.actor.username,
                                         today=today, calendar=ports.calendar(ctx.session)))
    return {"handed_over_on": today.isoformat(),
            "distribute_by": row.distribute_by.isoformat() if row.distribute_by else None,
            "return_by": row.return_by.isoformat() if row.return_by else None}


def _outstanding(ctx: ServiceContext, pickup: EmployerPickup) -> int:
    """Cards of the pickup still with the employer."""
    from app.procedures.distribution.models import CardCustody
    return ctx.session.scalar(select(func.count()).select_from(PickupCard)
                              .join(CardCustody, CardCustody.card_id == PickupCard.card_id)
                              .where(PickupCard.pickup_id == pickup.id,
                                     CardCustody.state == Custody.WITH_EMPLOYER))


@registry.operation("distribution.roster_done", results=("outstanding",), errors=("roster_incomplete",))
def roster_done(ctx: ServiceContext, pickup_id: int) -> dict:
    """发放花名册交回: every line recorded; what is not with its holder waits for the return."""
    pickup = _pickup(ctx, pickup_id)
    missing = ctx.session.scalar(select(func.count()).select_from(PickupCard).where(
        PickupCard.pickup_id == pickup.id, PickupCard.outcome.is_(None)))
    if missing:
        raise ServiceError("roster_incomplete", f"发放花名册还有 {missing} 人未登记（签字领取、未发出或信息错误）",
                           f"{missing} lines of the roster are not recorded yet")
    return {"outstanding": _outstanding(ctx, pickup)}


@registry.operation("distribution.return_done", results=("outstanding", "corrections"),
                    errors=("nothing_returned",))
def return_done(ctx: ServiceContext, pickup_id: int) -> dict:
    """退卡回收: the cards with wrong data open their correction cases (a job)."""
    from app.procedures.distribution.models import CardReturn
    pickup = _pickup(ctx, pickup_id)
    if ctx.session.scalar(select(func.count()).select_from(CardReturn)
                          .where(CardReturn.pickup_id == pickup.id)) == 0:
        raise ServiceError("nothing_returned", "尚未登记任何退回的卡：请先在退卡页面逐张登记",
                           "No returned card is recorded yet: record them on the return page first")
    waiting = ctx.session.scalar(select(func.count()).select_from(DataCorrection)
                                 .where(DataCorrection.instance_id.is_(None)))
    if waiting:
        jobs.enqueue(ctx.session, "distribution.open_corrections", {}, ctx.actor.username,
                     subject="distribution:corrections")
    outstanding = _outstanding(ctx, pickup)
    if outstanding == 0:
        pickup.status, pickup.closed_at = PickupStatus.CLOSED, clock.now()
    return {"outstanding": outstanding, "corrections": waiting}


def _sms_to_agents(ctx: ServiceContext, pickup: EmployerPickup, text: str) -> int:
    from app.procedures.batch.notices import sms_to_agents
    sent, _agents = sms_to_agents(ctx.session, ctx.session.get(Employer, pickup.employer_id), text)
    return sent


@registry.operation("distribution.remind_distribution", results=("sms",))
def remind_distribution(ctx: ServiceContext, pickup_id: int) -> dict:
    """发放时限前提醒, unless the signed roster is back already."""
    pickup = _pickup(ctx, pickup_id)
    if pickup.roster_back_at is not None or pickup.distribute_by is None:
        return {"sms": 0}
    employer = ctx.session.get(Employer, pickup.employer_id)
    day = f"{pickup.distribute_by.month}月{pickup.distribute_by.day}日"
    return {"sms": _sms_to_agents(ctx, pickup, (
        f"{employer.name}：请于{day}前将领取的社会保障卡发放到职工本人（本人签字），"
        "并将签字盖章的发放花名册交回社保卡中心。"))}


@registry.operation("distribution.remind_return", results=("sms",))
def remind_return(ctx: ServiceContext, pickup_id: int) -> dict:
    """退卡时限前提醒, when cards are still with the employer."""
    pickup = _pickup(ctx, pickup_id)
    outstanding = _outstanding(ctx, pickup)
    if not outstanding or pickup.return_by is None:
        return {"sms": 0}
    employer = ctx.session.get(Employer, pickup.employer_id)
    day = f"{pickup.return_by.year}年{pickup.return_by.month}月{pickup.return_by.day}日"
    return {"sms": _sms_to_agents(ctx, pickup, (
        f"{employer.name}：贵单位尚有 {outstanding} 张社会保障卡未发出，请于{day}前连同"
        "《社保卡退回登记表》退回社保卡中心。"))}


@registry.operation("distribution.return_overdue", results=("overdue", "outstanding"))
def return_overdue(ctx: ServiceContext, pickup_id: int) -> dict:
    """退卡时限届满: are cards still with the employer (a manager follows it up)?"""
    pickup = _pickup(ctx, pickup_id)
    outstanding = _outstanding(ctx, pickup)
    return {"overdue": outstanding > 0, "outstanding": outstanding}


# -- the counter 个人领卡 / 代领 ----------------------------------------------------------------

@registry.operation("distribution.hand_to_holder", results=("card", "holder_name"))
def hand_to_holder(ctx: ServiceContext, card: str, who: str, holder_id_seen: bool,
                   holder_household_seen: bool = False, proxy_name: str | None = None,
                   proxy_id_number: str | None = None, proxy_id_seen: bool = False,
                   proxy_household_seen: bool = False) -> dict:
    """个人领卡或代领: the documents seen; a card goes to its holder once."""
    from app.procedures.distribution import holder
    number = (card or "").strip().upper()
    by_card = len(number) == 9
    row = _rule(lambda: holder.hand_to_holder(
        ctx.session, card_number=number if by_card else None, id_number=None if by_card else number,
        by_proxy=who == "proxy", holder_id_seen=bool(holder_id_seen),
        holder_household_seen=bool(holder_household_seen), proxy_name=proxy_name or None,
        proxy_id_number=proxy_id_number or None, proxy_id_seen=bool(proxy_id_seen),
        proxy_household_seen=bool(proxy_household_seen), actor_name=ctx.actor.username,
        instance_id=ctx.instance_id))
    from app.cards.models import Card
    person = ctx.session.get(Person, row.person_id)
    return {"card": mask_card_number(ctx.session.get(Card, row.card_id).card_number),
            "holder_name": person.name}


# -- the correction within a week 信息更正 ------------------------------------------------------

def _correction(ctx: ServiceContext, correction_id) -> DataCorrection:
    row = ctx.session.get(DataCorrection, int(correction_id))
    if row is None:
        raise ServiceError("not_found", f"更正记录 {correction_id} 不存在",
                           f"Correction {correction_id} does not exist")
    return row


@registry.operation("distribution.correction_opened", results=("returned_on", "due_on"))
def correction_opened(ctx: ServiceContext, correction_id: int) -> dict:
    """The correction's case begins: it owns the row from now on."""
    row = _correction(ctx, correction_id)
    row.instance_id = ctx.instance_id
    returned_on = row.due_on - timedelta(days=7)
    return {"returned_on": returned_on.isoformat(), "due_on": row.due_on.isoformat()}


@registry.operation("distribution.correct", results=("reported",))
def correct(ctx: ServiceContext, correction_id: int, document: str, name: str | None = None,
            sex: str | None = None, id_number: str | None = None, photo: bool = False) -> dict:
    """本人持证更正: the corrected data, the report to the province, the old card void."""
    from app.procedures.distribution import corrections
    fields = {k: v for k, v in (("name", name), ("sex", sex), ("id_number", id_number)) if v}
    if photo:
        fields["photo"] = True
    row = _rule(lambda: corrections.record_correction(
        ctx.session, _correction(ctx, correction_id).id, fields, ctx.actor.username, document=document))
    return {"reported": row.reported}


@registry.operation("distribution.remind_correction", results=("sms",))
def remind_correction(ctx: ServiceContext, correction_id: int) -> dict:
    """时限前提醒本人: an SMS to the mobile on the person's confirmation form, if any."""
    import app.adapters as adapters
    from app.procedures.batch.city import current
    row = _correction(ctx, correction_id)
    person = ctx.session.get(Person, row.person_id)
    if row.corrected_at is not None or not person.mobile:
        return {"sms": 0}
    text = (f"{current(ctx.session).sms_signature}{person.name}您好：您的社会保障卡信息与身份证不一致已退回，"
            f"请于{row.due_on.month}月{row.due_on.day}日前携带身份证或户口簿原件到社保卡中心办理信息更正。")
    try:
        adapters.sms(ctx.session).send(person.mobile, text)
    except adapters.SmsError:
        return {"sms": 0}
    return {"sms": 1}


@registry.operation("distribution.correction_overdue", results=("overdue",))
def correction_overdue(ctx: ServiceContext, correction_id: int) -> dict:
    """一周未来更正: on the overdue list for a manager."""
    from app.procedures.distribution import corrections
    row = _correction(ctx, correction_id)
    corrections.mark_overdue(ctx.session, row.id)
    return {"overdue": True}

