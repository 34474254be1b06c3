"""Card numbers and blank-card stock 卡号与半成品卡库存.

The card number comes from the card management system (放号); the semi-finished cards
半成品卡 (with a bank account already on them) are the partner bank's stock at each window.
``CardStock`` is the interface; ``EmbeddedCardStock`` uses the ``card`` and ``card_blank``
tables. Reservations are idempotent per application: asking again returns the same card.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cards.models import BlankCard
from app.cards.numbers import allocate_card_number
from app.cards.states import BlankCardStatus
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlankCardRecord:
    id: int
    bank_card_number: str
    bank: str
    window: str
    status: str

    @property
    def bank_card_number_masked(self) -> str:
        return mask_id(self.bank_card_number)


class StockError(BilingualError):
    """``code``: no_blank_card | blank_card_unknown | blank_card_not_available | wrong_window."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(zh, en, code=code)


class CardStock(abc.ABC):
    @abc.abstractmethod
    def allocate_card_number(self) -> str:
        """A card number no card has (获取卡号)."""

    @abc.abstractmethod
    def reserve_blank_card(self, application_id: int, window: str,
                           bank_card_number: str | None = None) -> BlankCardRecord:
        """Reserve a blank card at ``window`` for the application: the one the clerk took
        (``bank_card_number``) or the next available. Asking again for the same application
        returns the card already reserved (unless another one is named)."""

    @abc.abstractmethod
    def reserved_for(self, application_id: int) -> BlankCardRecord | None:
        """The blank card currently reserved for the application."""

    @abc.abstractmethod
    def release_blank_card(self, application_id: int, spoiled: bool = False,
                           note: str | None = None) -> BlankCardRecord | None:
        """Give the reserved card back to stock, or write it off (报废) when ``spoiled``."""

    @abc.abstractmethod
    def mark_used(self, application_id: int) -> BlankCardRecord:
        """The reserved card became the applicant's card."""

    @abc.abstractmethod
    def available(self, window: str) -> int:
        """How many blank cards the window has left."""


class EmbeddedCardStock(CardStock):
    def __init__(self, session: Session, now=None):
        self.session = session
        self.now = now

    def _now(self) -> datetime:
        return (self.now or utcnow)()

    def allocate_card_number(self) -> str:
        return allocate_card_number(self.session)

    def reserve_blank_card(self, application_id: int, window: str,
                           bank_card_number: str | None = None) -> BlankCardRecord:
        current = self._reserved(application_id)
        if current is not None and bank_card_number in (None, current.bank_card_number):
            return _record(current)
        if bank_card_number:
            blank = self.session.scalars(select(BlankCard).where(
                BlankCard.bank_card_number == bank_card_number).with_for_update()).first()
            if blank is None:
                raise StockError("blank_card_unknown", "库存中没有该银行卡号的半成品卡",
                                 "No blank card with this bank card number in stock")
            if blank.window != window:
                raise StockError("wrong_window", "该半成品卡不属于本窗口",
                                 "This blank card belongs to another window")
            if blank.status != BlankCardStatus.AVAILABLE:
                raise StockError("blank_card_not_available", "该半成品卡已被预留、使用或报废",
                                 "This blank card is reserved, used or spoiled")
        else:
            blank = self.session.scalars(
                select(BlankCard).where(BlankCard.window == window,
                                        BlankCard.status == BlankCardStatus.AVAILABLE)
                .order_by(BlankCard.id).limit(1).with_for_update(skip_locked=True)).first()
            if blank is None:
                raise StockError("no_blank_card", "本窗口半成品卡已用完，请补充库存",
                                 "The window has no blank cards left; restock first")
        if current is not None:  # the clerk took another card: the first goes back to stock
            current.status, current.reserved_for, current.reserved_at = (
                BlankCardStatus.AVAILABLE, None, None)
        blank.status = BlankCardStatus.RESERVED
        blank.reserved_for = application_id
        blank.reserved_at = self._now()
        self.session.flush()
        log.info("blank card %s reserved at %s", mask_id(blank.bank_card_number), window)
        return _record(blank)

    def reserved_for(self, application_id: int) -> BlankCardRecord | None:
        blank = self._reserved(application_id)
        return _record(blank) if blank is not None else None

    def release_blank_card(self, application_id: int, spoiled: bool = False,
                           note: str | None = None) -> BlankCardRecord | None:
        blank = self._reserved(application_id)
        if blank is None:
            return None
        if spoiled:
            blank.status, blank.note = BlankCardStatus.SPOILED, note
        else:
            blank.status, blank.reserved_for, blank.reserved_at = (
                BlankCardStatus.AVAILABLE, None, None)
        self.session.flush()
        return _record(blank)

    def mark_used(self, application_id: int) -> BlankCardRecord:
        blank = self._reserved(application_id)
        if blank is None:
            raise StockError("blank_card_unknown", "没有为该申领预留的半成品卡",
                             "No blank card is reserved for this application")
        blank.status = BlankCardStatus.USED
        blank.used_at = self._now()
        self.session.flush()
        return _record(blank)

    def available(self, window: str) -> int:
        return self.session.scalar(select(func.count()).select_from(BlankCard).where(
            BlankCard.window == window, BlankCard.status == BlankCardStatus.AVAILABLE))

    def _reserved(self, application_id: int):
        return self.session.scalars(select(BlankCard).where(
            BlankCard.reserved_for == application_id,
            BlankCard.status == BlankCardStatus.RESERVED).with_for_update()).first()


def _record(blank) -> BlankCardRecord:
    return BlankCardRecord(blank.id, blank.bank_card_number, blank.bank, blank.window, blank.status)


def stock(session: Session) -> CardStock:
    """Card numbers and the windows' blank-card stock (the kernel's tables)."""
    return EmbeddedCardStock(session)
