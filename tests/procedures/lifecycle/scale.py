"""A closed issuance round of N cards built with set-based SQL, for the activation tests at
scale and ``bench/bench_activation.py``: the batch (closed), N cards (status 未启用), a person per
card, the card's place (``card_custody``) in a fixed mix, and a medical-insurance account per
person with a balance and an old medical card.

The mix, by the card's serial modulo 20: 0 at the centre, 1 returned (not collected), 2
invalidated (the card cancelled), 3 issued a second time, 4-6 with the employer, 7-19 with
the holder. So of 20 cards 17 have left the centre (activated by the round), 2 wait, 1 is void.

Cards are ``{prefix}{serial:08d}``; ID numbers are valid GB 11643 numbers made from the serial
(``start`` keeps two builds in one database apart). Rows are inserted in bulk (COPY on
PostgreSQL, multi-row INSERT on SQLite), then persons, places and accounts with
``INSERT ... SELECT``: no ORM object per card.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import BigInteger, Integer, String, case, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.adapters.medical import MedicalAccountRow
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import utcnow
from app.database import insert_ignoring
from app.engine.db import UtcDateTime
from app.procedures.batch.models import Batch, Person
from app.procedures.batch.states import BatchStatus, Eligibility, Entry, Production
from app.procedures.distribution.models import CardCustody
from app.procedures.distribution.states import Custody, ReturnReason

PERIOD = 20
#: serial % PERIOD -> the card's place
MIX = {0: Custody.AT_CENTRE, 1: Custody.RETURNED, 2: Custody.INVALIDATED, 3: Custody.REISSUED,
       4: Custody.WITH_EMPLOYER, 5: Custody.WITH_EMPLOYER, 6: Custody.WITH_EMPLOYER}
DEFAULT_PLACE = Custody.WITH_HOLDER
LEFT = (Custody.WITH_EMPLOYER, Custody.WITH_HOLDER, Custody.REISSUED)
WAITING = (Custody.AT_CENTRE, Custody.RETURNED)
ROWS = 10_000   # rows per bulk insert


def citizen_id(serial: int) -> str:
    """A valid ID number of the serial: 330203, born from 1950 on (a thousand a day)."""
    born = date(1950, 1, 1) + timedelta(days=serial // 1000)
    body = f"330203{born:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def balance(serial: int) -> int:
    """The account's balance in cents (0 to 4,999.99 yuan)."""
    return (serial * 7919) % 500_000


def place(serial: int) -> Custody:
    return MIX.get(serial % PERIOD, DEFAULT_PLACE)


@dataclass(frozen=True)
class Built:
    batch_id: int
    cards: int
    left: int             # cards that left the centre: the round activates them
    waiting: int          # at the centre or returned: stay locked
    invalidated: int
    left_cents: int       # the balances of the left cards' accounts: what moves
    prefix: str
    start: int


def build_round(session: Session, cards: int, *, prefix: str = "A", start: int = 0,
                name: str | None = None, office: str | None = "SS-CENTRE",
                status: str = BatchStatus.CLOSED) -> Built:
    """The round (in the caller's transaction; flushes, never commits)."""
    assert len(prefix) == 1 and start + cards <= 10 ** 8
    now = utcnow()
    batch = Batch(name=name or f"统一启用测试批次（{cards:,} 张）", cutoff=date(2011, 8, 31),
                  regions=["330200"], status=status, office=office, created_by="scale",
                  created_at=now - timedelta(days=30))
    session.add(batch)
    session.flush()
    first, last = f"{prefix}{start:08d}", f"{prefix}{start + cards - 1:08d}"
    for lo in range(start, start + cards, ROWS):
        rows = [{"card_number": f"{prefix}{n:08d}", "ssn": citizen_id(n), "name": f"持卡人{n}",
                 "sex": "1" if n % 2 else "2", "region_code": "330200",
                 "status": CardStatus.NOT_ACTIVATED.value, "created_at": now}
                for n in range(lo, min(lo + ROWS, start + cards))]
        insert_ignoring(session, Card.__table__, rows, conflict=["card_number"])
    in_round = Card.card_number.between(first, last)
    serial = cast(func.substr(Card.card_number, 2, 8), Integer)
    session.execute(insert(Person).from_select(
        ["batch_id", "id_number", "name", "sex", "region", "eligibility", "entry", "production",
         "has_photo", "seq", "card_id"],
        select(literal(batch.id, Integer()), Card.ssn, Card.name, Card.sex,
               literal("330200", String()), literal(Eligibility.ELIGIBLE.value, String()),
               literal(Entry.ACCEPTED.value, String()), literal(Production.ACCEPTED.value, String()),
               literal(False), serial, Card.id).where(in_round)))
    state = case(*[(Person.seq % PERIOD == k, literal(v.value, String())) for k, v in MIX.items()],
                 else_=literal(DEFAULT_PLACE.value, String()))
    reason = case((Person.seq % PERIOD == 1, literal(ReturnReason.NOT_COLLECTED.value, String())),
                  (Person.seq % PERIOD == 2, literal(ReturnReason.WRONG_DATA.value, String())),
                  else_=literal(None, String()))
    session.execute(insert(CardCustody).from_select(
        ["card_id", "person_id", "batch_id", "state", "reason", "changed_at", "changed_by"],
        select(Person.card_id, Person.id, Person.batch_id, state, reason,
               literal(now, UtcDateTime()), literal("scale", String()))
        .where(Person.batch_id == batch.id)))
    session.execute(update(Card).where(Card.id.in_(
        select(CardCustody.card_id).where(CardCustody.batch_id == batch.id,
                                          CardCustody.state == Custody.INVALIDATED.value)))
        .values(status=CardStatus.CANCELLED.value, stopped_at=now)
        .execution_options(synchronize_session=False))
    session.execute(insert(MedicalAccountRow).from_select(
        ["ssn", "balance_cents", "old_card_number", "frozen"],
        select(Card.ssn, cast(serial, BigInteger) * 7919 % 500_000, literal("YB0", String()) + Card.card_number,
               literal(False)).where(in_round)))
    session.flush()
    counts = dict(session.execute(select(CardCustody.state, func.count())
                                  .where(CardCustody.batch_id == batch.id)
                                  .group_by(CardCustody.state)).all())
    left_cents = sum(balance(n) for n in range(start, start + cards) if place(n) in LEFT)
    return Built(batch.id, cards, sum(counts.get(s.value, 0) for s in LEFT),
                 sum(counts.get(s.value, 0) for s in WAITING),
                 counts.get(Custody.INVALIDATED.value, 0), left_cents, prefix, start)


def expected(cards: int, start: int = 0) -> tuple[int, int, int]:
    """(left, waiting, invalidated) of a build, from the mix alone."""
    places = [place(n) for n in range(start, start + cards)]
    return (sum(p in LEFT for p in places), sum(p in WAITING for p in places),
            places.count(Custody.INVALIDATED))
