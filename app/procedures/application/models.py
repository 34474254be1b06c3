"""The application family's tables 申领数据表: one row per application (福建省社会保障卡申领表)
and the per-day counter behind application numbers. Cards, blank cards and card jobs are the
kernel's (``app.cards.models``) and point here by ``application_id``."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.cards.models import Card
from app.common.clock import utcnow
from app.common.masking import mask_card_number, mask_id, mask_phone
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from app.procedures.application.states import ApplicationStatus, Channel, Purpose


class Application(Base):
    """申领 — one application for a card (福建省社会保障卡申领表), from acceptance to the card in
    the holder's hands or to the end without a card (``reason``)."""
    __tablename__ = "card_application"
    __table_args__ = (
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(_in("status", ApplicationStatus), name="status"),
        CheckConstraint(_in("purpose", Purpose), name="purpose"),
        CheckConstraint("fee_cents IS NULL OR fee_cents >= 0", name="fee_cents"),
        # one receipt per fee (GBF + date + sequence, app.procedures.application.numbers)
        Index("uq_card_application_fee_receipt_number", "fee_receipt_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # business key, SQ202608060001
    channel: Mapped[str] = mapped_column(String(10))
    service_point: Mapped[str] = mapped_column(String(32))        # code where it was accepted
    service_point_name: Mapped[str] = mapped_column(String(100))
    window: Mapped[str | None] = mapped_column(String(32))        # code of the producing window
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.ACCEPTED, index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)  # workflow instance

    # -- the applicant, as on the form
    application_date: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str] = mapped_column(String(1))          # GB/T 2261.1: 1 male, 2 female
    ethnicity: Mapped[str] = mapped_column(String(2))    # GB 3304 code
    birth_date: Mapped[date] = mapped_column(Date)
    occupation: Mapped[str | None] = mapped_column(String(50))
    landline: Mapped[str | None] = mapped_column(String(25))
    mobile: Mapped[str] = mapped_column(String(11))
    id_type: Mapped[str] = mapped_column(String(30))
    id_number: Mapped[str] = mapped_column(String(20), index=True)
    id_valid_from: Mapped[date | None] = mapped_column(Date)
    id_valid_to: Mapped[date | None] = mapped_column(Date)
    id_long_term: Mapped[bool] = mapped_column(Boolean, default=False)
    country: Mapped[str | None] = mapped_column(String(30))
    household_address: Mapped[str | None] = mapped_column(String(100))
    residence_address: Mapped[str | None] = mapped_column(String(100))
    residence_postcode: Mapped[str | None] = mapped_column(String(6))
    employer: Mapped[str | None] = mapped_column(String(100))
    medical_insurance_type: Mapped[str | None] = mapped_column(String(30))
    insurance_agency: Mapped[str | None] = mapped_column(String(100))
    guardian_name: Mapped[str | None] = mapped_column(String(30))
    guardian_id_type: Mapped[str | None] = mapped_column(String(30))
    guardian_id_number: Mapped[str | None] = mapped_column(String(20))
    first_card: Mapped[bool] = mapped_column(Boolean, default=True)
    old_card_city: Mapped[str | None] = mapped_column(String(6))
    old_card_number: Mapped[str | None] = mapped_column(String(9))
    consent_stop_old_card: Mapped[bool] = mapped_column(Boolean, default=False)
    # 申领类型: first card, replacement of a formally lost card (补卡), exchange of a damaged one
    # (换卡); for the last two ``old_card_number`` is the person's card in the archive
    purpose: Mapped[str] = mapped_column(String(12), default=Purpose.FIRST,
                                         server_default=Purpose.FIRST.value)
    old_card_handed_in: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=sql_false())  # 换卡: 原卡已交回
    remarks: Mapped[str | None] = mapped_column(String(200))
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # never load in lists
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_format: Mapped[str | None] = mapped_column(String(10))
    corrections: Mapped[list | None] = mapped_column(JSON)  # [{field, old, new, by, at}] (data fixes)

    # -- what happened
    police_checks: Mapped[int] = mapped_column(Integer, default=0)
    old_card_stopped: Mapped[str | None] = mapped_column(String(9))  # number of the card stopped
    # 工本费 of a replacement or exchange (app.procedures.application.fees); None: no fee
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    fee_receipt_number: Mapped[str | None] = mapped_column(String(20))  # GBF202608030001
    fee_paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    produced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_to_outlet_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at_outlet_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handover: Mapped[dict | None] = mapped_column(JSON)  # who took the card: holder / proxy 代领
    reason_zh: Mapped[str | None] = mapped_column(Text)  # why it ended without a card
    reason_en: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))

    cards: Mapped[list[Card]] = relationship(order_by=Card.id)  # the kernel's, by application_id

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)

    @property
    def mobile_masked(self) -> str:
        return mask_phone(self.mobile)

    @property
    def old_card_number_masked(self) -> str:
        return mask_card_number(self.old_card_number) if self.old_card_number else ""

    @property
    def card(self) -> "Card | None":
        """The card made (or being made) for this application: the newest one."""
        return self.cards[-1] if self.cards else None

    def summary(self) -> dict:
        """For lists and task data: no photo, personal numbers masked."""
        return {"application_id": self.id, "number": self.number, "channel": self.channel,
                "status": self.status, "name": self.name, "id_number": self.id_number_masked,
                "mobile": self.mobile_masked, "service_point": self.service_point_name}

    def __repr__(self) -> str:
        return f"<Application {self.number} {self.status} {self.id_number_masked}>"


class ApplicationNumberSeq(Base):
    """Per-day counter behind the application numbers (SQ + date + 4-digit sequence)."""
    __tablename__ = "card_application_seq"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class FeeReceiptSeq(Base):
    """Per-day counter behind the fee receipt numbers 工本费收据号 (GBF + date + sequence)."""
    __tablename__ = "card_fee_receipt_seq"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
