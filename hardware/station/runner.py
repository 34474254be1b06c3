"""The station's loop: claim a job, run its kind's handler on the card, report the outcome."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field

from .. import errors, profile, reader
from ..card import CardInfo, SocialSecurityCard
from ..personalise import (
    RETRYABLE,
    CardAlreadyPersonalisedError,
    CardMismatchError,
    Journal,
    personalise,
    verify_card,
)
from ..pinpad import NoPinPadError, PinPad
from ..printer import CardFace, CardPrinter
from ..region import RegionJournal, check_region, rewrite_region
from ..security import SecurityModule

log = logging.getLogger(__name__)

from ..protocol import JOB_ID, KINDS
from .client import PlatformClient
from .errors import (
    EXIT_OK,
    BadJobError,
    BankMismatchError,
    HolderPinBlockedError,
    InvalidPinError,
    JobCancelledError,
    OldPinWrongError,
    PlatformGaveUpError,
    PlatformProtocolError,
    PlatformUnavailableError,
    UnauthorizedError,
    WrongCardError,
    error_payload,
)
from .spool import Spool, _now, _read_json, write_json_atomic


# One handler per job kind (protocol.KINDS): the Station method that runs it.
HANDLERS = {"issue": "_issue", "read": "_read", "verify": "_verify", "block": "_block",
            "reset_pin": "_reset_pin", "change_pin": "_change_pin",
            "rewrite_region": "_rewrite_region"}
assert set(HANDLERS) == set(KINDS), "every job kind of the protocol has its handler"


@dataclass
class Outcome:
    """What a job did to the card (before it becomes a result)."""

    card: dict = field(default_factory=dict)
    bank_card_number: str = ""
    apdus: int = 0
    resumed: bool = False
    extra: dict = field(default_factory=dict)


class Station:
    def __init__(
        self,
        client: PlatformClient,
        spool: Spool,
        printer: CardPrinter,
        sam: SecurityModule,
        reader_name: str | None = None,
        card_wait: float = 120.0,
        poll: float = 5.0,
        platform_wait: float = 0.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        cards=None,  # a card feeder (the demo's hardware.feeder), or None
        pin_pad: PinPad | None = None,  # where holders type PINs (change_pin); None: no PIN pad
    ):
        self.client = client
        self.spool = spool
        self.printer = printer
        self.sam = sam
        self.reader_name = reader_name
        self.card_wait = card_wait  # how long a job waits for a pulled card to come back
        self.poll = poll  # seconds between claims when there is no job
        self.platform_wait = platform_wait  # give up after this long unreachable (0: never)
        self.backoff = backoff
        self.cards = cards  # --virtual-cards: puts the job's (blank or holder's) card in the reader
        self.pin_pad = pin_pad

    # -- main loop --
    def run(self, once: bool = False) -> int:
        """Re-send results, resume spooled jobs, then claim jobs (at most one with ``once``)."""
        self.deliver_pending()
        resumed = self.resume_unfinished()
        if once and resumed:
            return EXIT_OK
        while True:
            self.deliver_pending()  # results that could not be sent earlier
            job = self._retry(self.client.claim, "claim")
            worked = job is not None and self.take(job)
            if once:
                return EXIT_OK
            if not worked:
                time.sleep(self.poll)  # also after a malformed job: do not hammer the platform

    def deliver_pending(self) -> None:
        for job_id in self.spool.pending_results():
            self.deliver(job_id)

    def resume_unfinished(self) -> int:
        ids = self.spool.unfinished()
        for job_id in ids:
            log.info("resuming job %s from the spool", job_id)
            self.execute(self.spool.load_job(job_id), resuming=True)
        return len(ids)

    def take(self, job: dict) -> bool:
        """Spool a freshly claimed job, then run it; False if it was unusable."""
        job_id = job.get("id")
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            # Cannot be spooled under that name: tell the platform once, best effort.
            log.error("claimed a job with an unusable id %r", job_id)
            if isinstance(job_id, str) and job_id:
                try:
                    self.client.result(
                        job_id,
                        self._result(
                            job,
                            None,
                            BadJobError(f"任务号无效：{job_id!r}", f"invalid job id: {job_id!r}"),
                        ),
                    )
                except (PlatformUnavailableError, PlatformProtocolError, JobCancelledError) as e:
                    log.warning("could not report the bad job id: %s", e)
            return False
        if self.spool.has(job_id, "result.json"):
            self.deliver(job_id)  # handed out again although we hold its result: re-send it
            return True
        self.spool.save_job(job)  # before any work: a crash from here on resumes from the spool
        self.execute(job)
        return True

    def execute(self, job: dict, resuming: bool = False) -> None:
        job_id = job["id"]
        kind = job.get("kind")
        log.info(
            "job %s (%s, attempt %s) holder %s",
            job_id,
            kind,
            job.get("attempt", 1),
            profile.mask((job.get("card") or {}).get("ssn", "")),
        )
        try:
            if resuming:
                self._progress(
                    job_id, "resuming", "继续执行中断的任务（resuming an interrupted job）"
                )
            else:
                self._progress(job_id, "claimed", "已领取任务（job claimed）")
            method = HANDLERS.get(kind)
            handler = getattr(self, method) if method else None
            if handler is None:
                raise BadJobError(f"不支持的任务类型：{kind!r}", f"unsupported job kind: {kind!r}")
            outcome, failure = handler(job), None
        except JobCancelledError:
            log.warning("job %s was cancelled on the platform; spool kept in rejected/", job_id)
            self.spool.reject(job_id, "cancelled")
            return
        except (UnauthorizedError, PlatformGaveUpError):
            raise
        except Exception as e:  # every card/data failure becomes a result, never a crash
            if not isinstance(e, errors.HardwareError):
                log.exception("job %s: unexpected error", job_id)
            outcome, failure = None, e
        result = self._result(job, outcome, failure)
        self.spool.save_result(job_id, result)  # kept until the platform acknowledged it
        if failure is None:
            log.info(
                "job %s ok (%d APDUs%s)",
                job_id,
                result["apdus"],
                ", resumed" if result["resumed"] else "",
            )
        else:
            log.warning("job %s failed: %s", job_id, failure)
        self.deliver(job_id)

    def deliver(self, job_id: str) -> None:
        """Send the spooled result until the platform acknowledges it."""
        result = self.spool.load_result(job_id)
        try:
            self._retry(lambda: self.client.result(job_id, result), f"result of {job_id}")
        except JobCancelledError:
            where = self.spool.reject(job_id, "cancelled")
            log.warning(
                "platform refused the result of %s (job cancelled); kept in %s", job_id, where
            )
            return
        except PlatformProtocolError as e:
            where = self.spool.reject(job_id, str(e))
            log.error("platform refused the result of %s: %s; kept in %s", job_id, e, where)
            return
        self.spool.acknowledged(job_id)

    def _retry(self, call, what: str):
        """Call the platform until it answers; back off on timeouts and refused connections."""
        delay, cap = self.backoff
        started = time.monotonic()
        while True:
            try:
                return call()
            except PlatformUnavailableError as e:
                if self.platform_wait and time.monotonic() - started >= self.platform_wait:
                    raise PlatformGaveUpError() from e
                log.warning("%s: %s; retry in %.1f s", what, e.en, delay)
                time.sleep(delay)
                delay = min(delay * 2, cap)

    def _progress(self, job_id: str, state: str, detail: str) -> None:
        """Best effort: the clerk's screen. 409 (cancelled) and 401 are raised, the rest logged."""
        try:
            self.client.progress(job_id, state, detail)
        except (PlatformUnavailableError, PlatformProtocolError) as e:
            log.debug("progress %s of %s not delivered: %s", state, job_id, e)

    def _result(self, job: dict, outcome: Outcome | None, failure: BaseException | None) -> dict:
        outcome = outcome or Outcome()
        return {
            "job_id": job.get("id"),
            "attempt": job.get("attempt", 1),
            "kind": job.get("kind"),
            "station": self.client.station_id,
            "result_id": uuid.uuid4().hex,
            "ok": failure is None,
            "card": outcome.card,
            "bank_card_number": outcome.bank_card_number,
            "apdus": outcome.apdus,
            "resumed": outcome.resumed,
            "error": None if failure is None else error_payload(failure),
            "finished_at": _now(),
            **outcome.extra,
        }

    # -- the card in the reader --
    def _feed_holder(self, job: dict) -> None:
        """--virtual-cards (demo): the feeder puts the holder's virtual card in the reader for
        a job on a card in use (``hardware.feeder``); without it, whatever card is there."""
        if self.cards is not None:
            self.cards.insert_holder(job)

    def _with_card(self, job_id: str, work):
        """Run ``work(conn)`` on the card; if it is pulled (or the reader/pcscd goes away) wait
        for it to come back until the deadline, then let the last error be the result."""
        deadline = time.monotonic() + self.card_wait
        shown = None
        while True:
            try:
                remaining = max(0.0, deadline - time.monotonic())
                with reader.connect(self.reader_name, timeout=min(remaining, 2.0)) as conn:
                    return work(conn)
            except (*RETRYABLE, CardMismatchError) as e:
                if time.monotonic() >= deadline:
                    raise
                if type(e) is not shown:
                    shown = type(e)
                    state = (
                        "waiting_for_original_card"
                        if isinstance(e, CardMismatchError)
                        else "waiting_for_card"
                    )
                    log.info("job %s: %s", job_id, e.en)
                    self._progress(job_id, state, f"{e.zh}（{e.en}）")
                if not isinstance(e, (errors.NoCardError, errors.CardRemovedError)):
                    time.sleep(0.5)  # connect() waits for a card itself; these come back at once

    def _issue(self, job: dict) -> Outcome:
        """发卡: financial data check, holder check, print the face, personalise (write + read
        back + verify). Nothing is printed for a card that cannot be written."""
        job_id = job["id"]
        data = _required(job, "card", dict)
        profile.encode_card(data)  # invalid data fails before anything is printed or written
        face = CardFace.from_dict(job_id, job.get("face") or {}, data)
        face.validate()
        expected = _digits(job.get("expected_bank_card_number"))
        journal = Journal.open(self.spool.path(job_id, "journal.json"), job_id)
        if self.cards is not None and expected:
            self.cards.insert(expected)

        def work(conn) -> Outcome:
            card = SocialSecurityCard(conn)
            if journal.state == "done":
                return self._reverify(conn, data, journal)
            self._progress(job_id, "checking_bank", "核对银行账户（financial data check）")
            bank = card.bank_card_number()
            if journal.bank_card_number is not None and bank != journal.bank_card_number:
                raise CardMismatchError()  # half-written job, another card: wait for the original
            if expected and bank != expected:
                raise BankMismatchError(expected, bank)
            _check_holder(card, data)
            printed = self._print_once(job_id, face)
            self._progress(job_id, "writing", "写卡并校验（writing and verifying the chip）")
            result = personalise(conn, data, self.sam, journal)
            return Outcome(
                result.card,
                bank,
                result.apdus,
                result.resumed or journal.attempts > 1,
                {"printed": printed},
            )

        return self._with_card(job_id, work)

    def _reverify(self, conn, data: dict, journal: Journal) -> Outcome:
        """Killed after personalisation finished but before the result was saved: success
        is still only reported after a fresh read-back of the whole card."""
        start = conn.apdu_count
        info = SocialSecurityCard(conn).read()
        if info.bank_card_number != journal.bank_card_number:
            raise CardMismatchError()
        differences = verify_card(conn, data)
        if differences:
            raise errors.VerificationError(differences)
        printed = (
            _read_json(self.spool.path(journal.job_id, "printed.json"))
            if self.spool.has(journal.job_id, "printed.json")
            else None
        )
        return Outcome(
            info.as_dict(),
            info.bank_card_number,
            conn.apdu_count - start,
            True,
            {"printed": printed},
        )

    def _print_once(self, job_id: str, face: CardFace) -> dict:
        """A real printer cannot un-print: a resumed job does not print its face again."""
        marker = self.spool.path(job_id, "printed.json")
        if os.path.exists(marker):
            return _read_json(marker)
        self._progress(job_id, "printing", "打印卡面（printing the card face）")
        printed = self.printer.print_card(face)
        info = {"path": printed.path, "size": list(printed.size), "at": _now()}
        write_json_atomic(marker, info)
        return info

    def _read(self, job: dict) -> Outcome:
        """读卡: whatever card is in the reader."""

        def work(conn) -> Outcome:
            self._progress(job["id"], "reading", "读卡（reading the card）")
            info = SocialSecurityCard(conn).read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _verify(self, job: dict) -> Outcome:
        """校验: the card holds exactly the job's card data."""
        data = _required(job, "card", dict)
        profile.encode_card(data)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            self._progress(job["id"], "verifying", "校验卡片数据（verifying the card）")
            differences = verify_card(conn, data)
            if differences:
                raise errors.VerificationError(differences)
            info = SocialSecurityCard(conn).read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _holder_card(self, conn, job: dict) -> SocialSecurityCard:
        """The card in the reader must be the job's holder's (blocking a stranger's card
        cannot be undone)."""
        _job_holder(job)
        card = SocialSecurityCard(conn)
        _check_job_holder(job, card.read())
        return card

    def _block(self, job: dict) -> Outcome:
        """应用锁定 (lost/replaced card). Idempotent: an already blocked card is fine."""
        _job_holder(job)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "blocking", "锁定社保应用（blocking the application）")
            card.block_application(self.sam)
            info = card.read()
            if not info.blocked:
                raise errors.HardwareError(
                    "锁定后读卡仍为正常状态", "the application still reads as active after blocking"
                )
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _reset_pin(self, job: dict) -> Outcome:
        """密码重置 to ``new_pin`` or the issued PIN (the holder changes it at a PIN pad)."""
        new_pin = str(job.get("new_pin") or profile.ISSUED_PIN)
        _job_holder(job)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "resetting_pin", "重置密码（resetting the PIN）")
            card.reset_pin(new_pin, self.sam)
            info = card.read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _change_pin(self, job: dict) -> Outcome:
        """修改密码 at the self-service terminal: the holder types the old and the new PIN on
        the PIN pad (they never travel through the platform, and are never logged or kept).
        VERIFY old -> CHANGE PIN -> VERIFY new.

        The journal (no PINs in it) makes a pulled card or a killed station safe: once CHANGE
        PIN was sent its outcome is unknown, so a resumed job first tries the new PIN (the
        old one right before reset the try counter, so a miss costs nothing lasting)."""
        job_id = job["id"]
        _job_holder(job)
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
            _check_job_holder(job, info)
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

    def _rewrite_region(self, job: dict) -> Outcome:
        """参保地写入 (moving between the city's regions, same card): write EF0D, read it back,
        verify; crash-safe with its journal (``hardware/region.py``)."""
        job_id = job["id"]
        _job_holder(job)
        try:
            region_code, moved_on = check_region(job.get("region"))
        except errors.ProfileError as e:
            raise BadJobError(f"参保地信息格式错误：{e.zh}", f"malformed region: {e.en}",
                              fields=e.errors) from None
        self._feed_holder(job)
        journal = RegionJournal.open(self.spool.path(job_id, "journal.json"), job_id)

        def work(conn) -> Outcome:
            self._progress(job_id, "rewriting_region",
                           "写入参保地信息并校验（writing and verifying the insured region）")
            result = rewrite_region(conn, region_code, moved_on, self.sam, journal,
                                    check=lambda info: _check_job_holder(job, info))
            return Outcome(result.card, result.bank_card_number, result.apdus, result.resumed,
                           {"region": result.region})

        return self._with_card(job_id, work)


def _check_holder(card: SocialSecurityCard, data: dict) -> None:
    """Before printing: the card must be blank or already carry this holder's data (a resumed
    job), and its application must not be blocked; ``personalise`` checks the same again."""
    on_card = card.read_all()
    if card.blocked:
        raise errors.ApplicationBlockedError(0x9303, "SELECT")
    holder = on_card[profile.EF06].get("ssn")
    if holder is not None and holder != profile.tlv(profile.BY_KEY["ssn"], data["ssn"]):
        raise CardAlreadyPersonalisedError()


def _job_holder(job: dict) -> str:
    """The job's holder (``card.ssn``); BadJobError before the card is touched if missing."""
    want = _required(job, "card", dict)
    ssn = str(want.get("ssn") or "").upper()
    if not ssn:
        raise BadJobError("任务缺少社会保障号码", "the job has no social security number")
    return ssn


def _check_job_holder(job: dict, info: CardInfo) -> None:
    """WrongCardError unless ``info`` is the card of the job's holder (and card number)."""
    want = job["card"]
    if info.fields.get("ssn", "").upper() != _job_holder(job) or (
        want.get("card_number")
        and info.fields.get("card_number") != str(want["card_number"]).upper()
    ):
        raise WrongCardError()


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


def _required(job: dict, key: str, kind: type):
    value = job.get(key)
    if not isinstance(value, kind) or not value:
        raise BadJobError(f"任务缺少 {key}", f"the job has no {key!r}")
    return value


def _digits(value) -> str:
    return re.sub(r"\s", "", str(value or "")).upper()


# --- command line -----------------------------------------------------------------------------
