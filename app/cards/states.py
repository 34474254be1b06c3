"""States of the kernel's objects 状态 (cards, blank cards, card jobs, service points), with
their bilingual labels.

The values are what the database stores (plain strings with a CHECK constraint, portable to
SQLite and PostgreSQL); the labels are for clerks.
"""
from __future__ import annotations

from enum import StrEnum

from app.common.i18n import T


class CardStatus(StrEnum):
    """Card states as seen in a real issuing product (card-chip.md)."""

    NUMBER_ASSIGNED = "number_assigned"            # 已放号
    IN_PRODUCTION = "in_production"                # 制卡中
    NOT_ACTIVATED = "not_activated"                # 未启用
    ACTIVE = "active"                              # 正常
    TEMP_LOST = "temp_lost"                        # 临时挂失 (can be lifted: 解挂)
    LOST = "lost"                                  # 挂失 (formal, cannot be lifted)
    CANCELLED_AFTER_LOSS = "cancelled_after_loss"  # 挂失后注销
    CANCELLED = "cancelled"                        # 注销


# "Live" cards: a person holds at most one of these in the province (一人一卡). A formally lost
# card is not live: its holder may get a replacement.
LIVE_CARD_STATES = (CardStatus.NUMBER_ASSIGNED, CardStatus.IN_PRODUCTION,
                    CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE, CardStatus.TEMP_LOST)
# Final: a cancelled card never becomes live again (a replacement or exchange took its place).
DEAD_CARD_STATES = (CardStatus.CANCELLED_AFTER_LOSS, CardStatus.CANCELLED)
# Live, but not yet made: stopping it would pull the rug from under another running application.
CARD_BEING_MADE = (CardStatus.NUMBER_ASSIGNED, CardStatus.IN_PRODUCTION)

CARD_LABELS = {
    CardStatus.NUMBER_ASSIGNED: T("已放号", "Number assigned"),
    CardStatus.IN_PRODUCTION: T("制卡中", "In production"),
    CardStatus.NOT_ACTIVATED: T("未启用", "Not activated"),
    CardStatus.ACTIVE: T("正常", "Active"),
    CardStatus.TEMP_LOST: T("临时挂失", "Temporarily reported lost"),
    CardStatus.LOST: T("挂失", "Reported lost"),
    CardStatus.CANCELLED_AFTER_LOSS: T("挂失后注销", "Cancelled after loss"),
    CardStatus.CANCELLED: T("注销", "Cancelled"),
}


class BlankCardStatus(StrEnum):
    AVAILABLE = "available"  # 可用
    RESERVED = "reserved"    # 已预留
    USED = "used"            # 已使用
    SPOILED = "spoiled"      # 已报废


class JobState(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_JOB_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


class ServicePointKind(StrEnum):
    WINDOW = "window"  # 制发卡服务窗口 at a partner bank
    OUTLET = "outlet"  # 代办网点 of a town or street office
    CENTRE = "centre"  # 社保卡服务中心 of a region: supervises the windows and outlets there
