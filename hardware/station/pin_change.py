"""修改密码 at the self-service terminal: the holder's PINs from the PIN pad, VERIFY old -> CHANGE
PIN -> VERIFY new, crash-safe with a journal that holds no PIN."""

from __future__ import annotations

from .. import errors
from ..card import CardInfo, SocialSecurityCard
from ..personalise import CardMismatchError, Journal
from ..pinpad import NoPinPadError
from .errors import HolderPinBlockedError, InvalidPinError, OldPinWrongError
from .job import Outcome, check_job_holder, job_holder


class PinChangeJobs:
    """The ``change_pin`` kind, mixed into :class:`~.runner.Station`."""

    def _change_pin(self, job: dict) -> Outcome:
        """修改密码 at the self-service terminal: the holder types the old and the new PIN on
        the PIN pad (they never travel through the platform, and are never logged or kept).
        VERIFY old -> CHANGE PIN -> VERIFY new.

        The journal (no PINs in it) makes a pulled card or a killed station safe: once CHANGE
        PIN was sent its outcome is unknown, so a resumed job first tries the new PIN (the
        old one right before reset the try counter, so a miss costs nothing lasting)."""
        job_id = job["id"]
        job_holder(job)
        if self.pin_pad is None:
            raise NoPinPadError()
        self._feed_holder(job)
        journal = Journal.open(self.spool.path(job_id, "journal.json"), job_id)
        pins: list[tuple[str, str]] = []  # asked once per run, kept in memory only

        def work(conn) -> Outcome:
            card = SocialSecurityCard(conn)
            info = card.read()
            if journal.bank_card_number not in (None, info.bank_card_number):
                raise CardMismatchError()  # started on another card: wait for that one
            check_job_holder(job, info)
            if info.blocked:
                raise errors.ApplicationBlockedError(
                    0x9303, "SELECT",
                    "社保应用已锁定（卡片已挂失或注销），不能修改密码；请持本人身份证到社保卡服务窗口办理",
                    "The social-security application is blocked (card reported lost or "
                    "cancelled); the PIN cannot be changed. The holder should go to a service "
                    "counter with their ID card")
            if not pins:
                self._progress(job_id, "waiting_for_pin",
                               "请持卡人在密码键盘上输入密码（waiting for the holder's PIN entry）")
                pins.append(_checked_pins(*self.pin_pad.read_pins(job)))
            old, new = pins[0]
            if journal.bank_card_number is None:
                journal.save(bank_card_number=info.bank_card_number)
            journal.save(attempts=journal.attempts + 1)
            self._progress(job_id, "changing_pin", "修改密码（changing the PIN）")
            if journal.state in ("changing", "done") and _pin_works(card, new):
                journal.save(state="done")  # the change had landed before the interruption
                return _pin_changed(conn, info, True)
            try:
                card.verify_pin(old)
            except errors.WrongPinError as e:
                raise _wrong_old_pin(e) from None
            except errors.PinBlockedError as e:
                raise HolderPinBlockedError(e.sw, e.command) from None
            journal.save(state="changing")
            card.change_pin(old, new)
            if not _pin_works(card, new):  # the card must now take the new PIN
                journal.save(state="failed", error="the new PIN is not accepted after CHANGE PIN")
                raise errors.VerificationError(["pin"])
            journal.save(state="done")
            return _pin_changed(conn, info, journal.attempts > 1)

        return self._with_card(job_id, work)


def _pin_changed(conn, info: CardInfo, resumed: bool) -> Outcome:
    return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count, resumed,
                   {"pin_changed": True})


def _checked_pins(old, new) -> tuple[str, str]:
    """Both PINs 6 digits, before any try is spent (the messages never contain a PIN)."""
    bad = [which for which, pin in (("old", old), ("new", new))
           if not (isinstance(pin, str) and len(pin) == 6 and pin.isdigit())]
    if bad:
        raise InvalidPinError(bad)
    return old, new


def _pin_works(card: SocialSecurityCard, pin: str) -> bool:
    """VERIFY ``pin``; False on a wrong PIN (63Cx), other errors raised."""
    try:
        card.verify_pin(pin)
        return True
    except errors.WrongPinError:
        return False


def _wrong_old_pin(e: errors.WrongPinError) -> errors.HardwareError:
    if e.tries_left == 0:  # this try used the last one: the PIN is blocked now
        return HolderPinBlockedError(e.sw, e.command)
    return OldPinWrongError(e.sw, e.command)
