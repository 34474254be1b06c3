"""States of an application 申领状态, with their bilingual labels (the application family's own
state machine; cards have theirs in ``app.cards.states``)."""
from __future__ import annotations

from enum import StrEnum

from app.common.i18n import T


class Channel(StrEnum):
    WINDOW = "window"  # 制发卡服务窗口（立等可取）
    OUTLET = "outlet"  # 代办网点


class ApplicationStatus(StrEnum):
    ACCEPTED = "accepted"              # 已受理
    CHECKING = "checking"              # 核查中
    REJECTED = "rejected"              # 不予制卡 (check failed, refused to stop the old card...)
    IN_PRODUCTION = "in_production"    # 制卡中
    PRODUCED = "produced"              # 已制卡
    SENT_TO_OUTLET = "sent_to_outlet"  # 已发往网点
    AT_OUTLET = "at_outlet"            # 网点已接收
    NOTIFIED = "notified"              # 已通知领卡
    PICKED_UP = "picked_up"            # 已领取 (outlet)
    HANDED_OVER = "handed_over"        # 已当场发放 (window)
    CANCELLED = "cancelled"            # 已终止 (production abandoned)


# An application in one of these states is finished: no card will come of it any more, or the
# card is in the holder's hands.
FINAL_APPLICATION_STATES = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.PICKED_UP,
                                      ApplicationStatus.HANDED_OVER, ApplicationStatus.CANCELLED})

APPLICATION_LABELS = {
    ApplicationStatus.ACCEPTED: T("已受理", "Accepted"),
    ApplicationStatus.CHECKING: T("核查中", "Being checked"),
    ApplicationStatus.REJECTED: T("不予制卡", "Rejected"),
    ApplicationStatus.IN_PRODUCTION: T("制卡中", "In production"),
    ApplicationStatus.PRODUCED: T("已制卡", "Card produced"),
    ApplicationStatus.SENT_TO_OUTLET: T("已发往代办网点", "Sent to the outlet"),
    ApplicationStatus.AT_OUTLET: T("代办网点已接收", "Received at the outlet"),
    ApplicationStatus.NOTIFIED: T("已通知领卡", "Applicant notified"),
    ApplicationStatus.PICKED_UP: T("已领取", "Picked up"),
    ApplicationStatus.HANDED_OVER: T("已当场发放", "Handed over"),
    ApplicationStatus.CANCELLED: T("已终止", "Cancelled"),
}


class Purpose(StrEnum):
    """申领类型 (seed 002 §1: 新增人员制卡、换卡、补卡). The same two procedures make every card;
    the purpose says what happens to the person's old card and whether the fee 工本费 is due."""

    FIRST = "first"              # 首次申领 (also: a card held elsewhere in Fujian, stopped with consent)
    REPLACEMENT = "replacement"  # 补卡: the old card was formally reported lost (挂失)
    EXCHANGE = "exchange"        # 换卡: the old card is damaged and handed in at the counter


# Applications for a new card in place of one of this province's cards: the fee is due and the
# old card (given by its number on the form) must be the applicant's.
REPLACING = frozenset({Purpose.REPLACEMENT, Purpose.EXCHANGE})

PURPOSE_LABELS = {
    Purpose.FIRST: T("首次申领", "First card"),
    Purpose.REPLACEMENT: T("补卡", "Replacement (card lost)"),
    Purpose.EXCHANGE: T("换卡", "Exchange (card damaged)"),
}
