"""States of the distribution family 发放状态, with the clerk's words (plain strings in the
database with CHECK constraints; pages show the labels)."""
from __future__ import annotations

from enum import StrEnum

from app.common.i18n import T


class Custody(StrEnum):
    """Where a card of a batch is (seed 000 §3, seed 001 §5): 卡片去向."""

    MADE = "made"                    # 已制成
    ACCEPTED = "accepted"            # 到货验收合格
    AT_CENTRE = "at_centre"          # 在社保卡中心
    WITH_EMPLOYER = "with_employer"  # 单位已领取
    WITH_HOLDER = "with_holder"      # 已发放到本人
    RETURNED = "returned"            # 已退回中心（见原因）
    REISSUED = "reissued"            # 已二次发放
    INVALIDATED = "invalidated"      # 已作废


CUSTODY_LABELS = {
    Custody.MADE: T("已制成", "Made"),
    Custody.ACCEPTED: T("到货验收合格", "Accepted on delivery"),
    Custody.AT_CENTRE: T("在社保卡中心", "At the card centre"),
    Custody.WITH_EMPLOYER: T("单位已领取，待发放", "With the employer"),
    Custody.WITH_HOLDER: T("已发放到本人", "With its holder"),
    Custody.RETURNED: T("已退回中心", "Returned to the centre"),
    Custody.REISSUED: T("已二次发放", "Issued a second time"),
    Custody.INVALIDATED: T("已作废", "Invalidated"),
}


class ReturnReason(StrEnum):
    """Why a card came back (seed 000 §3(三)2): not handed out, or its data is wrong."""

    MOVED = "moved"                  # 调离
    RETIRED_ELSEWHERE = "retired_elsewhere"  # 异地退休
    DIED = "died"                    # 死亡
    NOT_COLLECTED = "not_collected"  # 本人未领取（6个月内未发出）
    OTHER = "other"                  # 其他原因未发出
    WRONG_DATA = "wrong_data"        # 社会保障卡信息与身份证信息不一致


RETURN_LABELS = {
    ReturnReason.MOVED: T("调离", "Moved away"),
    ReturnReason.RETIRED_ELSEWHERE: T("异地退休", "Retired elsewhere"),
    ReturnReason.DIED: T("死亡", "Died"),
    ReturnReason.NOT_COLLECTED: T("未领取", "Not collected"),
    ReturnReason.OTHER: T("其他原因未发出", "Not handed out (other reason)"),
    ReturnReason.WRONG_DATA: T("卡面信息与身份证不一致", "Card data differs from the ID card"),
}
#: the two groups of a return slip 退卡回收单 (kept apart on paper and here)
NOT_HANDED_OUT = (ReturnReason.MOVED, ReturnReason.RETIRED_ELSEWHERE, ReturnReason.DIED,
                  ReturnReason.NOT_COLLECTED, ReturnReason.OTHER)


class Outcome(StrEnum):
    """A line of the signed distribution roster 发放花名册 as it came back."""

    SIGNED = "signed"                # 本人签字领取
    NOT_HANDED_OUT = "not_handed_out"  # 未发出（注明原因）
    WRONG_DATA = "wrong_data"        # 信息错误


OUTCOME_LABELS = {
    Outcome.SIGNED: T("本人已签字领取", "Signed for by the holder"),
    Outcome.NOT_HANDED_OUT: T("未发出", "Not handed out"),
    Outcome.WRONG_DATA: T("信息错误", "Data wrong"),
}


class PickupStatus(StrEnum):
    AGENT_CHECKED = "agent_checked"  # 经办人已核验
    COUNTED = "counted"              # 已清点，待签字
    HANDED_OVER = "handed_over"      # 已交接，单位发放中
    ROSTER_BACK = "roster_back"      # 发放花名册已交回
    CLOSED = "closed"                # 已办结（卡已全部发出或退回）


PICKUP_LABELS = {
    PickupStatus.AGENT_CHECKED: T("经办人已核验，待清点", "Agent checked, cards to count"),
    PickupStatus.COUNTED: T("已清点，待双方签字", "Counted, to be signed"),
    PickupStatus.HANDED_OVER: T("已交接，单位发放中", "Handed over, employer distributing"),
    PickupStatus.ROSTER_BACK: T("发放花名册已交回", "Signed roster returned"),
    PickupStatus.CLOSED: T("已办结", "Closed"),
}
