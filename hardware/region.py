"""Crash-safe region rewrite 参保地写入: the holder moved to another region of the city and keeps
the card (seed 001 §1.5); the new region's centre writes the insured region (EF0D, see
``profile.REGION_FIELDS``) onto the chip.

Same discipline as ``personalise``: a journal remembers the physical card (bank card number +
card number) once it was first seen and where the job stood (``new`` -> ``writing`` ->
``verifying`` -> ``done``; ``failed`` when the read-back differed). Running the job again with
the same journal resumes it: another card is refused (``CardMismatchError``: put the original
back), records that already hold the right bytes are skipped, and success is returned only
after the whole region record was read back and found to hold exactly the new bytes. A journal
in ``done`` (killed before the result was saved) is read back again before it counts.
EF05/EF06 (the holder's data) are never written.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Callable

from . import errors, profile
from .card import CardInfo, SocialSecurityCard
from .personalise import CardMismatchError, Journal
from .reader import CardConnection
from .security import SecurityModule


@dataclass
class RegionJournal(Journal):
    """``personalise.Journal`` plus the card number: a moved holder's card is identified by
    its bank account and its card number."""

    card_number: str | None = None


@dataclass
class RegionResult:
    card: dict  # the card as read during the job, EF0D as read back after the write
    region: dict  # {"region_code": "330212", "moved_on": "2026-12-07"} as read back
    bank_card_number: str
    apdus: int
    resumed: bool


def check_region(region) -> tuple[str, str]:
    """(region_code, moved_on) of a job's ``region`` object, or a ProfileError naming what is
    wrong: ``region_code`` 6 digits, ``moved_on`` an ISO date ``YYYY-MM-DD``."""
    if not isinstance(region, dict):
        raise errors.ProfileError({"region": ("参保地信息缺失或格式错误", "region is missing or not an object")})
    code, moved_on = region.get("region_code"), region.get("moved_on")
    problems: dict[str, tuple[str, str]] = {}
    if not (isinstance(code, str) and re.fullmatch(r"[0-9]{6}", code)):
        problems["region_code"] = (f"参保地行政区划代码应为 6 位数字：{code!r}",
                                   f"region_code must be 6 digits: {code!r}")
    try:
        if not (isinstance(moved_on, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", moved_on)):
            raise ValueError(moved_on)
        _dt.date.fromisoformat(moved_on)
    except ValueError:
        problems["moved_on"] = (f"迁入日期应为 YYYY-MM-DD 格式的有效日期：{moved_on!r}",
                                f"moved_on must be a valid date YYYY-MM-DD: {moved_on!r}")
    if problems:
        raise errors.ProfileError(problems)
    return code, moved_on


def rewrite_region(conn: CardConnection, region_code: str, moved_on: str, sam: SecurityModule,
                   journal: RegionJournal | None = None,
                   check: Callable[[CardInfo], None] | None = None) -> RegionResult:
    """Write the insured region onto the card in ``conn`` and verify it by reading it back.

    ``check(info)`` runs on the card before anything is written (the station's holder check);
    a RETRYABLE error leaves the journal in ``writing``/``verifying`` for a later resume.
    """
    journal = journal or RegionJournal(job_id="adhoc")
    wanted = profile.encode_region(region_code, moved_on)  # before the card is touched
    journal.save(attempts=journal.attempts + 1)
    resumed = journal.attempts > 1 or journal.state in ("writing", "verifying", "done")
    start = conn.apdu_count
    card = SocialSecurityCard(conn)

    bank = card.bank_card_number()
    records = card.read_all()
    on_card = card.read_region()
    info = card.info(records, bank, on_card)
    identity = (bank, info.fields.get("card_number", ""))
    if journal.bank_card_number is not None and \
            (journal.bank_card_number, journal.card_number) != identity:
        raise CardMismatchError()  # half-done job, another card: the original must come back
    if check is not None:
        check(info)
    if card.blocked:
        raise errors.ApplicationBlockedError(
            0x9303, "SELECT",
            "社保应用已锁定（卡片已挂失或注销），不能写入参保地信息",
            "The social-security application is blocked (card reported lost or cancelled); "
            "the insured region cannot be written")
    if journal.bank_card_number is None:
        journal.save(bank_card_number=identity[0], card_number=identity[1])

    if journal.state != "done":  # done: killed before the result was kept; only re-read
        journal.save(state="writing")
        todo = [(f, rec) for f, rec in wanted if on_card.get(f.key) != rec]
        if todo:
            card.select_ssse()
            card.authenticate(sam)
            card.select_ef(profile.EF0D)
            for f, rec in todo:
                card.write_record(rec)
                journal.written.append(f.key)
                journal.save()
        journal.save(state="verifying")

    back = card.read_region()  # the whole region record, read again from the chip
    differences = [f.key for f, rec in wanted if back.get(f.key) != rec]
    if differences:
        journal.save(state="failed", error="verification: " + ",".join(differences))
        raise errors.VerificationError(differences)
    final = card.info(records, bank, back)
    journal.save(state="done", error="")
    read_back = final.as_dict()
    region = {"region_code": read_back["insured_region"],
              "moved_on": _iso(read_back["moved_on"])}
    return RegionResult(read_back, region, bank, conn.apdu_count - start, resumed)


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}" if len(yyyymmdd) == 8 else yyyymmdd
