"""What the generator is made of: the expected figures, ID numbers, names, the streamed file
writers."""

from __future__ import annotations

import csv
import functools
import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from stdnum import numdb
from stdnum.cn import ric

from app.procedures.batch.generate.words import (
    _ELIGIBLE,
    CITIES_DIR,
    COMMON_SURNAMES,
    CONTRIBUTION_HEADER,
    COUNT_KEYS,
    DEFAULT_CUTOFF,
    GIVEN_FEMALE,
    GIVEN_MALE,
    OTHER_BIRTH_CODES,
    SHARES,
    SPECIAL_SURNAMES,
    STATUSES,
)
from app.procedures.batch.states import Eligibility

# ---------------------------------------------------------------------------- what to expect

@dataclass(frozen=True)
class Expected:
    """What the import of the generated files must report (``batch-import --json`` without
    ``batch``), and a little more."""

    rows: int                    # data rows in the export (header not counted)
    rejected_rows: int           # of which unreadable
    persons: int                 # distinct valid ID numbers with a row in the batch's regions
    eligible: int
    held_duplicate_region: int
    excluded_insurance: int
    excluded_after_cutoff: int
    not_in_register: int
    not_local_household: int
    no_second_gen_id: int
    police_mismatch: int
    employers: int               # employers with at least one eligible person
    # not in the command's answer
    valid_rows: int = 0          # rows - rejected_rows: the rows ``batch_contribution`` keeps
    police_rows: int = 0         # data rows of police.csv
    outside_persons: int = 0     # persons insured only outside the batch's regions
    employers_total: int = 0     # distinct employer codes in the export's valid rows
    regions: tuple[str, ...] = ()
    cutoff: date = DEFAULT_CUTOFF
    contribution: str = ""       # the files written
    police: str = ""
    outcomes: str | None = None  # expected_persons.csv (ID number, outcome, employer) if asked

    def counts(self) -> dict:
        """The figures ``batch-import --json`` prints, without ``batch``."""
        return {k: getattr(self, k) for k in COUNT_KEYS}

    def as_dict(self) -> dict:
        d = asdict(self)
        d["regions"] = list(self.regions)
        d["cutoff"] = self.cutoff.isoformat()
        return d


# ---------------------------------------------------------------------------- helpers

def load_city(name_or_path: str | Path = "ningbo") -> dict:
    """A city configuration (``cities/<name>.json`` or a path)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CITIES_DIR / f"{name_or_path}.json"
    return json.loads(path.read_text(encoding="utf-8-sig"))


@functools.lru_cache(maxsize=None)
def _known_region(code: str) -> bool:
    """A code the GB 11643 region check knows (as ``forms.validators.identity`` checks it)."""
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def _counts_for(persons: int, can_dup: bool) -> list[int]:
    """How many persons of each category (index into STATUSES)."""
    counts = [0] * len(STATUSES)
    for i, (status, share) in enumerate(SHARES, start=1):
        n = round(share * persons)
        if persons >= 100:
            n = max(n, 1)
        if status == Eligibility.HELD_DUPLICATE_REGION and not can_dup:
            n = 0
        counts[i] = n
    excess = sum(counts) - persons
    for i in range(len(counts) - 1, 0, -1):  # tiny batches: trim from the end
        if excess <= 0:
            break
        cut = min(excess, counts[i])
        counts[i] -= cut
        excess -= cut
    counts[_ELIGIBLE] = persons - sum(counts)
    return counts


class _IdMaker:
    """Distinct valid citizen ID numbers: the k-th person's birth date and sequence number are
    a bijection of k (``(k * a + b) mod m``), so no set of issued numbers is needed."""

    def __init__(self, rng: random.Random, first_birth: date, last_birth: date,
                 local_codes: list[str]):
        self.base = first_birth.toordinal()
        self.days = last_birth.toordinal() - self.base + 1
        self.m = self.days * 1000
        self.a = rng.randrange(self.m // 3, self.m)
        while math.gcd(self.a, self.m) != 1:
            self.a += 1
        self.b = rng.randrange(self.m)
        self.local = local_codes
        self.rng = rng

    def make(self, k: int) -> tuple[str, int, str]:
        """(ID number, birth date ordinal, sex 男/女) of the k-th citizen."""
        if k >= self.m:
            raise ValueError("too many persons for the birth-date range")
        x = (k * self.a + self.b) % self.m
        birth = self.base + x // 1000
        seq = x % 1000
        r = self.rng.random()
        code = self.rng.choice(self.local) if r < 0.82 or not OTHER_BIRTH_CODES else \
            self.rng.choice(OTHER_BIRTH_CODES)
        body = f"{code}{date.fromordinal(birth):%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0"), birth, "男" if seq % 2 else "女"


def _given(rng: random.Random, sex: str) -> str:
    pool = GIVEN_MALE if sex == "男" else GIVEN_FEMALE
    if rng.random() < 0.3:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def _name(rng: random.Random, sex: str) -> str:
    r = rng.random()
    if r < 0.08:
        surname = rng.choice(SPECIAL_SURNAMES)
    elif r < 0.33:  # 王李张刘陈 are about a quarter of all Chinese names
        surname = rng.choice(COMMON_SURNAMES[:5])
    elif r < 0.55:
        surname = rng.choice(COMMON_SURNAMES[5:20])
    else:
        surname = rng.choice(COMMON_SURNAMES)
    return surname + _given(rng, sex)


def _other_name(rng: random.Random, name: str, sex: str) -> str:
    """The same person's name as registered elsewhere: one character of the given name differs."""
    pool = GIVEN_MALE if sex == "男" else GIVEN_FEMALE
    while True:
        ch = rng.choice(pool)
        if ch != name[-1]:
            return name[:-1] + ch


class _Writer:
    """contribution.csv / contribution.xlsx, row by row."""

    def __init__(self, path: Path, fmt: str, bom: bool):
        self.fmt = fmt
        self.rows = 0
        if fmt == "xlsx":
            from openpyxl import Workbook
            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet("统一申报征缴数据")
            self.ws.append(list(CONTRIBUTION_HEADER))
            self.path = path
        else:
            self.fh = open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="")
            self.csv = csv.writer(self.fh)
            self.csv.writerow(CONTRIBUTION_HEADER)

    def write(self, row) -> None:
        self.rows += 1
        if self.fmt == "xlsx":
            self.ws.append(list(row))
        else:
            self.csv.writerow(row)

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.wb.save(self.path)
        else:
            self.fh.close()
