"""The kernel's tables 共用业务数据表: service points (offices), cards, blank-card stock, card jobs.

Plain SQLAlchemy 2.0 on ``app.database.Base``; every type and constraint works on SQLite and
PostgreSQL. States are strings checked by CHECK constraints (see ``app.cards.states``).
Personal data (ID numbers, phones) appears in ``__repr__`` only masked.

The families own the rows that ask for cards (the application family's ``card_application``);
kernel rows point at them by table name only (``application_id``), so the kernel imports no
family.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.cards.states import (
    DEAD_CARD_STATES,
    LIVE_CARD_STATES,
    BlankCardStatus,
    CardStatus,
    JobState,
    ServicePointKind,
)
from app.common.clock import utcnow
from app.common.masking import mask_card_number, mask_id
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from hardware.protocol import KINDS as JOB_KINDS


class ServicePoint(Base):
    """A place where applications are taken: a bank window 制发卡服务窗口 (produces cards on
    the spot, holds blank-card stock) or a town outlet 代办网点 (sends applications to its
    window and hands out the cards)."""
    __tablename__ = "card_service_point"
    __table_args__ = (CheckConstraint(_in("kind", ServicePointKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    bank: Mapped[str | None] = mapped_column(String(100))  # windows: 中国工商银行石狮支行
    window_code: Mapped[str | None] = mapped_column(String(32))  # outlets: the producing window
    region_code: Mapped[str] = mapped_column(String(6), default="350581")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<ServicePoint {self.code} {self.name}>"





class Card(Base):
    """卡 — one social security card. A person holds at most one *live* card in the province:
    the partial unique index below makes the database refuse a second one."""
    __tablename__ = "card"
    __table_args__ = (
        CheckConstraint(_in("status", CardStatus), name="status"),
        Index("uq_card_one_live_per_ssn", "ssn", unique=True,
              postgresql_where=text(_in("status", LIVE_CARD_STATES)),
              sqlite_where=text(_in("status", LIVE_CARD_STATES))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_number: Mapped[str] = mapped_column(String(9), unique=True)
    ssn: Mapped[str] = mapped_column(String(18), index=True)  # 社会保障号码 = citizen ID
    name: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str | None] = mapped_column(String(1))
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    birthplace: Mapped[str | None] = mapped_column(String(6))
    birth_date: Mapped[date | None] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6))    # issuing region, 350581 石狮市
    # 参保地: where the holder is insured now; None = the issuing region. Moving between the
    # city's regions keeps the card and rewrites this (seed 001 §1.5)
    insured_region: Mapped[str | None] = mapped_column(String(6))
    card_identifier: Mapped[str | None] = mapped_column(String(32), unique=True)  # hex, 16 bytes
    card_type: Mapped[str | None] = mapped_column(String(1))
    spec_version: Mapped[str | None] = mapped_column(String(4))
    init_org: Mapped[str | None] = mapped_column(String(12))
    issue_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    bank: Mapped[str | None] = mapped_column(String(100))
    bank_card_number: Mapped[str | None] = mapped_column(String(19), unique=True)
    status: Mapped[str] = mapped_column(String(24), default=CardStatus.NUMBER_ASSIGNED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    # the application that asked for it (application family)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("card_application.id"),
                                                       index=True)

    @validates("status")
    def _stays_dead(self, key, value):
        """A cancelled card is never made live again: its replacement holds the person's one
        live card (the unique index refuses a second one in the database as well)."""
        if self.status in DEAD_CARD_STATES and value != self.status:
            raise ValueError(f"card {self.card_number_masked} is {self.status}: it cannot become {value}")
        return value

    def chip_data(self) -> dict:
        """The complete card data 完整制卡数据, keyed like ``hardware.profile.FIELDS``."""
        return {
            "card_identifier": self.card_identifier, "card_type": self.card_type,
            "spec_version": self.spec_version, "init_org": self.init_org,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "card_number": self.card_number, "ssn": self.ssn, "name": self.name,
            "sex": self.sex, "ethnicity": self.ethnicity, "birthplace": self.birthplace,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }

    @property
    def card_number_masked(self) -> str:
        return mask_card_number(self.card_number)

    def __repr__(self) -> str:
        return f"<Card {self.card_number_masked} {self.status} {mask_id(self.ssn)}>"



class BlankCard(Base):
    """半成品卡 — a semi-finished card at a bank window: the bank's debit application and account
    are already on it; the window prints the face and writes the social-security data."""
    __tablename__ = "card_blank"
    __table_args__ = (CheckConstraint(_in("status", BlankCardStatus), name="status"),
                      Index("ix_card_blank_window_status", "window", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_card_number: Mapped[str] = mapped_column(String(19), unique=True)
    bank: Mapped[str] = mapped_column(String(100))
    window: Mapped[str] = mapped_column(String(32))  # ServicePoint.code
    status: Mapped[str] = mapped_column(String(10), default=BlankCardStatus.AVAILABLE)
    reserved_for: Mapped[int | None] = mapped_column(ForeignKey("card_application.id"), index=True)
    reserved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # e.g. why it was spoiled

    def __repr__(self) -> str:
        return f"<BlankCard {mask_id(self.bank_card_number)} {self.window} {self.status}>"


class CardJob(Base):
    """制卡任务 — the outbox for the card station (``hardware/station/``): written in the
    workflow step's transaction, claimed by a station over HTTP, finished by its result."""
    __tablename__ = "card_job"
    __table_args__ = (CheckConstraint(_in("state", JobState), name="state"),
                      CheckConstraint(_in("kind", JOB_KINDS), name="kind"),
                      Index("ix_card_job_state_window", "state", "window", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # the application the job makes a card for; None for jobs on a card in use (PIN, region)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("card_application.id"),
                                                       index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="issue")
    window: Mapped[str | None] = mapped_column(String(32))  # stations of this window take it
    payload: Mapped[dict] = mapped_column(JSON)  # {"card": chip data, "face": ..., "expected_bank_card_number"}
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    station_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # the attempt handed out last
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    progress: Mapped[dict | None] = mapped_column(JSON)  # {state, detail, at} from the station
    result: Mapped[dict | None] = mapped_column(JSON)
    result_id: Mapped[str | None] = mapped_column(String(64))  # the station's result id (dedup)
    history: Mapped[list | None] = mapped_column(JSON)  # results of earlier, failed attempts

    def __repr__(self) -> str:
        return f"<CardJob {self.id} {self.kind} {self.state}>"





__all__ = ["BlankCard", "Card", "CardJob", "ServicePoint", "utcnow"]
