"""Refusals of 统一启用 不能启用: each says why, in the clerk's words; nothing was changed."""
from __future__ import annotations

from app.common.clock import china_time
from app.common.errors import BilingualError
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BATCH_LABELS
from app.procedures.lifecycle.models import ActivationRound
from app.procedures.lifecycle.states import RoundState


class ActivationError(BilingualError):
    """统一启用 cannot be done (the message says why); nothing was changed."""

    kind = "conflict"
    code = "activation_refused"


class AlreadyActivated(ActivationError):
    """The batch was activated before: once per issuance round (``batch_id`` is unique)."""

    code = "activation_twice"

    def __init__(self, batch_name: str, existing: ActivationRound):
        self.round_id = existing.id
        at = china_time(existing.created_at)
        zh_at, en_at = f"{at:%Y-%m-%d %H:%M}", f"{at:%Y-%m-%d %H:%M} (China time)"
        announced = existing.announced_on.isoformat()
        if existing.state == RoundState.DONE:
            zh = (f"制卡批次“{batch_name}”已于 {zh_at} 统一启用（启用公告日期 {announced}），"
                  f"不能重复启用。领卡后尚未启用的卡由系统在领卡后自动启用。")
            en = (f"Batch “{batch_name}” was activated on {en_at} (announcement dated {announced}); "
                  f"it cannot be activated again. Cards picked up later are activated automatically.")
        else:
            zh = (f"制卡批次“{batch_name}”已于 {zh_at} 开始统一启用（启用公告日期 {announced}），"
                  f"不能重复启用。")
            en = (f"The activation of batch “{batch_name}” was started on {en_at} (announcement "
                  f"dated {announced}); it cannot be started again.")
        super().__init__(zh, en)


class BatchNotClosed(ActivationError):
    code = "activation_batch_open"

    def __init__(self, batch: Batch):
        label = BATCH_LABELS.get(batch.status)
        zh_state = label.zh if label else "未知"
        en_state = label.en if label else "unknown"
        super().__init__(
            f"制卡批次“{batch.name}”尚未结束（当前：{zh_state}）。社会保障卡在发放期间处于锁定状态，"
            f"待本批发卡结束、批次结束后才能统一启用。",
            f"Batch “{batch.name}” is not closed yet (now: {en_state}). Cards stay locked while "
            f"they are handed out; the round is activated once the batch is closed.")


class BadAnnouncementDate(ActivationError):
    kind = "invalid"
    code = "activation_bad_date"


class RoundNotFound(ActivationError):
    kind = "not_found"
    code = "activation_not_found"

    @classmethod
    def of(cls, round_id) -> "RoundNotFound":
        return cls(f"没有编号为 {round_id} 的统一启用", f"There is no activation round {round_id}")
