"""Crash-safe personalisation 写卡 (个人化): write EF05 + EF06, read back, verify byte for byte.

A card pulled, or the station killed, at any APDU leaves a journal saying where the job
stood. Running the job again with the same journal resumes it: the card is checked to be the
same one (its bank card number), records that already hold the right bytes are skipped, the
rest written, and the whole card read back. Success is reported only after that read-back
matched every byte; a write whose transmit failed may or may not have landed, so nothing
is trusted until it has been read.

Journal states: ``new`` -> ``writing`` -> ``verifying`` -> ``done``; ``failed`` for errors a retry
cannot fix (the data does not fit the profile, another person's card, verification mismatch
on a card that accepted the write).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field

from . import errors, profile
from .card import SocialSecurityCard
from .reader import CardConnection
from .security import SecurityModule

RETRYABLE = (errors.CardRemovedError, errors.CardTimeoutError, errors.NoCardError,
             errors.NoReaderError, errors.NoPcscdError)


class CardMismatchError(errors.HardwareError):
    zh = "插入的卡片不是本任务开始写入的那张卡，请插回原卡"
    en = "This is not the card the job started writing; insert the original card"


class CardAlreadyPersonalisedError(errors.HardwareError):
    zh = "该卡已写入其他人的社保信息，不能覆盖"
    en = "The card already carries another person's social-security data; it will not be overwritten"


@dataclass
class Journal:
    """Progress of one personalisation job, persisted atomically after every step."""

    job_id: str
    state: str = "new"
    bank_card_number: str | None = None  # identifies the physical card once first seen
    written: list = field(default_factory=list)  # record keys confirmed written
    attempts: int = 0
    error: str = ""
    updated_at: str = ""
    path: str | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | None, job_id: str) -> "Journal":
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            return cls(**data, path=path)
        return cls(job_id=job_id, path=path)

    def save(self, **changes) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        self.updated_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        if not self.path:
            return
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)), prefix=".job-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


@dataclass
class Result:
    ok: bool
    card: dict  # what the card holds after the job (read back)
    apdus: int
    resumed: bool


def personalise(conn: CardConnection, data: dict, sam: SecurityModule,
                journal: Journal | None = None, allow_overwrite: bool = False) -> Result:
    """Write ``data`` (profile keys) to the card in ``conn`` and verify it.

    Raises ProfileError before touching the card if the data does not fit; a RETRYABLE error
    leaves the journal in ``writing``/``verifying`` for a later resume.
    """
    journal = journal or Journal(job_id="adhoc")
    if journal.state == "done":
        raise errors.HardwareError("该写卡任务已完成", "This personalisation job is already done")
    try:
        encoded = profile.encode_card(data)
    except errors.ProfileError as e:
        journal.save(state="failed", error=str(e))
        raise
    resumed = journal.state in ("writing", "verifying")
    journal.save(attempts=journal.attempts + 1)
    start_count = conn.apdu_count
    card = SocialSecurityCard(conn)

    bank = card.bank_card_number()
    if journal.bank_card_number is None:
        journal.save(bank_card_number=bank)
    elif journal.bank_card_number != bank:
        raise CardMismatchError()

    on_card = card.read_all()
    if card.blocked:
        journal.save(state="failed", error="application blocked")
        raise errors.ApplicationBlockedError(0x9303, "SELECT")
    holder = on_card[profile.EF06].get("ssn")
    wanted = profile.tlv(profile.BY_KEY["ssn"], data["ssn"])
    if holder is not None and holder != wanted and not allow_overwrite:
        journal.save(state="failed", error="card belongs to another person")
        raise CardAlreadyPersonalisedError()

    journal.save(state="writing")
    card.select_ssse()
    card.authenticate(sam)
    for ef, records in encoded.items():
        todo = [(f, rec) for f, rec in records if on_card[ef].get(f.key) != rec]
        if todo:
            card.select_ef(ef)
        for f, rec in todo:
            card.write_record(rec)
            journal.written.append(f.key)
            journal.save()

    journal.save(state="verifying")
    back = card.read_all()
    differences = _differences(encoded, back)
    if differences:
        journal.save(state="failed", error="verification: " + ",".join(differences))
        raise errors.VerificationError(differences)
    info = card.info(back, bank)
    journal.save(state="done", error="")
    return Result(True, info.as_dict(), conn.apdu_count - start_count, resumed)


def verify_card(conn: CardConnection, data: dict) -> list[str]:
    """Field keys whose bytes on the card differ from ``data`` (empty list: identical)."""
    encoded = profile.encode_card(data)
    return _differences(encoded, SocialSecurityCard(conn).read_all())


def _differences(encoded: dict, back: dict) -> list[str]:
    return [f.key for ef, records in encoded.items() for f, rec in records if back[ef].get(f.key) != rec]
