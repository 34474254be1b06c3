"""Medical-insurance system 医保系统 — the personal account behind the card (seed 000 §4.2–4.3):
when the centre activates the cards of a round, "原医疗保险卡自动作废" and "原医保个人账户资金自动
转入社会保障卡"; a temporary loss report by phone "冻结医疗保险个人账户" at once (§4.5).

``MedicalInsurance`` is the interface a real connector implements; ``EmbeddedMedicalInsurance``
keeps the accounts in the platform database (table ``medical_account``), in the caller's
transaction. Calls are idempotent: switching a person to the card that already carries the
account moves nothing again, freezing a frozen account changes nothing — an activation job
resumed after a crash may repeat a chunk.

The adapter sees ID numbers and card numbers only; it knows no card, person or family table.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.common.clock import utcnow
from app.common.masking import mask_id
from app.database import Base, update_rows
from app.engine.db import UtcDateTime

log = logging.getLogger(__name__)

CHUNK = 900  # ids per IN (...) list: below SQLite's variable limit


class MedicalAccountRow(Base):
    """个人账户 of the embedded default: the balance, the old medical-insurance IC card it was
    used with, and the social security card carrying it since activation."""
    __tablename__ = "medical_account"

    ssn: Mapped[str] = mapped_column(String(18), primary_key=True)
    balance_cents: Mapped[int] = mapped_column(Integer, default=0)
    old_card_number: Mapped[str | None] = mapped_column(String(20))  # 原医疗保险卡号
    old_card_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    card_number: Mapped[str | None] = mapped_column(String(9))       # 社保卡 carrying it
    moved_cents: Mapped[int | None] = mapped_column(Integer)         # moved at activation
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    frozen_reason: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class MedicalAccount:
    ssn: str
    balance_cents: int
    card_number: str | None
    old_card_number: str | None
    old_card_stopped: bool
    moved_cents: int | None
    frozen: bool

    def __repr__(self) -> str:
        return f"<MedicalAccount {mask_id(self.ssn)} frozen={self.frozen}>"


class MedicalInsurance(abc.ABC):
    @abc.abstractmethod
    def switch_to_cards(self, cards: dict[str, str]) -> dict[str, int]:
        """启用: for each ``{ssn: card_number}`` the old medical-insurance card stops now and the
        personal account's balance moves to the social security card. Returns ``{ssn: cents
        moved}``; a person already switched to that card answers what was moved then (nothing
        moves twice). A person without an account gets one with a zero balance."""

    @abc.abstractmethod
    def freeze(self, ssn: str, reason: str) -> None:
        """冻结医疗保险个人账户 (temporary loss report): idempotent."""

    @abc.abstractmethod
    def unfreeze(self, ssn: str) -> None:
        """解冻 (the loss was lifted, or the replacement card now carries the account)."""

    @abc.abstractmethod
    def account(self, ssn: str) -> MedicalAccount | None:
        """The person's account as the system has it, or None."""

    @abc.abstractmethod
    def move_to_card(self, ssn: str, card_number: str) -> None:
        """The account follows a replacement card (补卡/换卡): the new card carries it."""


class EmbeddedMedicalInsurance(MedicalInsurance):
    def __init__(self, session: Session, now=None):
        self.session = session
        self.now = now or utcnow

    def switch_to_cards(self, cards: dict[str, str]) -> dict[str, int]:
        wanted = {str(s).upper(): str(c).upper() for s, c in cards.items()}
        moved: dict[str, int] = {}
        now = self.now()
        ssns = list(wanted)
        for start in range(0, len(ssns), CHUNK):
            part = ssns[start:start + CHUNK]
            rows = {r.ssn: r for r in self.session.execute(
                select(MedicalAccountRow.ssn, MedicalAccountRow.card_number,
                       MedicalAccountRow.balance_cents, MedicalAccountRow.moved_cents)
                .where(MedicalAccountRow.ssn.in_(part)))}
            new = [{"ssn": s, "balance_cents": 0, "card_number": wanted[s], "moved_cents": 0,
                    "moved_at": now, "frozen": False} for s in part if s not in rows]
            if new:
                self.session.execute(MedicalAccountRow.__table__.insert(), new)
            changes = []
            for s in part:
                row = rows.get(s)
                if row is None:
                    moved[s] = 0
                elif row.card_number == wanted[s]:
                    moved[s] = row.moved_cents or 0  # switched before (a repeated chunk)
                else:
                    moved[s] = row.balance_cents
                    changes.append({"ssn": s, "card_number": wanted[s],
                                    "moved_cents": row.balance_cents, "moved_at": now,
                                    "old_card_stopped_at": now})
            if changes:
                update_rows(self.session, MedicalAccountRow.__table__, changes, key="ssn")
        log.info("medical accounts switched to %d social security cards", len(wanted))
        return moved

    def _set_frozen(self, ssn: str, frozen: bool, reason: str | None) -> None:
        ssn = str(ssn).upper()
        row = self.session.get(MedicalAccountRow, ssn)
        if row is None:
            row = MedicalAccountRow(ssn=ssn, balance_cents=0, frozen=False)
            self.session.add(row)
        if row.frozen != frozen:
            row.frozen = frozen
            row.frozen_at = self.now() if frozen else None
            row.frozen_reason = reason if frozen else None
        self.session.flush()

    def freeze(self, ssn: str, reason: str) -> None:
        self._set_frozen(ssn, True, reason)
        log.info("medical account of %s frozen", mask_id(ssn))

    def unfreeze(self, ssn: str) -> None:
        self._set_frozen(ssn, False, None)
        log.info("medical account of %s unfrozen", mask_id(ssn))

    def account(self, ssn: str) -> MedicalAccount | None:
        row = self.session.get(MedicalAccountRow, str(ssn).upper())
        if row is None:
            return None
        return MedicalAccount(row.ssn, row.balance_cents, row.card_number, row.old_card_number,
                              row.old_card_stopped_at is not None, row.moved_cents, row.frozen)

    def move_to_card(self, ssn: str, card_number: str) -> None:
        self.session.execute(update(MedicalAccountRow)
                             .where(MedicalAccountRow.ssn == str(ssn).upper())
                             .values(card_number=str(card_number).upper()))
