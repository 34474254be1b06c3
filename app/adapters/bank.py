"""Partner bank 合作银行 — the card's debit (financial) function 金融借记功能 is activated at the
holder's chosen bank, by the holder with an ID and the copy of the confirmation form (seed 001
annex 2 note 4: "个人凭此件到指定银行激活借记功能"; seed 000 §4.2.3).

``PartnerBank`` is the interface a real connector implements (the bank reports activations);
``EmbeddedPartnerBank`` records them in the platform database (table
``bank_debit_activation``), in the caller's transaction. Activating an activated account
changes nothing and answers the first activation. The adapter sees bank names, account numbers
and ID numbers; it knows no card or family table.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_id
from app.database import Base
from app.engine.db import UtcDateTime

log = logging.getLogger(__name__)


class BankDebitActivation(Base):
    __tablename__ = "bank_debit_activation"

    bank_card_number: Mapped[str] = mapped_column(String(19), primary_key=True)
    bank: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(18))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    branch: Mapped[str | None] = mapped_column(String(100))


@dataclass(frozen=True)
class Activation:
    bank: str
    bank_card_number: str
    reference: str
    activated_at: datetime
    branch: str | None = None


class BankRefused(BilingualError):
    """The bank refused the activation (another person's account, another bank's)."""

    kind = "invalid"

    def __init__(self, zh: str, en: str, code: str = "bank_refused"):
        super().__init__(zh, en, code=code)


class PartnerBank(abc.ABC):
    @abc.abstractmethod
    def activate_debit(self, bank: str, bank_card_number: str, id_number: str,
                       branch: str | None = None) -> Activation:
        """激活借记功能 of the account at ``bank`` for the holder ``id_number``. Raises
        ``BankRefused``; the same account again answers its first activation."""

    @abc.abstractmethod
    def activation(self, bank_card_number: str) -> Activation | None:
        """The account's activation, or None while the debit function is not activated."""


class EmbeddedPartnerBank(PartnerBank):
    def __init__(self, session: Session):
        self.session = session

    def activate_debit(self, bank: str, bank_card_number: str, id_number: str,
                       branch: str | None = None) -> Activation:
        number = "".join(str(bank_card_number or "").split())
        if not number.isdigit() or not 12 <= len(number) <= 19:
            raise BankRefused("银行账号无效", "Invalid bank account number", code="bank_account")
        row = self.session.get(BankDebitActivation, number)
        if row is not None:
            if row.id_number != str(id_number).upper():
                raise BankRefused("该银行账户属于他人", "The account belongs to someone else",
                                  code="bank_holder")
            return _activation(row)
        now = utcnow()
        row = BankDebitActivation(bank_card_number=number, bank=bank, branch=branch,
                                  id_number=str(id_number).upper(), activated_at=now,
                                  reference=f"JH{to_local_date(now):%Y%m%d}{number[-8:]}")
        self.session.add(row)
        self.session.flush()
        log.info("debit function of %s activated at %s for %s", mask_id(number), bank,
                 mask_id(id_number))
        return _activation(row)

    def activation(self, bank_card_number: str) -> Activation | None:
        row = self.session.get(BankDebitActivation, "".join(str(bank_card_number or "").split()))
        return _activation(row) if row is not None else None


def _activation(row: BankDebitActivation) -> Activation:
    return Activation(row.bank, row.bank_card_number, row.reference, row.activated_at, row.branch)


def find_activations(session: Session, numbers: list[str]) -> dict[str, Activation]:
    """Embedded default only: the activations of many accounts (card pages, lists)."""
    rows = session.scalars(select(BankDebitActivation)
                           .where(BankDebitActivation.bank_card_number.in_(numbers)))
    return {r.bank_card_number: _activation(r) for r in rows}
