"""What every job kind's handler shares: its outcome and the checks of the job's data and of
the card in the reader against the job's holder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..card import CardInfo
from .errors import BadJobError, WrongCardError


@dataclass
class Outcome:
    """What a job did to the card (before it becomes a result)."""

    card: dict = field(default_factory=dict)
    bank_card_number: str = ""
    apdus: int = 0
    resumed: bool = False
    extra: dict = field(default_factory=dict)


def job_holder(job: dict) -> str:
    """The job's holder (``card.ssn``); BadJobError before the card is touched if missing."""
    want = required(job, "card", dict)
    ssn = str(want.get("ssn") or "").upper()
    if not ssn:
        raise BadJobError("任务缺少社会保障号码", "the job has no social security number")
    return ssn


def check_job_holder(job: dict, info: CardInfo) -> None:
    """WrongCardError unless ``info`` is the card of the job's holder (and card number)."""
    want = job["card"]
    if info.fields.get("ssn", "").upper() != job_holder(job) or (
        want.get("card_number")
        and info.fields.get("card_number") != str(want["card_number"]).upper()
    ):
        raise WrongCardError()


def required(job: dict, key: str, kind: type):
    value = job.get(key)
    if not isinstance(value, kind) or not value:
        raise BadJobError(f"任务缺少 {key}", f"the job has no {key!r}")
    return value


def digits(value) -> str:
    return re.sub(r"\s", "", str(value or "")).upper()
