"""The distribution family's tables 发放数据表: where each card of a batch is and what happened
to it (custody and its events), employer pickups with their cards and the signed roster,
returns 退卡回收, pickups by the holder or a proxy at the centre, data corrections within a
week, and the filed statistics tables. Cards are the kernel's (``card``), persons and
employers the batch family's (``batch_person``, ``batch_employer``)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.common.clock import utcnow
from app.common.masking import mask_id
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from app.procedures.distribution.states import Custody, Outcome, PickupStatus, ReturnReason


class CardCustody(Base):
    """卡片去向: one row per card of a batch, its current place; ``CustodyEvent`` its history."""
    __tablename__ = "card_custody"
    __table_args__ = (CheckConstraint(_in("state", Custody), name="state"),
                      CheckConstraint("reason IS NULL OR " + _in("reason", ReturnReason), name="reason"))

    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("batch_employer.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))


class CustodyEvent(Base):
    """A change of a card's place: from, to, why, who and when (each one audited)."""
    __tablename__ = "card_custody_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(20))
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_pickup.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_return.id"))
    note: Mapped[str | None] = mapped_column(Text)


class EmployerPickup(Base):
    """单位批量领卡 (seed 000 §3(二)1, seed 001 §5.3): the agent, the cards counted in front of
    both, the handover sheet, the 3-working-day distribution and the 6-month return."""
    __tablename__ = "distribution_pickup"
    __table_args__ = (CheckConstraint(_in("status", PickupStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)   # 交接单号 JJ<employer>-<n>
    employer_id: Mapped[int] = mapped_column(ForeignKey("batch_employer.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    office: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PickupStatus.AGENT_CHECKED)
    # the introduction letter 领取社会保障卡单位介绍信 and the agent who came
    letter_agent_name: Mapped[str] = mapped_column(String(30))
    letter_agent_id: Mapped[str] = mapped_column(String(18))
    voucher_version: Mapped[int] = mapped_column(Integer)
    seal_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    cards: Mapped[int] = mapped_column(Integer, default=0)
    counted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(64))
    distribute_by: Mapped[date | None] = mapped_column(Date)       # 3 working days (Y)
    return_by: Mapped[date | None] = mapped_column(Date)           # 6 months (N §5.4)
    roster_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    roster_scan: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # archived copy
    roster_scan_name: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def letter_agent_id_masked(self) -> str:
        return mask_id(self.letter_agent_id)


class PickupCard(Base):
    """A card of a pickup and its line on the signed roster when it came back."""
    __tablename__ = "distribution_pickup_card"
    __table_args__ = (UniqueConstraint("pickup_id", "card_id", name="uq_distribution_pickup_card"),
                      CheckConstraint("outcome IS NULL OR " + _in("outcome", Outcome), name="outcome"),
                      CheckConstraint("reason IS NULL OR " + _in("reason", ReturnReason), name="reason"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("distribution_pickup.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"))
    seq: Mapped[int] = mapped_column(Integer)                      # line on the roster
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CardReturn(Base):
    """退卡回收单: cards an employer brings back, in two groups (not handed out; data wrong)."""
    __tablename__ = "distribution_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)   # TK<employer>-<n>
    employer_id: Mapped[int] = mapped_column(ForeignKey("batch_employer.id"), index=True)
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_pickup.id"), index=True)
    agent_name: Mapped[str] = mapped_column(String(30))
    not_handed_out: Mapped[int] = mapped_column(Integer, default=0)
    wrong_data: Mapped[int] = mapped_column(Integer, default=0)
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReturnedCard(Base):
    __tablename__ = "distribution_return_card"
    __table_args__ = (UniqueConstraint("card_id", name="uq_distribution_return_card"),
                      CheckConstraint(_in("reason", ReturnReason), name="reason"))

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("distribution_return.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200))


class HolderPickup(Base):
    """个人领卡 / 代领 at the centre (seed 000 §3(二)2): the originals seen, the proxy's identity."""
    __tablename__ = "distribution_holder_pickup"
    __table_args__ = (UniqueConstraint("card_id", name="uq_distribution_holder_pickup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))    # a card is handed over once
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    by_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    holder_id_seen: Mapped[bool] = mapped_column(Boolean, default=False)          # 本人身份证原件
    holder_household_seen: Mapped[bool] = mapped_column(Boolean, default=False)   # 本人户口本
    proxy_name: Mapped[str | None] = mapped_column(String(30))
    proxy_id_number: Mapped[str | None] = mapped_column(String(18))
    proxy_id_seen: Mapped[bool] = mapped_column(Boolean, default=False)           # 代领人身份证原件
    proxy_household_seen: Mapped[bool] = mapped_column(Boolean, default=False)    # 代领人户口本
    handed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    handed_by: Mapped[str] = mapped_column(String(64))

    @property
    def proxy_id_masked(self) -> str:
        return mask_id(self.proxy_id_number) if self.proxy_id_number else ""


class DataCorrection(Base):
    """信息更正: a card returned with wrong data; the person comes with ID or household
    register within one week (seed 000 §3(三)2); the card is reported to the province."""
    __tablename__ = "distribution_correction"
    __table_args__ = (UniqueConstraint("card_id", name="uq_distribution_correction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"), index=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("distribution_return.id"))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    due_on: Mapped[date] = mapped_column(Date)                     # 一周内
    corrected: Mapped[dict | None] = mapped_column(JSON)           # {field: [old, new]}
    corrected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    corrected_by: Mapped[str | None] = mapped_column(String(64))
    reported: Mapped[str | None] = mapped_column(String(40))       # the provincial report's number
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)


class StatisticsTable(Base):
    """发放情况统计表 as filed: generated at a period's end and never changed afterwards."""
    __tablename__ = "distribution_statistics"
    __table_args__ = (UniqueConstraint("period", "scope", name="uq_distribution_statistics"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10))   # 2026-11, 2026-Q4, 2026
    scope: Mapped[str] = mapped_column(String(40))    # office:SS-CENTRE, employer:<id>, all
    figures: Mapped[dict] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(64))
