"""The lifecycle family's tables 卡片生命周期数据表: activation rounds and the activation of each card
(exactly once: the card is the key), loss reports, moves between regions, and the history of
what happened to a card after it was made (``lifecycle_card_event``)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.common.clock import utcnow
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from app.procedures.lifecycle.states import (
    OPEN_LOSS,
    EventKind,
    LossKind,
    LossState,
    MoveState,
    RoundState,
)


class ActivationRound(Base):
    """统一启用: the centre activates the distributed cards of an issuance round (a batch) once
    the round is closed; the announcement 启用公告 is dated and printable (seed 000 §4.2.2)."""
    __tablename__ = "lifecycle_activation_round"
    __table_args__ = (CheckConstraint(_in("state", RoundState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), unique=True)  # once per round
    office: Mapped[str | None] = mapped_column(String(32))
    announced_on: Mapped[date] = mapped_column(Date)       # 启用公告日期
    state: Mapped[str] = mapped_column(String(10), default=RoundState.RUNNING)
    job_id: Mapped[int | None] = mapped_column(Integer)
    activated: Mapped[int] = mapped_column(Integer, default=0)  # cards activated by the round job
    waiting: Mapped[int] = mapped_column(Integer, default=0)    # not picked up yet, still locked
    # the custody events (card_custody_event.id) up to this one were looked at for cards picked
    # up after the round (activation.late_round); set when the round starts
    late_mark: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CardActivation(Base):
    """One card switched on: the medical-insurance function, the old medical card stopped,
    the balance moved. The card is the key: a card is activated exactly once."""
    __tablename__ = "lifecycle_card_activation"

    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_activation_round.id"),
                                                 index=True)
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    moved_cents: Mapped[int] = mapped_column(Integer, default=0)  # balance moved to the card
    late: Mapped[bool] = mapped_column(default=False)  # picked up after the round's activation


class LossReport(Base):
    """挂失: a temporary report by phone (voice service line) or a formal one in person; lifted
    (解挂) or ended by the replacement (补卡). One open report per card."""
    __tablename__ = "lifecycle_loss"
    __table_args__ = (
        CheckConstraint(_in("kind", LossKind), name="kind"),
        CheckConstraint(_in("state", LossState), name="state"),
        Index("uq_lifecycle_loss_open_per_card", "card_id", unique=True,
              postgresql_where=text(_in("state", OPEN_LOSS)),
              sqlite_where=text(_in("state", OPEN_LOSS))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))     # how it was first reported
    state: Mapped[str] = mapped_column(String(10))
    status_before: Mapped[str] = mapped_column(String(24))  # the card's status before (解挂 restores it)
    office: Mapped[str | None] = mapped_column(String(32))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(30))   # who phoned (the holder or a relative)
    identity: Mapped[dict | None] = mapped_column(JSON)      # which identity questions were answered
    formal_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    formal_by: Mapped[str | None] = mapped_column(String(64))
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    replace_via: Mapped[str | None] = mapped_column(String(10))   # instant / outlet / later
    replace_at: Mapped[str | None] = mapped_column(String(32))    # the service point chosen
    replacement_instance_id: Mapped[int | None] = mapped_column(Integer)  # the 补卡 case
    replacement_card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    note: Mapped[str | None] = mapped_column(Text)


class RegionMove(Base):
    """跨区域迁移: the same card, the new region written on the chip (verified by reading back)
    and in the archive; ``from_region`` keeps where the holder was insured before."""
    __tablename__ = "lifecycle_region_move"
    __table_args__ = (CheckConstraint(_in("state", MoveState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    from_region: Mapped[str] = mapped_column(String(6))
    to_region: Mapped[str] = mapped_column(String(6))
    moved_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=MoveState.WRITING)
    card_job_id: Mapped[int | None] = mapped_column(ForeignKey("card_job.id"))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    office: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error_zh: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)


class CardEvent(Base):
    """What happened to a card after it was made: activation, PIN, bank, loss, lift,
    replacement, moves. ``detail`` holds no personal data (numbers masked)."""
    __tablename__ = "lifecycle_card_event"
    __table_args__ = (CheckConstraint(_in("kind", EventKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(64))
    office: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict | None] = mapped_column(JSON)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    card_job_id: Mapped[int | None] = mapped_column(Integer)


__all__ = ["ActivationRound", "CardActivation", "CardEvent", "LossReport", "RegionMove"]
