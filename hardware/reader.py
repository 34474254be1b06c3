"""Reader driver 读卡器驱动 over pyscard (PC/SC).

Finds readers, waits for a card, sends APDUs, follows ``61xx`` (GET RESPONSE) and ``6Cxx``
(resend with the right Le), and turns every failure into a typed ``HardwareError``: no pcscd,
no reader, no card, card removed, card not answering, or an error status word.
"""
from __future__ import annotations

import logging
import threading
import time

from smartcard import Exceptions as sc
from smartcard.pcsc.PCSCExceptions import BaseSCardException, EstablishContextException
from smartcard.System import readers as _pcsc_readers

from . import apdu, errors

log = logging.getLogger(__name__)

# SCARD_W_REMOVED_CARD and SCARD_E_NO_SMARTCARD: the card left the reader.
_REMOVED_CODES = {0x80100069, 0x8010000C, 0x80100068}
_REMOVED_TEXT = ("removed", "no valid response", "no smart card", "reset", "unpowered")


def _pcsc_reader_objects() -> list:
    try:
        return _pcsc_readers()
    except EstablishContextException as e:  # not a SmartcardException subclass
        raise errors.NoPcscdError() from e
    except (BaseSCardException, sc.ListReadersException) as e:
        if "0X8010002E" in str(e).upper() or "NO READERS" in str(e).upper():
            return []
        raise errors.NoPcscdError() from e


def list_readers() -> list[str]:
    """Names of the PC/SC readers; NoPcscdError when the service is not running."""
    return [str(r) for r in _pcsc_reader_objects()]


def _find_reader(name: str | None):
    found = _pcsc_reader_objects()
    if not found:
        raise errors.NoReaderError()
    if name is None:
        return found[0]
    for r in found:
        if str(r) == name or str(r).startswith(name):
            return r
    raise errors.NoReaderError(f"未找到读卡器“{name}”，现有：{', '.join(map(str, found))}",
                               f"Reader {name!r} not found; available: {', '.join(map(str, found))}")


def slot_status(reader_name: str) -> tuple[str, int]:
    """pcscd's view of the slot: ("empty" | "present" | "unknown", event counter).

    The counter (high 16 bits of the reader state) moves when pcscd's slot poll sees a card
    arrive or leave. "empty" alone is not enough: a failed transmit marks the slot empty at
    once, while the poll that really registers the removal runs up to ~400 ms later.
    """
    from smartcard import scard
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise errors.NoPcscdError()
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader_name, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS or not states:
            return "unknown", -1
        state = states[0][1]
        counter = state >> 16
        if state & scard.SCARD_STATE_EMPTY:
            return "empty", counter
        return ("present" if state & scard.SCARD_STATE_PRESENT else "unknown"), counter
    finally:
        scard.SCardReleaseContext(ctx)


def connect(reader: str | None = None, timeout: float = 10.0, transmit_timeout: float = 10.0) -> "CardConnection":
    """Wait up to ``timeout`` seconds for a card in ``reader`` (first reader by default).

    pcscd polls slots about every 400 ms, so a freshly inserted card may not answer at once:
    poll rather than sleep a fixed time.
    """
    deadline = time.monotonic() + timeout
    while True:
        r = _find_reader(reader)
        conn = r.createConnection()
        try:
            conn.connect()
            return CardConnection(conn, str(r), transmit_timeout)
        except sc.NoCardException:
            pass
        except sc.CardConnectionException as e:
            log.debug("connect to %s failed: %s", r, e)
        try:
            conn.release()
        except Exception:  # pragma: no cover - best effort cleanup
            pass
        if time.monotonic() >= deadline:
            raise errors.NoCardError()
        time.sleep(0.1)


class CardConnection:
    """An open connection to the card in one reader."""

    def __init__(self, conn, reader_name: str, transmit_timeout: float = 10.0):
        self._conn = conn
        self.reader_name = reader_name
        self.transmit_timeout = transmit_timeout
        self.apdu_count = 0
        self._dead = False  # a transmit timed out: pcscd is still stuck in it
        self.atr = bytes(conn.getATR())

    # -- raw exchange --
    def _transmit_once(self, command: bytes) -> tuple[bytes, int]:
        result: dict = {}

        def run():
            try:
                data, sw1, sw2 = self._conn.transmit(list(command))
                result["ok"] = (bytes(data), (sw1 << 8) | sw2)
            except Exception as e:  # handed to the caller's thread below
                result["error"] = e

        # pyscard's transmit blocks in C; a card that stalls must not freeze the clerk's desk.
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(self.transmit_timeout)
        self.apdu_count += 1
        if worker.is_alive():
            self._dead = True
            raise errors.CardTimeoutError()
        if "error" in result:
            raise _translate(result["error"])
        return result["ok"]

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        """Send one command; follow 61xx and 6Cxx. Returns (data, status word)."""
        data, sw = self._transmit_once(command)
        if sw >> 8 == apdu.SW_WRONG_LE:
            data, sw = self._transmit_once(command[:-1] + bytes([sw & 0xFF])
                                           if _has_le(command) else command + bytes([sw & 0xFF]))
        collected = data
        while sw >> 8 == apdu.SW_MORE_DATA:
            data, sw = self._transmit_once(apdu.get_response(sw & 0xFF))
            if sw >> 8 == apdu.SW_WRONG_LE:
                data, sw = self._transmit_once(apdu.get_response(sw & 0xFF))
            collected += data
        log.debug("%s %s -> %04X", self.reader_name, apdu.command_name(command), sw)
        return collected, sw

    def command(self, command: bytes) -> bytes:
        """Send a command that must succeed; raise the status word's typed error otherwise."""
        data, sw = self.transmit(command)
        if not apdu.is_success(sw):
            raise apdu.error_for(sw, apdu.command_name(command))
        self.last_sw = sw
        return data

    def reconnect(self) -> None:
        try:
            self._conn.reconnect()
        except Exception as e:
            raise _translate(e)

    def close(self) -> None:
        def release():
            for call in (self._conn.disconnect, getattr(self._conn, "release", lambda: None)):
                try:
                    call()
                except Exception:  # the card may be gone already
                    pass
        if self._dead:
            # disconnect would wait inside pcscd until the stuck transmit ends (card pulled):
            # let a daemon thread wait for that instead of the clerk.
            threading.Thread(target=release, daemon=True).start()
        else:
            release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _has_le(command: bytes) -> bool:
    """Case 2 (header + Le) or case 4 (header + Lc + data + Le)."""
    return len(command) == 5 or (len(command) > 5 and len(command) == 6 + command[4])


def _translate(e: Exception) -> errors.HardwareError:
    if isinstance(e, errors.HardwareError):
        return e
    if isinstance(e, EstablishContextException):
        return errors.NoPcscdError()
    if isinstance(e, sc.NoCardException):
        return errors.NoCardError()
    code = getattr(e, "hresult", None)
    text = str(e).lower()
    if (code is not None and code & 0xFFFFFFFF in _REMOVED_CODES) or any(t in text for t in _REMOVED_TEXT):
        return errors.CardRemovedError()
    if "service" in text or "no service" in text:
        return errors.NoPcscdError()
    return errors.CardRemovedError() if isinstance(e, sc.CardConnectionException) else \
        errors.HardwareError(f"读卡器错误：{e}", f"Reader error: {e}")
