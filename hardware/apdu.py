"""Command APDUs of the card profile and the meaning of each status word (状态码).

Shared by the reader driver (which sends them) and the virtual card (which answers them), so
both sides speak the same dialect by construction.
"""
from __future__ import annotations

from . import errors

# Instruction bytes (CLA, INS) and the names used in logs and fault injection.
SELECT = (0x00, 0xA4)
READ_RECORD = (0x00, 0xB2)
UPDATE_RECORD = (0x00, 0xDC)
VERIFY = (0x00, 0x20)
CHANGE_PIN = (0x80, 0x5E)          # PBOC/social-security style: old PIN, FF, new PIN
RESET_PIN = (0x80, 0x5E)           # same INS, P1=00: reset with terminal authentication
GET_CHALLENGE = (0x00, 0x84)
EXTERNAL_AUTHENTICATE = (0x00, 0x82)
APPLICATION_BLOCK = (0x84, 0x1E)
GET_RESPONSE = (0x00, 0xC0)

INS_NAMES = {
    0xA4: "SELECT", 0xB2: "READ", 0xDC: "UPDATE", 0x20: "VERIFY", 0x5E: "CHANGE_PIN",
    0x84: "GET_CHALLENGE", 0x82: "EXT_AUTH", 0x1E: "BLOCK", 0xC0: "GET_RESPONSE",
}

OK = 0x9000
SW_MORE_DATA = 0x61        # 61xx: xx bytes waiting, fetch with GET RESPONSE
SW_WRONG_LE = 0x6C         # 6Cxx: resend with Le = xx
SW_SELECTED_DEACTIVATED = 0x6283  # selected, but the application is blocked


def command_name(apdu: bytes) -> str:
    return INS_NAMES.get(apdu[1], f"INS {apdu[1]:02X}") if len(apdu) >= 2 else "?"


def select_df_name(name: bytes) -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x00, len(name)]) + name


def select_fid(fid: int) -> bytes:
    return bytes([0x00, 0xA4, 0x02, 0x00, 0x02, fid >> 8, fid & 0xFF])


def read_record(tag: int, length: int, sfi: int | None = None) -> bytes:
    """READ RECORD by tag in the current EF (P2=00) or in the EF with short id ``sfi``."""
    p2 = 0x00 if sfi is None else (sfi << 3) | 0x04
    return bytes([0x00, 0xB2, tag, p2, length & 0xFF])


def update_record(record: bytes) -> bytes:
    """UPDATE RECORD of the TLV ``record`` (its tag is the record identifier, P2=04)."""
    return bytes([0x00, 0xDC, record[0], 0x04, len(record)]) + record


def verify_pin(pin: str) -> bytes:
    body = pin_bcd(pin)
    return bytes([0x00, 0x20, 0x00, 0x00, len(body)]) + body


def change_pin(old: str, new: str) -> bytes:
    body = pin_bcd(old) + b"\xFF" + pin_bcd(new)
    return bytes([0x80, 0x5E, 0x01, 0x00, len(body)]) + body


def reset_pin(new: str) -> bytes:
    body = pin_bcd(new)
    return bytes([0x80, 0x5E, 0x00, 0x00, len(body)]) + body


def get_challenge(n: int = 8) -> bytes:
    return bytes([0x00, 0x84, 0x00, 0x00, n])


def external_authenticate(cryptogram: bytes, key_id: int = 0x01) -> bytes:
    return bytes([0x00, 0x82, 0x00, key_id, len(cryptogram)]) + cryptogram


def application_block() -> bytes:
    return bytes([0x84, 0x1E, 0x00, 0x00])


def get_response(n: int) -> bytes:
    return bytes([0x00, 0xC0, 0x00, 0x00, n & 0xFF])


def pin_bcd(pin: str) -> bytes:
    """PINs are 6 digits, BCD (3 bytes)."""
    if not (isinstance(pin, str) and len(pin) == 6 and pin.isdigit()):
        raise errors.ProfileError({"pin": ("密码应为 6 位数字", "the PIN must be 6 digits")})
    return bytes.fromhex(pin)


# --- status words --------------------------------------------------------------------------

_SW_ERRORS = {
    0x6982: errors.SecurityStatusError,
    0x6983: errors.PinBlockedError,
    0x6A82: errors.FileNotFoundOnCardError,
    0x6A83: errors.RecordNotFoundError,
    0x6A88: errors.KeyNotFoundError,
    0x6700: errors.WrongLengthError,
    0x9303: errors.ApplicationBlockedError,
    0x6300: errors.AuthenticationFailedError,
    0x6D00: errors.UnsupportedCommandError,
    0x6E00: errors.UnsupportedCommandError,
}


def error_for(sw: int, command: str = "") -> errors.StatusWordError:
    """The typed exception for an error status word."""
    if sw & 0xFFF0 == 0x63C0:
        return errors.WrongPinError(sw, command)
    cls = _SW_ERRORS.get(sw, errors.CardStatusError)
    return cls(sw, command)


def is_success(sw: int) -> bool:
    return sw == OK or sw == SW_SELECTED_DEACTIVATED
