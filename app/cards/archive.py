"""Provincial card archive 全省社保卡档案库 (省卡管) — does the applicant already hold a card in
the province, and stopping that card (停用) before a new one is made (S annex 2).

``CardArchive`` is the interface; ``EmbeddedCardArchive`` is backed by the platform's own
``card`` table, which in the demo also holds cards issued before (people who already have one).
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.rules import live_card_of
from app.cards.states import CARD_BEING_MADE, LIVE_CARD_STATES, CardStatus
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardRecord:
    card_number: str
    ssn: str
    name: str
    status: str
    region_code: str
    bank: str | None = None
    issue_date: date | None = None

    @property
    def card_number_masked(self) -> str:
        s = self.card_number
        return s[:3] + "*" * (len(s) - 5) + s[-2:] if len(s) > 5 else s


class ArchiveError(BilingualError):
    """The archive refused the request; ``zh``/``en`` say why."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(zh, en, code=code)


class CardArchive(abc.ABC):
    @abc.abstractmethod
    def find_live_card(self, ssn: str) -> CardRecord | None:
        """The person's live card (number assigned ... temporarily lost) in the province."""

    @abc.abstractmethod
    def stop_card(self, card_number: str, reason: str, by: str | None = None) -> CardRecord:
        """Stop (注销) a live card; a temporarily lost card becomes 挂失后注销. Raises
        ``ArchiveError`` for an unknown card, one not live, or one still in production."""


    @abc.abstractmethod
    def report_lost(self, card_number: str, formal: bool) -> CardRecord:
        """挂失: a made, live card becomes temporarily lost (by phone) or lost (formal report in
        person, no longer live: its holder may get a replacement). ``ArchiveError`` otherwise."""

    @abc.abstractmethod
    def lift_loss(self, card_number: str, status: str) -> CardRecord:
        """解挂: a (temporarily) lost card goes back to ``status`` (what it was before the
        report). Refused when the card is no longer lost or its holder has another live card."""

    @abc.abstractmethod
    def move_region(self, card_number: str, region_code: str) -> CardRecord:
        """跨区域迁移: the card's insured region becomes ``region_code`` (the card is kept)."""


class EmbeddedCardArchive(CardArchive):
    def __init__(self, session: Session, now=None):
        self.session = session
        self.now = now

    def find_live_card(self, ssn: str) -> CardRecord | None:
        card = live_card_of(self.session, ssn)
        return _record(card) if card is not None else None

    def stop_card(self, card_number: str, reason: str, by: str | None = None) -> CardRecord:
        card = self.session.scalars(
            select(Card).where(Card.card_number == card_number).with_for_update()).first()
        if card is None:
            raise ArchiveError("card_unknown", "档案库中无此社保卡", "No such card in the archive")
        if card.status not in LIVE_CARD_STATES:
            raise ArchiveError("card_not_live", "该社保卡已停用或已挂失，无需再停用",
                               "The card is already stopped or reported lost")
        if card.status in CARD_BEING_MADE:
            raise ArchiveError("card_in_production", "该社保卡正在制作中，不能停用",
                               "The card is still being made and cannot be stopped")
        card.status = (CardStatus.CANCELLED_AFTER_LOSS if card.status == CardStatus.TEMP_LOST
                       else CardStatus.CANCELLED)
        card.stopped_at = (self.now or utcnow)()
        card.stop_reason = reason
        self.session.flush()  # the new card may need the unique index slot at once
        log.info("card %s of %s stopped by %s", _record(card).card_number_masked, mask_id(card.ssn), by)
        return _record(card)


    def _card(self, card_number: str) -> Card:
        card = self.session.scalars(
            select(Card).where(Card.card_number == card_number).with_for_update()).first()
        if card is None:
            raise ArchiveError("card_unknown", "档案库中无此社保卡", "No such card in the archive")
        return card

    def report_lost(self, card_number: str, formal: bool) -> CardRecord:
        card = self._card(card_number)
        allowed = (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE) + ((CardStatus.TEMP_LOST,) if formal else ())
        if card.status not in allowed:
            raise ArchiveError("card_not_live", "该社保卡不是可挂失的状态（未制成、已挂失或已注销）",
                               "The card cannot be reported lost (not made yet, lost or cancelled)")
        card.status = CardStatus.LOST if formal else CardStatus.TEMP_LOST
        self.session.flush()
        return _record(card)

    def lift_loss(self, card_number: str, status: str) -> CardRecord:
        card = self._card(card_number)
        if card.status not in (CardStatus.TEMP_LOST, CardStatus.LOST):
            raise ArchiveError("card_not_lost", "该社保卡未挂失或已补卡注销，不能解挂",
                               "The card is not reported lost (or was replaced): nothing to lift")
        if card.status == CardStatus.LOST and live_card_of(self.session, card.ssn) is not None:
            raise ArchiveError("live_card_exists", "持卡人已有其他有效社保卡（补卡已制作），不能解挂",
                               "The holder already has another live card (the replacement): cannot lift")
        card.status = status
        self.session.flush()
        return _record(card)

    def move_region(self, card_number: str, region_code: str) -> CardRecord:
        card = self._card(card_number)
        card.insured_region = region_code
        self.session.flush()
        return _record(card)


def _record(card) -> CardRecord:
    return CardRecord(card.card_number, card.ssn, card.name, card.status, card.region_code,
                      card.bank, card.issue_date)


def archive(session: Session) -> CardArchive:
    """The card archive of this platform's database (the kernel's ``card`` table)."""
    return EmbeddedCardArchive(session)
