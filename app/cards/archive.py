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


def _record(card) -> CardRecord:
    return CardRecord(card.card_number, card.ssn, card.name, card.status, card.region_code,
                      card.bank, card.issue_date)


def archive(session: Session) -> CardArchive:
    """The card archive of this platform's database (the kernel's ``card`` table)."""
    return EmbeddedCardArchive(session)
