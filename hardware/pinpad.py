"""PIN pad 密码键盘: where the holder types the PINs of a PIN change (自助终端修改密码).

PINs never travel through the platform: a ``change_pin`` job only names the card, and the
station asks its PIN pad. ``PinPad.read_pins(job)`` returns ``(old_pin, new_pin)``; the station
checks their format before it spends a try of the old PIN on the card, and never logs, stores
or reports them.

- ``ConsolePinPad``: the station's terminal (``getpass``, nothing echoed), the new PIN twice;
- ``ScriptedPinPad``: fixed answers, for tests and the demo station (old ``000000``, the issued
  PIN, new ``123456``).

A real PIN pad (an encrypting PIN pad on a serial or USB port) is one more implementation.
"""
from __future__ import annotations

import abc
import getpass as _getpass
import sys

from . import errors, profile


class PinEntryError(errors.HardwareError):
    """The holder did not give usable PINs at the pad (cancelled, confirmation differs)."""

    zh = "密码输入未完成"
    en = "The PIN entry was not completed"


class NoPinPadError(errors.HardwareError):
    zh = "本工作站未配置密码键盘，不能办理修改密码"
    en = "This station has no PIN pad; it cannot change PINs"


class PinPad(abc.ABC):
    @abc.abstractmethod
    def read_pins(self, job: dict) -> tuple[str, str]:
        """(old PIN, new PIN) typed by the holder of the job's card; PinEntryError if the
        holder cancelled or the entries disagree. The format is the station's to check."""


class ScriptedPinPad(PinPad):
    """Fixed answers (tests, demo station). ``calls`` counts the questions asked."""

    def __init__(self, old: str = profile.ISSUED_PIN, new: str = "123456"):
        self.old, self.new = old, new
        self.calls = 0

    def read_pins(self, job: dict) -> tuple[str, str]:
        self.calls += 1
        return self.old, self.new


class ConsolePinPad(PinPad):
    """The station's terminal: old PIN once, new PIN twice (must agree); nothing is echoed."""

    def __init__(self, getpass=_getpass.getpass, out=sys.stderr):
        self.getpass = getpass
        self.out = out

    def read_pins(self, job: dict) -> tuple[str, str]:
        card = job.get("card") or {}
        print(f"修改密码 Change PIN: 社会保障号码 {profile.mask(card.get('ssn', ''))}",
              file=self.out, flush=True)
        try:
            old = self.getpass("请输入原密码 Old PIN: ")
            new = self.getpass("请输入新密码（6 位数字） New PIN (6 digits): ")
            again = self.getpass("请再次输入新密码 New PIN again: ")
        except (EOFError, KeyboardInterrupt):
            raise PinEntryError("持卡人取消了密码输入", "The holder cancelled the PIN entry") from None
        if new != again:
            raise PinEntryError("两次输入的新密码不一致，密码未修改",
                                "The two entries of the new PIN differ; the PIN was not changed")
        return old.strip(), new.strip()


PIN_PADS = {"console": ConsolePinPad, "demo": ScriptedPinPad}  # --pin-pad of the station
