"""Messages to an employer's agents 经办人短信 (reminders, delivery notices), through the SMS
adapter's outbox in the caller's transaction."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

import app.adapters as adapters
from app.procedures.batch.models import Employer

log = logging.getLogger(__name__)

REMIND_TEXT = ("{employer}：请于{day}前将本单位职工的《社会保障卡个人信息确认及申领表》、"
               "《申领汇总表》和《未返回人员汇总表》交社保卡中心。")


def sms_to_agents(session: Session, employer: Employer, text: str) -> tuple[int, int]:
    """The text, under the city's signature, to every agent of the employer's current voucher:
    (messages queued, agents). An agent's unusable number does not keep the others from being
    told."""
    from app.procedures.batch.city import current
    from app.procedures.batch.voucher import agents_of, current_voucher
    text = current(session).sms_signature + text
    voucher = current_voucher(session, employer.code)
    agents = agents_of(session, voucher) if voucher is not None else []
    gateway, sent = adapters.sms(session), 0
    for phone in dict.fromkeys(a.mobile for a in agents):
        try:
            gateway.send(phone, text)
            sent += 1
        except adapters.SmsError:
            log.warning("employer %s: an agent's mobile cannot take an SMS", employer.id)
    return sent, len(agents)


def remind_agents(session: Session, employer: Employer) -> int:
    """到期前提醒, unless the forms are back already (the summary reconciled)."""
    from app.procedures.batch.models import Batch
    if employer.applied_at is not None:
        return 0
    batch = session.get(Batch, employer.batch_id)
    day = f"{batch.return_by.month}月{batch.return_by.day}日" if batch.return_by else "规定时限"
    sent, _agents = sms_to_agents(session, employer,
                                  REMIND_TEXT.format(employer=employer.name, day=day))
    return sent
