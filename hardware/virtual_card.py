"""Virtual social security card 虚拟社保卡 for the vpcd driver of pcscd.

The card process connects to pcscd's vpcd port and answers APDUs like a real card of the
profile: SSSE environment, EF05/EF06/EF0D linear TLV records, PIN, terminal authentication,
application block, and the partner bank's application (bank card number). Its state lives in a
JSON file, so "pulling" the card (ending the process) and re-inserting it (starting it again on
the same file) keeps what was written.

Fault injection for crash tests: ``faults`` like ``["pull@12", "stall@UPDATE:3"]`` make the
card vanish before answering (``pull``), vanish after executing (``pull-after``), never
answer (``stall``) or answer 6F00 (``error``) at the 12th command APDU since start or at the 3rd
command of that name (names in ``apdu.INS_NAMES``).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field

from . import apdu, profile
from .security import DEMO_KEY, simulated_cryptogram

log = logging.getLogger(__name__)

ATR = bytes.fromhex("3B680000") + b"SSCARD01"  # T=0, 8 historical bytes
VPCD_PORTS = (35963, 35964)  # readers "Virtual PCD 00 00" and "Virtual PCD 00 01"
_SSSE, _BANK = "SSSE", "BANK"


class CardPulled(Exception):
    """Raised inside the card to simulate removal: the connection is dropped."""


@dataclass
class CardState:
    """What the chip keeps between insertions, persisted as JSON."""

    records: dict = field(default_factory=lambda: {"EF05": {}, "EF06": {}})
    bank: dict = field(default_factory=dict)  # tag hex -> value hex (5A bank card number)
    pin: str = profile.ISSUED_PIN
    pin_tries_left: int = profile.PIN_TRIES
    blocked: bool = False
    key: str = DEMO_KEY.hex()

    @classmethod
    def blank(cls, bank_card_number: str = "", key: bytes = DEMO_KEY) -> "CardState":
        """A semi-finished card 半成品卡: bank account present, social-security files empty."""
        state = cls(key=key.hex())
        if bank_card_number:
            digits = bank_card_number + ("F" if len(bank_card_number) % 2 else "")
            state.bank["5A"] = digits
        return state

    @classmethod
    def load(cls, path: str) -> "CardState":
        with open(path, encoding="utf-8") as fh:
            return cls(**json.load(fh))

    def save(self, path: str) -> None:
        """Atomic write: a card killed mid-save keeps the previous state, never half a file."""
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".card-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.__dict__, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


@dataclass
class Fault:
    action: str  # pull | pull-after | stall | error
    index: int  # n-th command (overall, or of ``name``)
    name: str = ""

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        action, _, where = spec.partition("@")
        if action not in ("pull", "pull-after", "stall", "error") or not where:
            raise ValueError(f"bad fault {spec!r}: use ACTION@N or ACTION@NAME:N")
        name, _, n = where.rpartition(":")
        return cls(action, int(n), name.upper())


class VirtualCard:
    """The card's command interpreter (no I/O except its state file)."""

    def __init__(self, state_path: str, faults: list[str] = ()):
        self.state_path = state_path
        self.state = CardState.load(state_path)
        self.faults = [Fault.parse(f) for f in faults]
        self.count = 0
        self.count_by_name: dict[str, int] = {}
        self.power_on()

    # -- session (reset at every power-on) --
    def power_on(self) -> None:
        self.df = None
        self.ef = None
        self.authenticated = False
        self.challenge = None
        self.pending = b""

    def _save(self) -> None:
        self.state.save(self.state_path)

    # -- entry point --
    def process(self, command: bytes) -> bytes:
        name = apdu.command_name(command)
        self.count += 1
        self.count_by_name[name] = self.count_by_name.get(name, 0) + 1
        fault = self._fault_for(name)
        if fault and fault.action == "pull":
            raise CardPulled(f"pulled before {name} #{self.count}")
        if fault and fault.action == "stall":
            log.warning("stalling at %s #%d", name, self.count)
            while True:
                time.sleep(3600)
        if fault and fault.action == "error":
            return b"\x6F\x00"
        try:
            response = self._dispatch(command)
        except _SW as sw:
            response = sw.code.to_bytes(2, "big")
        if fault and fault.action == "pull-after":
            raise CardPulled(f"pulled after {name} #{self.count}")
        return response

    def _fault_for(self, name: str) -> Fault | None:
        for f in self.faults:
            if (f.name and f.name == name and f.index == self.count_by_name[name]) or \
                    (not f.name and f.index == self.count):
                return f
        return None

    def _dispatch(self, c: bytes) -> bytes:
        if len(c) < 4:
            raise _SW(0x6700)
        cla, ins, p1, p2 = c[:4]
        data, le = _body(c)
        handler = {
            (0x00, 0xA4): self._select, (0x00, 0xB2): self._read_record,
            (0x00, 0xDC): self._update_record, (0x00, 0x20): self._verify,
            (0x80, 0x5E): self._change_pin, (0x00, 0x84): self._get_challenge,
            (0x00, 0x82): self._external_authenticate, (0x84, 0x1E): self._block,
            (0x00, 0xC0): self._get_response,
        }.get((cla, ins))
        if handler is None:
            raise _SW(0x6E00 if cla not in (0x00, 0x80, 0x84) else 0x6D00)
        return handler(p1, p2, data, le)

    # -- commands --
    def _select(self, p1, p2, data, le):
        if p1 == 0x04:
            return self._select_by_name(data)
        if p1 in (0x00, 0x02) and len(data) == 2:
            fid = int.from_bytes(data, "big")
            if fid == 0x3F00:
                self.df, self.ef, self.authenticated = None, None, False
                return b"\x90\x00"
            if self.df == _SSSE and fid in profile.SFI:
                self.ef = fid
                return b"\x90\x00"
            raise _SW(0x6A82)
        raise _SW(0x6A86 if p1 not in (0x00, 0x02, 0x04) else 0x6700)

    def _select_by_name(self, name: bytes) -> bytes:
        if name == profile.SSSE_DF_NAME:
            df = _SSSE
        elif name == profile.BANK_AID[:len(name)] and len(name) >= 5 and self.state.bank:
            df = _BANK
        elif name.startswith(profile.SS_RID) and len(name) == 6 and name[5] <= 0x04:
            df = f"DF0{name[5] + 1}"
        else:
            raise _SW(0x6A82)
        if df != self.df:
            self.authenticated = False  # security status belongs to the selected DF
        self.df, self.ef = df, None
        fci = _tlv(0x6F, _tlv(0x84, name) + _tlv(0xA5, _tlv(0x9F08, b"\x02")))
        if df == _SSSE and self.state.blocked:
            return fci + b"\x62\x83"  # selected, but the application is deactivated
        self.pending = fci
        return bytes([0x61, len(fci)])

    def _records_for(self, p2) -> tuple[dict, int | None]:
        if p2 >> 3 == 0:  # P2 = 00 or 04: the current EF
            if p2 & 0x03 or self.df != _SSSE or self.ef is None:
                raise _SW(0x6986)
            return self._records_of(self.ef), self.ef
        if p2 & 0x07 != 0x04:
            raise _SW(0x6A86)
        sfi = p2 >> 3
        if self.df == _BANK and sfi == profile.BANK_CARD_SFI:
            return {k: _tlv(int(k, 16), bytes.fromhex(v)).hex() for k, v in self.state.bank.items()}, None
        ef = {v: k for k, v in profile.SFI.items()}.get(sfi)
        if self.df != _SSSE or ef is None:
            raise _SW(0x6A82)
        self.ef = ef
        return self._records_of(ef), ef

    def _records_of(self, ef: int) -> dict:
        """The records of an SSSE file; EF0D (参保地信息) is empty on cards of older state files."""
        return self.state.records.setdefault(f"EF{ef & 0xFF:02X}", {})

    def _read_record(self, p1, p2, data, le):
        records, _ = self._records_for(p2)
        record = records.get(f"{p1:02X}")
        if record is None:
            raise _SW(0x6A83)
        raw = bytes.fromhex(record)
        if le != len(raw):
            return bytes([0x6C, len(raw)])
        return raw + b"\x90\x00"

    def _update_record(self, p1, p2, data, le):
        records, ef = self._records_for(p2)
        if self.state.blocked:
            raise _SW(0x9303)
        if not self.authenticated:
            raise _SW(0x6982)
        f = profile.BY_TAG.get((ef, p1))
        if f is None or not data or data[0] != p1:
            raise _SW(0x6A83)
        if len(data) != f.length + 2 or data[1] != f.length:
            raise _SW(0x6700)
        records[f"{p1:02X}"] = data.hex().upper()
        self._save()
        return b"\x90\x00"

    def _check_pin(self, pin: bytes) -> None:
        if self.state.blocked:
            raise _SW(0x9303)
        if self.state.pin_tries_left <= 0:
            raise _SW(0x6983)
        if pin.hex() != self.state.pin:
            self.state.pin_tries_left -= 1
            self._save()
            raise _SW(0x63C0 | self.state.pin_tries_left)
        if self.state.pin_tries_left != profile.PIN_TRIES:
            self.state.pin_tries_left = profile.PIN_TRIES
            self._save()

    def _verify(self, p1, p2, data, le):
        if self.df != _SSSE:
            raise _SW(0x6985)
        if len(data) != 3:
            raise _SW(0x6700)
        self._check_pin(data)
        return b"\x90\x00"

    def _change_pin(self, p1, p2, data, le):
        if self.df != _SSSE:
            raise _SW(0x6985)
        if p1 == 0x00:  # reset by the issuer: needs terminal authentication, not the old PIN
            if len(data) != 3:
                raise _SW(0x6700)
            if not self.authenticated:
                raise _SW(0x6982)
            new = data
        else:
            if len(data) != 7 or data[3] != 0xFF:
                raise _SW(0x6700)
            self._check_pin(data[:3])
            new = data[4:]
        if not new.hex().isdigit():
            raise _SW(0x6A80)
        self.state.pin, self.state.pin_tries_left = new.hex(), profile.PIN_TRIES
        self._save()
        return b"\x90\x00"

    def _get_challenge(self, p1, p2, data, le):
        if le not in (4, 8):
            raise _SW(0x6700)
        self.challenge = secrets.token_bytes(le)
        return self.challenge + b"\x90\x00"

    def _external_authenticate(self, p1, p2, data, le):
        challenge, self.challenge = self.challenge, None  # one try per challenge
        if p2 != 0x01:
            raise _SW(0x6A88)
        if challenge is None:
            raise _SW(0x6984)
        expected = simulated_cryptogram(bytes.fromhex(self.state.key), challenge)
        if len(data) != 8 or data != expected:
            self.authenticated = False
            raise _SW(0x6300)
        self.authenticated = True
        return b"\x90\x00"

    def _block(self, p1, p2, data, le):
        if self.df != _SSSE:
            raise _SW(0x6985)
        if not self.authenticated:
            raise _SW(0x6982)
        self.state.blocked = True
        self._save()
        return b"\x90\x00"

    def _get_response(self, p1, p2, data, le):
        if not self.pending:
            raise _SW(0x6985)
        if le != len(self.pending):
            return bytes([0x6C, len(self.pending)])
        out, self.pending = self.pending, b""
        return out + b"\x90\x00"


class _SW(Exception):
    def __init__(self, code: int):
        self.code = code


def _tlv(tag: int, value: bytes) -> bytes:
    t = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    return t + bytes([len(value)]) + value


def _body(c: bytes) -> tuple[bytes, int | None]:
    """Split a short APDU into (data, Le) per ISO 7816-4 cases 1-4."""
    rest = c[4:]
    if not rest:
        return b"", None
    if len(rest) == 1:
        return b"", rest[0]
    lc = rest[0]
    data = rest[1:1 + lc]
    if len(rest) == 1 + lc:
        return data, None
    if len(rest) == 2 + lc:
        return data, rest[-1]
    raise _SW(0x6700)


# --- the vpcd connection ---------------------------------------------------------------------

def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        # Without QUICKACK every APDU waits ~40 ms for the delayed ACK (machine-notes).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def _connect_to_vpcd(host: str, port: int, timeout: float) -> socket.socket:
    """Connect and wait for vpcd's first message (power on / ATR request).

    vpcd re-opens its listening socket after a card leaves; a connection made in that
    moment sits in a dead backlog and is never served, so reconnect until vpcd talks.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=2)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(2)
            sock.recv(1, socket.MSG_PEEK)
            sock.settimeout(None)
            return sock
        except OSError:  # not listening yet, or not served: try again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def serve(state_path: str, host: str = "127.0.0.1", port: int = VPCD_PORTS[0],
          faults: list[str] = (), connect_timeout: float = 30.0) -> int:
    """Insert the card into the vpcd reader at host:port and answer until pulled.

    Returns 0 when vpcd closes the connection (pcscd stopped), 3 when a fault pulled the card.
    """
    card = VirtualCard(state_path, faults)
    sock = _connect_to_vpcd(host, port, connect_timeout)
    log.info("virtual card inserted at %s:%d (%s)", host, port, state_path)
    try:
        while True:
            (length,) = struct.unpack(">H", _recv_exact(sock, 2))
            payload = _recv_exact(sock, length)
            if length == 1:
                code = payload[0]
                log.debug("vpcd control %d", code)
                if code in (1, 2):  # power on, reset
                    card.power_on()
                elif code == 4:
                    _send(sock, ATR)
                continue
            _send(sock, card.process(payload))
    except CardPulled as pulled:
        log.warning("card %s", pulled)
        return 3
    except ConnectionError:
        return 0
    finally:
        sock.close()


def create_blank(path: str, bank_card_number: str = "6217001234567890123", key: bytes = DEMO_KEY) -> None:
    """Write the state file of a new semi-finished card."""
    CardState.blank(bank_card_number, key).save(path)


def create_issued(path: str, card_data: dict, bank_card_number: str, key: bytes = DEMO_KEY) -> None:
    """Write the state file of a card already issued to the holder of ``card_data`` (the
    profile fields, ``profile.encode_card``; ProfileError if they do not fit): EF05/EF06
    written, never moved (no EF0D), the issued PIN with all its tries, not blocked."""
    state = CardState.blank(bank_card_number, key)
    for ef, records in profile.encode_card(card_data).items():
        state.records[f"EF{ef & 0xFF:02X}"] = {f"{f.tag:02X}": rec.hex().upper() for f, rec in records}
    state.save(path)


if __name__ == "__main__":  # pragma: no cover - convenience; the CLI is ``python -m hardware``
    logging.basicConfig(level=logging.INFO)
    sys.exit(serve(sys.argv[1]))
