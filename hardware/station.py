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
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from . import errors, profile, reader
from .card import SocialSecurityCard
from .personalise import (RETRYABLE, CardAlreadyPersonalisedError, CardMismatchError, Journal,
                          personalise, verify_card)
from .printer import CardFace, CardPrinter, FontNotFoundError, PngQueuePrinter, PrinterError, find_font
from .security import SecurityModule, SimulatedSecurityModule

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
                 platform_wait: float = 0.0, backoff: tuple[float, float] = (1.0, 60.0)):
        self.client = client
        self.spool = spool
        self.printer = printer
        self.sam = sam
        self.reader_name = reader_name
        self.card_wait = card_wait          # how long a job waits for a pulled card to come back
        self.poll = poll                    # seconds between claims when there is no job
        self.platform_wait = platform_wait  # give up after this long unreachable (0: never)
        self.backoff = backoff

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
        """发卡: financial data check, print the face, personalise (write + read back + verify)."""
        job_id = job["id"]
        data = _required(job, "card", dict)
        profile.encode_card(data)  # invalid data fails before anything is printed or written
        face = CardFace.from_dict(job_id, job.get("face") or {}, data)
        face.validate()
        expected = _digits(job.get("expected_bank_card_number"))
        journal = Journal.open(self.spool.path(job_id, "journal.json"), job_id)

        def work(conn) -> Outcome:
            card = SocialSecurityCard(conn)
            if journal.state == "done":
                return self._reverify(conn, data, journal)
            self._progress(job_id, "checking_bank", "核对银行账户（financial data check）")
            bank = card.bank_card_number()
            if expected and bank != expected:
                raise BankMismatchError(expected, bank)
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
    find_font()  # a station that cannot print must say so before it claims a job
    spool = Spool(args.spool)
    try:
        station = Station(PlatformClient(args.platform, token, args.station_id, args.http_timeout), spool,
                          PngQueuePrinter(args.queue), SimulatedSecurityModule(), args.reader,
                          card_wait=args.card_wait, poll=args.poll, platform_wait=args.platform_wait)
        log.info("station %s: platform %s, reader %s, spool %s", args.station_id, args.platform,
                 args.reader or "(first)", spool.root)
        return station.run(once=args.once)
    except UnauthorizedError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_UNAUTHORIZED
    except PlatformGaveUpError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_PLATFORM_GONE
    finally:
        spool.close()
