"""SMS gateway 短信网关 — tell an applicant the card is ready (S §1.3-2: "通过手机短信、公告等方式，
通知申请人或联系人领卡").

``SmsGateway`` is the interface; ``EmbeddedSmsGateway`` writes the message to the ``card_sms``
outbox table in the step's transaction (the web layer shows it; a real connector would be a
worker sending the queued rows, so a rolled-back step never sends anything).
"""
from __future__ import annotations

import abc
import logging
import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_phone
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime

log = logging.getLogger(__name__)

SIGNATURE = "【石狮人社】"
MAX_LENGTH = 300  # long SMS are split by the carrier; keep notices short


class SmsState(StrEnum):
    QUEUED = "queued"  # 待发送
    SENT = "sent"      # 已发送


class SmsMessage(Base):
    """短信 outbox of the embedded SMS gateway; the web layer shows it as a page."""
    __tablename__ = "card_sms"
    __table_args__ = (CheckConstraint(_in("state", SmsState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("card_application.id"),
                                                       index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default=SmsState.QUEUED)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.phone_masked} {self.state}>"


class SmsError(BilingualError):
    def __init__(self, code: str, zh: str, en: str):
        super().__init__(zh, en, code=code)


class SmsGateway(abc.ABC):
    @abc.abstractmethod
    def send(self, phone: str, text: str, application_id: int | None = None) -> str:
        """Queue/send ``text`` to ``phone`` (11-digit mobile); returns the message id."""


def check_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", str(phone or ""))
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise SmsError("bad_phone", "手机号码无效，无法发送短信",
                       "The mobile number is invalid; no SMS can be sent")
    return digits


class EmbeddedSmsGateway(SmsGateway):
    def __init__(self, session: Session):
        self.session = session

    def send(self, phone: str, text: str, application_id: int | None = None) -> str:
        # the embedded outbox is a table beside the applications it refers to (a real gateway
        # needs none); imported here so the adapters do not depend on the kernel at import
        phone = check_phone(phone)
        if not text or len(text) > MAX_LENGTH:
            raise SmsError("bad_text", "短信内容为空或过长", "The SMS text is empty or too long")
        message = SmsMessage(phone=phone, text=text, application_id=application_id)
        self.session.add(message)
        self.session.flush()
        log.info("SMS %s queued to %s", message.id, mask_phone(phone))
        return str(message.id)
