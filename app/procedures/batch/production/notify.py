"""4. Telling the employer 通知用人单位领取."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.clock import utcnow
from app.procedures.batch.models import Person
from app.procedures.batch.notices import sms_to_agents
from app.procedures.batch.production.acceptance import _employer
from app.procedures.batch.production.common import ProductionError
from app.procedures.batch.states import EmployerStatus, Production

# -- 4. notifying the employer 通知用人单位领取 ------------------------------------------------------

def notification_text(employer_name: str, cards: int) -> str:
    """The delivery notice (the city's signature is put before it when it is sent)."""
    return (f"{employer_name}：贵单位申领的社会保障卡 {cards} 张已到货，"
            f"请经办人携单位公章、介绍信和本人身份证到社保卡中心领取。")


def notify_agents(session: Session, employer_id: int) -> int:
    """通知用人单位领取: an SMS to each agent 经办人 of the employer's current voucher
    申领凭证 (queued in the SMS outbox of this transaction). Returns the messages queued."""
    employer = _employer(session, employer_id)
    if employer.status not in (EmployerStatus.ACCEPTED, EmployerStatus.NOTIFIED):
        raise ProductionError("本单位的卡尚未全部到货验收，验收完成后再通知单位领卡",
                              "The employer's cards are not all accepted on arrival yet; notify "
                              "the employer once they are", code="not_accepted")
    cards = session.scalar(select(func.count()).select_from(Person).where(
        Person.employer_id == employer.id, Person.production == Production.ACCEPTED))
    sent, agents = sms_to_agents(session, employer, notification_text(employer.name, cards))
    if not agents:
        raise ProductionError("本单位尚未登记申领凭证（经办人），请先登记《申领凭证》再通知领卡",
                              "The employer has no authorisation voucher (agents) on record; record "
                              "the voucher first", code="no_agents")
    if not sent:
        raise ProductionError("经办人的手机号码均无法发送短信，请更正《申领凭证》后再通知",
                              "No agent's mobile number can receive an SMS; correct the voucher "
                              "and notify again", code="no_agents")
    employer.status, employer.notified_at = EmployerStatus.NOTIFIED, utcnow()
    session.flush()
    return sent

