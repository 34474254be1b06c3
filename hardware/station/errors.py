"""Errors of the card station, each bilingual, and their JSON form for the platform."""

from __future__ import annotations

import logging

from .. import errors, profile
from ..personalise import CardAlreadyPersonalisedError, CardMismatchError
from ..pinpad import NoPinPadError, PinEntryError
from ..printer import FontNotFoundError, PrinterError

log = logging.getLogger(__name__)

# station exit statuses (the command line's and the loop's)
EXIT_OK, EXIT_CONFIG, EXIT_UNAUTHORIZED, EXIT_PLATFORM_GONE = 0, 2, 3, 4


class StationError(errors.HardwareError):
    zh = "制卡工作站出错"
    en = "Card station error"


class UnauthorizedError(StationError):
    zh = "平台拒绝了工作站令牌（401），工作站已停止；请检查 --token 或环境变量 SSCARD_STATION_TOKEN"
    en = (
        "The platform rejected the station token (401); the station stopped. "
        "Check --token or SSCARD_STATION_TOKEN"
    )


class JobCancelledError(StationError):
    zh = "该任务已在平台上取消（409）"
    en = "The job was cancelled on the platform (409)"


class PlatformUnavailableError(StationError):
    zh = "无法连接制卡平台（超时或拒绝连接），稍后自动重试"
    en = "Cannot reach the card platform (timeout or connection refused); retrying"


class PlatformProtocolError(StationError):
    zh = "平台应答不符合工作站协议"
    en = "The platform's answer does not follow the station protocol"


class PlatformGaveUpError(StationError):
    zh = "长时间无法连接制卡平台，工作站退出；未送达的结果保留在本地任务目录，下次启动时重发"
    en = (
        "The platform stayed unreachable; the station exits. "
        "Unsent results stay in the spool and are re-sent on the next start"
    )


class SpoolLockedError(StationError):
    zh = "本地任务目录正被另一个工作站进程使用"
    en = "The spool folder is in use by another station process"


class BadJobError(StationError):
    zh = "平台下发的任务格式错误"
    en = "The job sent by the platform is malformed"

    def __init__(self, zh: str | None = None, en: str | None = None,
                 fields: dict[str, tuple[str, str]] | None = None):
        self.fields = fields or {}  # payload key -> (zh, en), e.g. region_code, moved_on
        super().__init__(zh, en)


class BankMismatchError(errors.HardwareError):
    """金融数据核对: the blank card's bank account is not the one the platform assigned."""

    def __init__(self, expected: str, found: str):
        self.expected, self.found = expected, found
        got_zh = profile.mask(found) if found else "无银行账户"
        got_en = profile.mask(found) if found else "no bank account"
        super().__init__(
            f"金融数据核对不符：卡上银行卡号为 {got_zh}，应为 {profile.mask(expected)}；请插入为该持卡人分配的空白卡",
            f"Financial data check failed: the card's bank account is {got_en}, expected "
            f"{profile.mask(expected)}; insert the blank card assigned to this holder",
        )


class VirtualReaderBusyError(StationError):
    zh = "虚拟读卡器中已有一张不是工作站插入的卡，请先拔出（结束其 virtual-card 进程）"
    en = (
        "The virtual reader holds a card the station did not insert; pull it first "
        "(end its virtual-card process)"
    )


class WrongCardError(errors.HardwareError):
    zh = "读卡器中的卡不是该持卡人的卡，请插入持卡人本人的社会保障卡"
    en = "The card in the reader is not this holder's card; insert the holder's own card"


class InvalidPinError(errors.HardwareError):
    """修改密码: a PIN typed at the pad is not 6 digits; refused before any try is spent."""

    def __init__(self, which: list[str]):
        self.which = which  # "old" and/or "new"; never the PIN itself
        zh = "、".join({"old": "原密码", "new": "新密码"}[w] for w in which)
        en = " and ".join({"old": "the old PIN", "new": "the new PIN"}[w] for w in which)
        super().__init__(f"{zh}应为 6 位数字；密码未修改，未消耗密码尝试次数",
                         f"{en[0].upper() + en[1:]} must be 6 digits; the PIN was not changed "
                         "and no try was spent")


class OldPinWrongError(errors.WrongPinError):
    """修改密码: the card refused the old PIN (63Cx); ``tries_left`` more before it blocks."""

    def __init__(self, sw: int, command: str = "VERIFY"):
        self.tries_left = sw & 0x0F
        errors.StatusWordError.__init__(
            self, sw, command,
            f"原密码错误，还可尝试 {self.tries_left} 次；密码未修改",
            f"Wrong old PIN, {self.tries_left} tries left; the PIN was not changed")


class HolderPinBlockedError(errors.PinBlockedError):
    """修改密码: the PIN is blocked (6983, or the last try just failed)."""

    tries_left = 0
    zh = ("密码已锁定（密码错误次数已达上限），密码未修改；"
          "请持卡人携带本人身份证到社保卡服务窗口（柜台）办理密码重置")
    en = ("The PIN is blocked (too many wrong tries) and was not changed; the holder must "
          "bring their ID card to a service counter to have it reset")


# code, retryable; first match wins (subclasses before their bases).
ERROR_CODES: tuple[tuple[type, str, bool], ...] = (
    (errors.ProfileError, "INVALID_DATA", False),
    (BadJobError, "BAD_JOB", False),
    (BankMismatchError, "BANK_CARD_MISMATCH", False),
    (WrongCardError, "WRONG_CARD", True),
    (CardMismatchError, "CARD_MISMATCH", False),
    (CardAlreadyPersonalisedError, "CARD_ALREADY_PERSONALISED", False),
    (errors.VerificationError, "VERIFICATION_FAILED", False),
    (errors.ApplicationBlockedError, "APPLICATION_BLOCKED", False),
    (errors.PinBlockedError, "PIN_BLOCKED", False),
    (errors.WrongPinError, "PIN_WRONG", False),  # each try spends one: the holder decides
    (InvalidPinError, "PIN_INVALID", True),  # nothing was spent
    (PinEntryError, "PIN_ENTRY_FAILED", True),
    (NoPinPadError, "NO_PIN_PAD", False),
    (errors.SecurityStatusError, "AUTHENTICATION_FAILED", False),
    (errors.AuthenticationFailedError, "AUTHENTICATION_FAILED", False),
    (errors.CardRemovedError, "CARD_REMOVED", True),
    (errors.NoCardError, "NO_CARD", True),
    (errors.CardTimeoutError, "CARD_TIMEOUT", True),
    (errors.NoReaderError, "NO_READER", True),
    (errors.NoPcscdError, "NO_PCSCD", True),
    (FontNotFoundError, "PRINTER_ERROR", False),
    (PrinterError, "PRINTER_ERROR", True),
    (errors.StatusWordError, "CARD_ERROR", False),
    (errors.HardwareError, "HARDWARE_ERROR", False),
)


def error_payload(exc: BaseException) -> dict:
    """The ``error`` object of a result for ``exc``."""
    for cls, code, retryable in ERROR_CODES:
        if isinstance(exc, cls):
            out = {"code": code, "message_zh": exc.zh, "message_en": exc.en, "retryable": retryable}
            if isinstance(exc, errors.ProfileError):
                out["fields"] = {k: {"zh": zh, "en": en} for k, (zh, en) in exc.errors.items()}
            if isinstance(exc, BadJobError) and exc.fields:
                out["fields"] = {k: {"zh": zh, "en": en} for k, (zh, en) in exc.fields.items()}
            if isinstance(exc, (errors.WrongPinError, errors.PinBlockedError)):
                out["tries_left"] = getattr(exc, "tries_left", 0)
            if isinstance(exc, errors.VerificationError):
                out["fields"] = {
                    k: {"zh": "写卡校验不一致", "en": "differs on the card"}
                    for k in exc.differences
                }
            return out
    return {
        "code": "STATION_ERROR",
        "message_zh": f"工作站内部错误：{exc}",
        "message_en": f"Station internal error: {exc}",
        "retryable": False,
    }


# --- platform client --------------------------------------------------------------------------
