"""Errors of the card hardware (读卡器/卡片错误), each with a message a clerk understands.

Every error carries a Chinese message (the UI default) and an English one; ``str(err)`` gives
both so logs and command-line output stay readable for everyone.
"""


class HardwareError(Exception):
    """Base of every card, reader and profile error."""

    zh = "读卡器或卡片出错"
    en = "Card reader or card error"

    def __init__(self, zh: str | None = None, en: str | None = None):
        if zh is not None:
            self.zh = zh
        if en is not None:
            self.en = en
        super().__init__(f"{self.zh} ({self.en})")

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


# --- profile (data that does not fit the card) ---------------------------------------------

class ProfileError(HardwareError, ValueError):
    """A value cannot be written to (or read from) the chip as the card profile requires.

    ``errors`` maps each offending field key to its (zh, en) message so a form can show
    every problem at once.
    """

    def __init__(self, errors: dict[str, tuple[str, str]]):
        self.errors = errors
        zh = "；".join(m[0] for m in errors.values())
        en = "; ".join(m[1] for m in errors.values())
        super().__init__(zh, en)


# --- PC/SC stack ---------------------------------------------------------------------------

class NoPcscdError(HardwareError):
    zh = "智能卡服务 pcscd 未运行，请启动读卡服务后重试"
    en = "The smart-card service pcscd is not running; start it and try again"


class NoReaderError(HardwareError):
    zh = "未找到读卡器，请检查读卡器是否连接"
    en = "No card reader found; check that the reader is connected"


class NoCardError(HardwareError):
    zh = "读卡器中没有卡片，请插入社会保障卡"
    en = "No card in the reader; insert the social security card"


class CardRemovedError(HardwareError):
    zh = "卡片在操作过程中被拔出，请重新插入卡片后继续"
    en = "The card was removed during the operation; re-insert it to continue"


class CardTimeoutError(HardwareError):
    zh = "卡片无响应（超时），请重新插卡"
    en = "The card did not answer in time; re-insert the card"


class VerificationError(HardwareError):
    """Read-back after a write found different bytes: the card must not be handed out."""

    def __init__(self, differences: list[str]):
        self.differences = differences
        super().__init__("写卡校验不一致：" + "，".join(differences),
                         "Read-back verification failed: " + ", ".join(differences))


# --- status words (卡片返回状态码) ------------------------------------------------------------

class StatusWordError(HardwareError):
    """The card answered a command with an error status word."""

    sw: int = 0

    def __init__(self, sw: int, command: str = "", zh: str | None = None, en: str | None = None):
        self.sw = sw
        self.command = command
        where_zh = f"（{command}，状态码 {sw:04X}）" if command else f"（状态码 {sw:04X}）"
        where_en = f" ({command}, SW {sw:04X})" if command else f" (SW {sw:04X})"
        super().__init__((zh or self.zh) + where_zh, (en or self.en) + where_en)


class WrongPinError(StatusWordError):
    zh = "密码错误"
    en = "Wrong PIN"

    def __init__(self, sw: int, command: str = ""):
        self.tries_left = sw & 0x0F
        super().__init__(sw, command, f"密码错误，还可尝试 {self.tries_left} 次",
                         f"Wrong PIN, {self.tries_left} tries left")


class PinBlockedError(StatusWordError):
    zh = "密码已锁定，请持身份证到服务窗口重置密码"
    en = "The PIN is blocked; the holder must have it reset at a service window"


class SecurityStatusError(StatusWordError):
    zh = "安全状态不满足：写卡前须先完成终端认证"
    en = "Security status not satisfied: the terminal must authenticate before writing"


class AuthenticationFailedError(StatusWordError):
    zh = "终端认证失败，请检查加密机或 PSAM 卡"
    en = "Terminal authentication failed; check the security module (PSAM/HSM)"


class ApplicationBlockedError(StatusWordError):
    zh = "社保应用已锁定（卡片已挂失或注销），不能再使用"
    en = "The social-security application is blocked (card reported lost or cancelled)"


class FileNotFoundOnCardError(StatusWordError):
    zh = "卡片上没有该文件或应用，可能不是社会保障卡"
    en = "File or application not found on the card; it may not be a social security card"


class RecordNotFoundError(StatusWordError):
    zh = "卡片上没有该记录（空白卡或未写入）"
    en = "Record not found on the card (blank or not yet written)"


class KeyNotFoundError(StatusWordError):
    zh = "卡片上没有所需密钥"
    en = "Key not found on the card"


class WrongLengthError(StatusWordError):
    zh = "指令长度错误"
    en = "Wrong command length"


class UnsupportedCommandError(StatusWordError):
    zh = "卡片不支持该指令"
    en = "The card does not support this command"


class CardStatusError(StatusWordError):
    zh = "卡片返回错误"
    en = "The card returned an error"
