"""States and event kinds of the card lifecycle family 卡片生命周期, with the clerk's words (plain
strings in the database with CHECK constraints; pages show the labels)."""
from __future__ import annotations

from enum import StrEnum

from app.common.i18n import T


class RoundState(StrEnum):
    """An activation round 统一启用批次."""

    RUNNING = "running"  # 启用中 (the job works through the cards)
    DONE = "done"        # 已启用 (cards picked up later activate when they are picked up)
    FAILED = "failed"    # 启用作业失败


ROUND_LABELS = {
    RoundState.RUNNING: T("启用中", "Activating"),
    RoundState.DONE: T("已统一启用", "Activated"),
    RoundState.FAILED: T("启用作业失败", "Activation job failed"),
}


class LossKind(StrEnum):
    TEMPORARY = "temporary"  # 临时挂失 (by phone, the voice service line)
    FORMAL = "formal"        # 正式挂失 (in person with ID)


class LossState(StrEnum):
    TEMPORARY = "temporary"  # 临时挂失，待本人持证确认
    FORMAL = "formal"        # 已正式挂失，待补卡
    LIFTED = "lifted"        # 已解挂
    REPLACED = "replaced"    # 已补卡


LOSS_LABELS = {
    LossState.TEMPORARY: T("临时挂失（待本人持身份证确认）", "Temporarily reported lost (to be confirmed in person)"),
    LossState.FORMAL: T("已正式挂失（待补卡）", "Formally reported lost (replacement pending)"),
    LossState.LIFTED: T("已解挂", "Loss lifted"),
    LossState.REPLACED: T("已补卡", "Replaced"),
}
OPEN_LOSS = (LossState.TEMPORARY, LossState.FORMAL)


class MoveState(StrEnum):
    WRITING = "writing"  # 写卡中
    DONE = "done"        # 已迁入
    FAILED = "failed"    # 写卡失败，未迁入


MOVE_LABELS = {
    MoveState.WRITING: T("写卡中", "Writing the card"),
    MoveState.DONE: T("已迁入", "Moved"),
    MoveState.FAILED: T("写卡未成功，未迁入", "Card not rewritten; not moved"),
}


class EventKind(StrEnum):
    """What happened to a card after it was made (the card page's history)."""

    ACTIVATED = "activated"              # 统一启用（医保功能开通）
    PIN_CHANGED = "pin_changed"          # 自助终端修改密码
    PIN_CHANGE_FAILED = "pin_change_failed"
    PIN_RESET = "pin_reset"              # 柜台密码重置
    PIN_RESET_FAILED = "pin_reset_failed"
    BANK_ACTIVATED = "bank_activated"    # 金融功能激活
    TEMP_LOSS = "temp_loss"              # 电话临时挂失
    LOSS_REMINDED = "loss_reminded"      # 临时挂失到期提醒
    FORMAL_LOSS = "formal_loss"          # 正式挂失
    LIFTED = "lifted"                    # 解挂
    BLOCKED_ON_CHIP = "blocked_on_chip"  # 芯片应用锁定
    REPLACED = "replaced"                # 补卡（新卡）
    EXCHANGED = "exchanged"              # 换卡（旧卡收回作废）
    MOVED = "moved"                      # 跨区域迁移（卡内数据改写）
    MOVE_FAILED = "move_failed"


EVENT_LABELS = {
    EventKind.ACTIVATED: T("统一启用，医保功能开通", "Activated (medical-insurance function on)"),
    EventKind.PIN_CHANGED: T("自助终端修改密码", "PIN changed at a self-service terminal"),
    EventKind.PIN_CHANGE_FAILED: T("修改密码未成功", "PIN change failed"),
    EventKind.PIN_RESET: T("柜台重置密码", "PIN reset at the counter"),
    EventKind.PIN_RESET_FAILED: T("重置密码未成功", "PIN reset failed"),
    EventKind.BANK_ACTIVATED: T("金融借记功能已激活", "Debit function activated"),
    EventKind.TEMP_LOSS: T("电话临时挂失，医保个人账户冻结", "Temporary loss by phone; medical account frozen"),
    EventKind.LOSS_REMINDED: T("临时挂失未确认，已提醒", "Temporary loss not confirmed: reminded"),
    EventKind.FORMAL_LOSS: T("正式挂失", "Formally reported lost"),
    EventKind.LIFTED: T("解除挂失", "Loss lifted"),
    EventKind.BLOCKED_ON_CHIP: T("芯片社保应用已锁定", "Social-security application blocked on the chip"),
    EventKind.REPLACED: T("已补发新卡", "Replaced by a new card"),
    EventKind.EXCHANGED: T("已换发新卡，旧卡收回作废", "Exchanged; the old card handed in and voided"),
    EventKind.MOVED: T("跨区域迁移，卡内参保地已改写", "Moved region; the chip rewritten"),
    EventKind.MOVE_FAILED: T("跨区域迁移写卡未成功", "Region move: card not rewritten"),
}
