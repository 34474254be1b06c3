"""The distribution family's demo 演示数据: the demo batch's last employer told to collect its
cards has collected them (the agent checked, the cards counted, the handover signed), handed
most of them to the holders, and brought back one card not handed out and one with wrong data —
whose holder now has a week to come and correct it. (The batch's other employer told to
collect keeps its cards at the centre for a newcomer to hand over.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import User
from app.auth.service import actor_of
from app.common.clock import china_today
from app.engine import jobs, runtime
from app.engine.models import HumanTask
from app.procedures.batch.models import Employer
from app.procedures.batch.states import EmployerStatus
from app.procedures.batch.voucher import agents_of, current_voucher
from app.procedures.distribution import returns, roster
from app.procedures.distribution.models import EmployerPickup, PickupCard

PROCESS = "employer_pickup"


def seed(session: Session) -> list[int]:
    """One employer pickup carried to a return; its case id (nothing when one exists)."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    with factory() as s:
        if s.scalar(select(EmployerPickup.id).limit(1)) is not None:
            return []
        clerk_user = s.scalars(select(User).where(User.username == "centre")).first()
        employers = s.scalars(select(Employer).where(Employer.status == EmployerStatus.NOTIFIED)
                              .order_by(Employer.id)).all()
        if clerk_user is None or len(employers) < 2:
            return []
        clerk, employer = actor_of(clerk_user), employers[-1]
        voucher = current_voucher(s, employer.code)
        agent = agents_of(s, voucher)[0] if voucher else None
        if agent is None:
            return []
        agent_name, agent_id = agent.name, agent.id_number
        case = runtime.start_instance(s, PROCESS, {"employer_id": employer.id, "employer_name": employer.name},
                                      f"LK{employer.id}-1", clerk)
        instance_id = case.id
    _complete(factory, instance_id, "check_agent", {
        "agent_name": agent_name, "agent_id_number": agent_id, "shown_id_number": agent_id,
        "seal_checked": True}, clerk)
    from app.procedures.distribution import custody
    with factory() as s:
        numbers = [row[1] for row in custody.cards_in(s, employer.id, "at_centre")]
    _complete(factory, instance_id, "count_cards", {"scanned": "\n".join(numbers)}, clerk)
    _complete(factory, instance_id, "sign_handover", {"signed": True}, clerk)
    with factory() as s, s.begin():
        pickup = s.scalars(select(EmployerPickup).where(EmployerPickup.instance_id == instance_id)).one()
        cards = s.scalars(select(PickupCard).where(PickupCard.pickup_id == pickup.id)
                          .order_by(PickupCard.seq)).all()
        outcomes = {1: ("not_handed_out", "moved"), 3: ("wrong_data", None)}
        roster.record_roster(s, pickup.id, [
            {"card_id": c.card_id, "outcome": outcomes.get(i, ("signed", None))[0],
             "reason": outcomes.get(i, ("signed", None))[1], "note": None} for i, c in enumerate(cards)],
            clerk.username, scan=b"%PDF-1.4 demo scan", scan_name="发放花名册（签字盖章）.pdf")
        pickup_id, back = pickup.id, [cards[1].card_id, cards[3].card_id]
    _complete(factory, instance_id, "record_roster", {"confirm": True}, clerk)
    from app.cards.models import Card
    with factory() as s, s.begin():
        moved, wrong = (s.get(Card, card_id).card_number for card_id in back)
        returns.receive_return(s, employer.id, agent_name, [
            {"card_number": moved, "reason": "moved", "note": "已调离本单位"},
            {"card_number": wrong, "reason": "wrong_data", "note": "卡面姓名与身份证不一致"}],
            clerk.username, pickup_id=pickup_id, today=china_today())
    _complete(factory, instance_id, "receive_return", {"confirm": True}, clerk)
    jobs.work(factory, once=True)  # the correction case of the wrong-data card
    return [instance_id]


def _complete(factory, instance_id: int, name: str, data: dict, actor) -> None:
    with factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.task_name == name,
                                                 HumanTask.state == "open")).first()
        if task is not None:
            runtime.complete_task(s, task.id, data, actor)
