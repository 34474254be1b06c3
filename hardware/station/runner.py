"""The station's loop: claim a job, run its kind's handler on the card, report the outcome.
The handlers live by kind: ``issuing`` (issue), ``card_jobs`` (read, verify, block, reset_pin,
rewrite_region), ``pin_change`` (change_pin); what they share is in ``job``."""

from __future__ import annotations

import logging
import time
import uuid

from .. import errors, profile, reader
from ..personalise import RETRYABLE, CardMismatchError
from ..pinpad import PinPad
from ..printer import CardPrinter
from ..protocol import JOB_ID, KINDS
from ..security import SecurityModule
from .card_jobs import CardInUseJobs
from .client import PlatformClient
from .errors import (
    EXIT_OK,
    BadJobError,
    JobCancelledError,
    PlatformGaveUpError,
    PlatformProtocolError,
    PlatformUnavailableError,
    UnauthorizedError,
    error_payload,
)
from .issuing import IssueJobs
from .job import Outcome
from .pin_change import PinChangeJobs
from .spool import Spool, _now

log = logging.getLogger(__name__)

# One handler per job kind (protocol.KINDS): the Station method that runs it.
HANDLERS = {"issue": "_issue", "read": "_read", "verify": "_verify", "block": "_block",
            "reset_pin": "_reset_pin", "change_pin": "_change_pin",
            "rewrite_region": "_rewrite_region"}
assert set(HANDLERS) == set(KINDS), "every job kind of the protocol has its handler"


class Station(IssueJobs, CardInUseJobs, PinChangeJobs):
    """One card station at a desk. The handlers of the job kinds come from the mixins and use
    the loop's ``_with_card``, ``_feed_holder`` and ``_progress``."""

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
