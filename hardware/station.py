"""Card station 制卡工作站: the process at the clerk's desk with the reader and the card printer.

It takes card jobs 制卡任务 from the platform over HTTP (``PROTOCOL.md``), runs them on the
card in the reader, and reports results. Nothing is lost when the station, the card or the
network fails half-way:

- every claimed job is written to the spool folder 本地任务目录 before any work, with the
  personalisation journal beside it;
- every result is written to the spool before it is sent, and removed only after the platform
  acknowledged it (results carry a ``result_id``, so a resend is harmless);
- on start the station re-sends unacknowledged results, then resumes unfinished jobs (a
  personalisation resumes from its journal), and only then claims new jobs.

Spool layout: ``<spool>/jobs/<job id>/{job.json, journal.json, printed.json, result.json}``,
``<spool>/done/<job id>.json`` (acknowledged, no personal data), ``<spool>/rejected/`` (results
the platform refused, kept for a person to look at).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import http.client
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from . import errors, lab, profile, reader
from .card import SocialSecurityCard
from .personalise import (RETRYABLE, CardAlreadyPersonalisedError, CardMismatchError, Journal,
                          personalise, verify_card)
from .printer import CardFace, CardPrinter, FontNotFoundError, PngQueuePrinter, PrinterError, find_font
from .security import SecurityModule, SimulatedSecurityModule
from .virtual_card import create_blank

log = logging.getLogger(__name__)

TOKEN_ENV = "SSCARD_STATION_TOKEN"
PLATFORM_ENV = "SSCARD_PLATFORM_URL"
STATION_ID_ENV = "SSCARD_STATION_ID"
API = "/api/v1/station"
KINDS = ("issue", "read", "verify", "block", "reset_pin")
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # safe as a file name and URL segment

EXIT_OK, EXIT_CONFIG, EXIT_UNAUTHORIZED, EXIT_PLATFORM_GONE = 0, 2, 3, 4


# --- errors -----------------------------------------------------------------------------------

class StationError(errors.HardwareError):
    zh = "制卡工作站出错"
    en = "Card station error"


class UnauthorizedError(StationError):
    zh = "平台拒绝了工作站令牌（401），工作站已停止；请检查 --token 或环境变量 SSCARD_STATION_TOKEN"
    en = ("The platform rejected the station token (401); the station stopped. "
          "Check --token or SSCARD_STATION_TOKEN")


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
    en = ("The platform stayed unreachable; the station exits. "
          "Unsent results stay in the spool and are re-sent on the next start")


class SpoolLockedError(StationError):
    zh = "本地任务目录正被另一个工作站进程使用"
    en = "The spool folder is in use by another station process"


class BadJobError(StationError):
    zh = "平台下发的任务格式错误"
    en = "The job sent by the platform is malformed"


class BankMismatchError(errors.HardwareError):
    """金融数据核对: the blank card's bank account is not the one the platform assigned."""

    def __init__(self, expected: str, found: str):
        self.expected, self.found = expected, found
        got_zh = profile.mask(found) if found else "无银行账户"
        got_en = profile.mask(found) if found else "no bank account"
        super().__init__(
            f"金融数据核对不符：卡上银行卡号为 {got_zh}，应为 {profile.mask(expected)}；请插入为该持卡人分配的空白卡",
            f"Financial data check failed: the card's bank account is {got_en}, expected "
            f"{profile.mask(expected)}; insert the blank card assigned to this holder")


class VirtualReaderBusyError(StationError):
    zh = "虚拟读卡器中已有一张不是工作站插入的卡，请先拔出（结束其 virtual-card 进程）"
    en = ("The virtual reader holds a card the station did not insert; pull it first "
          "(end its virtual-card process)")


class WrongCardError(errors.HardwareError):
    zh = "读卡器中的卡不是该持卡人的卡，请插入持卡人本人的社会保障卡"
    en = "The card in the reader is not this holder's card; insert the holder's own card"


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
            if isinstance(exc, errors.VerificationError):
                out["fields"] = {k: {"zh": "写卡校验不一致", "en": "differs on the card"} for k in exc.differences}
            return out
    return {"code": "STATION_ERROR", "message_zh": f"工作站内部错误：{exc}",
            "message_en": f"Station internal error: {exc}", "retryable": False}


# --- platform client --------------------------------------------------------------------------

class PlatformClient:
    """The three station calls of PROTOCOL.md, JSON over HTTP with a bearer token."""

    def __init__(self, base_url: str, token: str, station_id: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.station_id = station_id
        self.timeout = timeout

    def claim(self) -> dict | None:
        """The next job for this station, or None (204)."""
        status, body = self._post(f"{API}/jobs/claim", {"station": self.station_id, "kinds": list(KINDS)})
        if status == 204 or not body or body.get("job") is None:
            return None
        if not isinstance(body.get("job"), dict):
            raise PlatformProtocolError("平台应答缺少 job 对象", "the claim answer has no job object")
        return body["job"]

    def progress(self, job_id: str, state: str, detail: str) -> None:
        self._post(f"{API}/jobs/{_q(job_id)}/progress",
                   {"station": self.station_id, "state": state, "detail": detail},
                   timeout=min(self.timeout, 3.0))  # the clerk's screen must not slow the card down

    def result(self, job_id: str, result: dict) -> None:
        self._post(f"{API}/jobs/{_q(job_id)}/result", result)

    def _post(self, path: str, body: dict, timeout: float | None = None) -> tuple[int, dict | None]:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json; charset=utf-8",
                     "Accept": "application/json", "User-Agent": "sscard-station/1"})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, _read_quietly(e)
            if status in (401, 403):
                raise UnauthorizedError() from None
            if status == 409:
                raise JobCancelledError() from None
            if status >= 500 or status in (408, 429):
                raise PlatformUnavailableError(
                    f"制卡平台暂时不可用（HTTP {status}），稍后自动重试",
                    f"The card platform is unavailable (HTTP {status}); retrying") from None
            raise PlatformProtocolError(f"平台拒绝了请求（HTTP {status}）：{text}",
                                        f"The platform refused the request (HTTP {status}): {text}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:  # refused, timeout, reset
            reason = getattr(e, "reason", e)
            raise PlatformUnavailableError(f"无法连接制卡平台（{reason}），稍后自动重试",
                                           f"Cannot reach the card platform ({reason}); retrying") from None
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise PlatformProtocolError("平台应答不是 JSON", "the platform's answer is not JSON") from None


def _q(job_id: str) -> str:
    return urllib.parse.quote(job_id, safe="")


def _read_quietly(e: urllib.error.HTTPError) -> str:
    try:
        return e.read(200).decode("utf-8", "replace")
    except Exception:
        return ""
    finally:
        e.close()


# --- spool ------------------------------------------------------------------------------------

def write_json_atomic(path: str, data) -> None:
    """Temp file + fsync + os.replace: a crash leaves the old file or the new one, never half."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_json(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class Spool:
    """The station's local job folder; one station process per folder (file lock)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        for sub in ("jobs", "done", "rejected"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        self._lock = open(os.path.join(self.root, ".lock"), "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise SpoolLockedError(f"本地任务目录 {self.root} 正被另一个工作站进程使用",
                                   f"The spool {self.root} is in use by another station process") from None

    def close(self) -> None:
        self._lock.close()  # releases the flock

    def dir(self, job_id: str) -> str:
        return os.path.join(self.root, "jobs", job_id)

    def path(self, job_id: str, name: str) -> str:
        return os.path.join(self.dir(job_id), name)

    def save_job(self, job: dict) -> None:
        os.makedirs(self.dir(job["id"]), exist_ok=True)
        write_json_atomic(self.path(job["id"], "job.json"), job)

    def load_job(self, job_id: str) -> dict:
        return _read_json(self.path(job_id, "job.json"))

    def has(self, job_id: str, name: str) -> bool:
        return os.path.exists(self.path(job_id, name))

    def _ids(self, want_result: bool) -> list[str]:
        found = []
        for job_id in os.listdir(os.path.join(self.root, "jobs")):
            if not self.has(job_id, "job.json"):
                continue  # killed before the job was spooled: the platform hands it out again
            if self.has(job_id, "result.json") == want_result:
                found.append((os.path.getmtime(self.path(job_id, "job.json")), job_id))
        return [job_id for _, job_id in sorted(found)]

    def unfinished(self) -> list[str]:
        """Spooled jobs without a result, in the order they were claimed."""
        return self._ids(want_result=False)

    def pending_results(self) -> list[str]:
        return self._ids(want_result=True)

    def save_result(self, job_id: str, result: dict) -> None:
        write_json_atomic(self.path(job_id, "result.json"), result)

    def load_result(self, job_id: str) -> dict:
        return _read_json(self.path(job_id, "result.json"))

    def acknowledged(self, job_id: str) -> None:
        """The platform has the result: keep a receipt without personal data, drop the rest."""
        result = self.load_result(job_id)
        receipt = {k: result.get(k) for k in ("job_id", "attempt", "kind", "result_id", "ok", "finished_at")}
        receipt["error_code"] = (result.get("error") or {}).get("code")
        receipt["acknowledged_at"] = _now()
        write_json_atomic(os.path.join(self.root, "done", f"{job_id}.json"), receipt)
        shutil.rmtree(self.dir(job_id), ignore_errors=True)

    def reject(self, job_id: str, reason: str) -> str:
        """The platform refused the result (job cancelled, unknown): keep it for a person."""
        target = os.path.join(self.root, "rejected",
                              f"{job_id}-{_dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}")
        write_json_atomic(os.path.join(self.dir(job_id), "rejected.json"), {"reason": reason, "at": _now()})
        os.replace(self.dir(job_id), target)
        return target


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --- virtual blank cards (single-machine demo) --------------------------------------------------

class VirtualCardFeeder:
    """Demo/test aid 虚拟空白卡 (``--virtual-cards DIR``), not part of the protocol: plays the
    clerk who takes the blank card assigned to an issue job from the stock and puts it in the
    reader.

    Blank card X is the virtual card state file ``DIR/<X>.json``, created blank with bank
    account X the first time it is needed and never re-blanked afterwards (a resumed job must
    find its half-written card). The card stays in the reader after its job; the next card
    swaps it; ``close()`` pulls it.
    """

    NUMBER = re.compile(r"[0-9]{1,19}")

    def __init__(self, directory: str, reader_name: str | None, insert_timeout: float = 15.0):
        if reader_name not in lab.VIRTUAL_READERS:
            names = ", ".join(repr(r) for r in lab.VIRTUAL_READERS)
            raise StationError(f"--virtual-cards 只能用于虚拟读卡器（--reader {names}），当前为 {reader_name!r}",
                               f"--virtual-cards needs --reader to be a virtual reader ({names}), "
                               f"not {reader_name!r}")
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.reader_name = reader_name
        self.slot = lab.VIRTUAL_READERS.index(reader_name)
        self.insert_timeout = insert_timeout
        self.proc = None         # the card process this station inserted
        self.path: str | None = None
        self.present_counter = -1

    def card_path(self, bank_card_number: str) -> str:
        if not self.NUMBER.fullmatch(bank_card_number):
            raise BadJobError(f"预期银行卡号格式错误：{profile.mask(bank_card_number)}",
                              f"expected_bank_card_number is not a card number: {profile.mask(bank_card_number)}")
        return os.path.join(self.directory, f"{bank_card_number}.json")

    def insert(self, bank_card_number: str) -> str:
        """Make blank card ``bank_card_number`` the card in the reader; its state file."""
        path = self.card_path(bank_card_number)
        if self.path == path and self.proc is not None and self.proc.poll() is None:
            return path  # already in the reader
        self.pull()
        if reader.slot_status(self.reader_name)[0] == "present":
            raise VirtualReaderBusyError()
        if not os.path.exists(path):
            create_blank(path, bank_card_number)
            log.info("virtual blank card %s created", profile.mask(bank_card_number))
        self.proc = lab.start_virtual_card(path, self.slot, timeout=self.insert_timeout)
        self.path = path
        self.present_counter = reader.slot_status(self.reader_name)[1]
        log.info("virtual card %s inserted into %s", profile.mask(bank_card_number), self.reader_name)
        return path

    def pull(self) -> None:
        """Take out the card this station inserted and wait until pcscd registered it (a card
        put in before that would look like the old one, never powered up again)."""
        if self.proc is None:
            return
        proc, self.proc, self.path = self.proc, None, None
        lab.stop(proc)
        lab.wait_for_no_card(self.reader_name, self.present_counter)

    close = pull


# --- the station ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a job did to the card (before it becomes a result)."""

    card: dict = field(default_factory=dict)
    bank_card_number: str = ""
    apdus: int = 0
    resumed: bool = False
    extra: dict = field(default_factory=dict)


class Station:
    def __init__(self, client: PlatformClient, spool: Spool, printer: CardPrinter, sam: SecurityModule,
                 reader_name: str | None = None, card_wait: float = 120.0, poll: float = 5.0,
                 platform_wait: float = 0.0, backoff: tuple[float, float] = (1.0, 60.0),
                 cards: VirtualCardFeeder | None = None):
        self.client = client
        self.spool = spool
        self.printer = printer
        self.sam = sam
        self.reader_name = reader_name
        self.card_wait = card_wait          # how long a job waits for a pulled card to come back
        self.poll = poll                    # seconds between claims when there is no job
        self.platform_wait = platform_wait  # give up after this long unreachable (0: never)
        self.backoff = backoff
        self.cards = cards                  # --virtual-cards: puts the job's blank card in the reader

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
                    self.client.result(job_id, self._result(job, None, BadJobError(
                        f"任务号无效：{job_id!r}", f"invalid job id: {job_id!r}")))
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
        log.info("job %s (%s, attempt %s) holder %s", job_id, kind, job.get("attempt", 1),
                 profile.mask((job.get("card") or {}).get("ssn", "")))
        try:
            if resuming:
                self._progress(job_id, "resuming", "继续执行中断的任务（resuming an interrupted job）")
            else:
                self._progress(job_id, "claimed", "已领取任务（job claimed）")
            handler = {"issue": self._issue, "read": self._read, "verify": self._verify,
                       "block": self._block, "reset_pin": self._reset_pin}.get(kind)
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
            log.info("job %s ok (%d APDUs%s)", job_id, result["apdus"], ", resumed" if result["resumed"] else "")
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
            log.warning("platform refused the result of %s (job cancelled); kept in %s", job_id, where)
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
            "job_id": job.get("id"), "attempt": job.get("attempt", 1), "kind": job.get("kind"),
            "station": self.client.station_id, "result_id": uuid.uuid4().hex,
            "ok": failure is None, "card": outcome.card, "bank_card_number": outcome.bank_card_number,
            "apdus": outcome.apdus, "resumed": outcome.resumed,
            "error": None if failure is None else error_payload(failure),
            "finished_at": _now(), **outcome.extra,
        }

    # -- the card in the reader --
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
                    state = "waiting_for_original_card" if isinstance(e, CardMismatchError) else "waiting_for_card"
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
            return Outcome(result.card, bank, result.apdus, result.resumed or journal.attempts > 1,
                           {"printed": printed})

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
        printed = _read_json(self.spool.path(journal.job_id, "printed.json")) \
            if self.spool.has(journal.job_id, "printed.json") else None
        return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count - start, True, {"printed": printed})

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
        want = _required(job, "card", dict)
        ssn = str(want.get("ssn") or "").upper()
        if not ssn:
            raise BadJobError("任务缺少社会保障号码", "the job has no social security number")
        card = SocialSecurityCard(conn)
        info = card.read()
        if info.fields.get("ssn", "").upper() != ssn or \
                (want.get("card_number") and info.fields.get("card_number") != str(want["card_number"]).upper()):
            raise WrongCardError()
        return card

    def _block(self, job: dict) -> Outcome:
        """应用锁定 (lost/replaced card). Idempotent: an already blocked card is fine."""
        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "blocking", "锁定社保应用（blocking the application）")
            card.block_application(self.sam)
            info = card.read()
            if not info.blocked:
                raise errors.HardwareError("锁定后读卡仍为正常状态", "the application still reads as active after blocking")
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)
        return self._with_card(job["id"], work)

    def _reset_pin(self, job: dict) -> Outcome:
        """密码重置 to ``new_pin`` or the issued PIN (the holder changes it at a PIN pad)."""
        new_pin = str(job.get("new_pin") or profile.ISSUED_PIN)

        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "resetting_pin", "重置密码（resetting the PIN）")
            card.reset_pin(new_pin, self.sam)
            info = card.read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)
        return self._with_card(job["id"], work)


def _check_holder(card: SocialSecurityCard, data: dict) -> None:
    """Before printing: the card must be blank or already carry this holder's data (a resumed
    job), and its application must not be blocked; ``personalise`` checks the same again."""
    on_card = card.read_all()
    if card.blocked:
        raise errors.ApplicationBlockedError(0x9303, "SELECT")
    holder = on_card[profile.EF06].get("ssn")
    if holder is not None and holder != profile.tlv(profile.BY_KEY["ssn"], data["ssn"]):
        raise CardAlreadyPersonalisedError()


def _required(job: dict, key: str, kind: type):
    value = job.get(key)
    if not isinstance(value, kind) or not value:
        raise BadJobError(f"任务缺少 {key}", f"the job has no {key!r}")
    return value


def _digits(value) -> str:
    return re.sub(r"\s", "", str(value or "")).upper()


# --- command line -----------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m hardware station``."""
    env = os.environ.get
    parser.add_argument("--platform", default=env(PLATFORM_ENV),
                        help=f"platform base URL, e.g. https://sscard.example/ (env {PLATFORM_ENV})")
    parser.add_argument("--token", default=None,
                        help=f"station token (prefer env {TOKEN_ENV}: arguments are visible to other users)")
    parser.add_argument("--station-id", default=env(STATION_ID_ENV),
                        help=f"this station's id (env {STATION_ID_ENV})")
    parser.add_argument("--reader", default=None, help="reader name (default: the first reader)")
    parser.add_argument("--spool", default="var/station/spool", help="local job folder (default: %(default)s)")
    parser.add_argument("--queue", default="var/station/print-queue",
                        help="card-face print queue (default: %(default)s)")
    parser.add_argument("--poll", type=float, default=5.0,
                        help="seconds between claims when idle (default: %(default)s)")
    parser.add_argument("--card-wait", type=float, default=120.0,
                        help="seconds a job waits for a pulled card to come back (default: %(default)s)")
    parser.add_argument("--platform-wait", type=float, default=0.0,
                        help="exit (code 4) after the platform was unreachable this long; 0 = retry forever")
    parser.add_argument("--http-timeout", type=float, default=10.0,
                        help="seconds per HTTP request (default: %(default)s)")
    parser.add_argument("--once", action="store_true", help="process at most one job and exit (tests)")
    parser.add_argument("--virtual-cards", metavar="DIR", default=None,
                        help="demo/test aid: before each issue job put the virtual blank card "
                             "DIR/<expected bank card number>.json in the (virtual) --reader")


def main(args: argparse.Namespace) -> int:
    """Run the station; exit codes: 0 ok, 2 configuration, 3 token rejected, 4 platform gone."""
    token = args.token or os.environ.get(TOKEN_ENV)
    missing = [name for name, value in (("--platform", args.platform), ("--station-id", args.station_id),
                                        (f"--token / {TOKEN_ENV}", token)) if not value]
    if missing:
        print(f"错误 Error: 缺少参数 missing: {', '.join(missing)}", file=sys.stderr)
        return EXIT_CONFIG
    if urllib.parse.urlsplit(args.platform).scheme not in ("http", "https"):
        print(f"错误 Error: 平台地址应以 https:// 开头 (the platform URL must be http(s)://): {args.platform}",
              file=sys.stderr)
        return EXIT_CONFIG
    cards = None
    if getattr(args, "virtual_cards", None):
        try:
            cards = VirtualCardFeeder(args.virtual_cards, args.reader)
        except StationError as e:
            print(f"错误 Error: {e}", file=sys.stderr)
            return EXIT_CONFIG
    find_font()  # a station that cannot print must say so before it claims a job
    spool = Spool(args.spool)
    previous_term = None
    if cards is not None and threading.current_thread() is threading.main_thread():
        previous_term = signal.signal(signal.SIGTERM, _terminate)  # so the finally pulls the card
    try:
        station = Station(PlatformClient(args.platform, token, args.station_id, args.http_timeout), spool,
                          PngQueuePrinter(args.queue), SimulatedSecurityModule(), args.reader,
                          card_wait=args.card_wait, poll=args.poll, platform_wait=args.platform_wait,
                          cards=cards)
        log.info("station %s: platform %s, reader %s, spool %s%s", args.station_id, args.platform,
                 args.reader or "(first)", spool.root,
                 f", virtual blank cards {cards.directory}" if cards else "")
        return station.run(once=args.once)
    except UnauthorizedError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_UNAUTHORIZED
    except PlatformGaveUpError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_PLATFORM_GONE
    finally:
        try:
            if cards is not None:
                cards.close()  # the card process the station started goes with it
        except errors.HardwareError as e:
            log.warning("could not pull the virtual card: %s", e.en)
        finally:
            spool.close()
            if previous_term is not None:
                signal.signal(signal.SIGTERM, previous_term)


def _terminate(signum, frame):
    """SIGTERM (e.g. the single-machine launcher stopping): exit through the ``finally``
    blocks. Jobs are crash-safe, so this is no worse than being killed."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)
