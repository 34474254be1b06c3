"""Fixtures of the distribution family's tests: a module-scoped migrated SQLite database, and
employers of a batch whose persons' cards were accepted on delivery (``Card`` rows built by
hand, status not activated) with a voucher naming one agent."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from app import create_app
from app.cards.models import Card
from app.cards.states import CardStatus
from app.migrate import upgrade
from app.procedures.batch import voucher as vouchers
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production
from app.procedures.distribution.models import (
    CardCustody,
    CustodyEvent,
    EmployerPickup,
    PickupCard,
)

CLERK = "clerk1"
_serial = itertools.count(1)


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def next_ssn() -> tuple[int, str]:
    """A serial and a distinct citizen ID number (born 1980 on, a thousand a day)."""
    n = next(_serial)
    born = date(1980, 1, 1) + timedelta(days=n // 1000)
    return n, citizen_id(f"330203{born:%Y%m%d}{n % 1000:03d}")


AGENT_ID = citizen_id("33020319700101001")     # 王经办, on the voucher
OTHER_ID = citizen_id("33020319700101002")     # 李代办, on nobody's voucher
AGENT = {"name": "王经办", "id_number": AGENT_ID, "mobile": "13900000011"}


@dataclass
class Made:
    """An employer with its persons and their cards (same order: roster order)."""

    batch: Batch
    employer: Employer
    persons: list[Person]
    cards: list[Card]

    @property
    def numbers(self) -> list[str]:
        return [c.card_number for c in self.cards]

    @property
    def card_ids(self) -> list[int]:
        return [c.id for c in self.cards]


def accepted_employer(s: Session, names=("张三", "李四", "王五"), *, code="E1",
                      name="宁波甲机械有限公司", batch: Batch | None = None,
                      batch_name="2011年第一批", production=Production.ACCEPTED,
                      voucher: bool = True) -> Made:
    """An employer whose persons' cards were accepted on delivery (``production``), with its
    voucher naming 王经办 (``AGENT_ID``)."""
    if batch is None:
        batch = Batch(name=batch_name, cutoff=date(2011, 8, 31), regions=["330200"],
                      status="delivered", created_by=CLERK)
        s.add(batch)
        s.flush()
    employer = Employer(batch_id=batch.id, code=code, name=name, region="330200",
                        status=EmployerStatus.NOTIFIED, eligible=len(names))
    s.add(employer)
    s.flush()
    persons, cards = [], []
    for seq, person_name in enumerate(names, 1):
        n, ssn = next_ssn()
        card = Card(card_number=f"B{n:08d}", ssn=ssn, name=person_name, region_code="330200",
                    status=CardStatus.NOT_ACTIVATED)
        s.add(card)
        s.flush()
        person = Person(batch_id=batch.id, employer_id=employer.id, employer_code=code,
                        id_number=ssn, name=person_name, sex="1", region="330200", seq=seq,
                        eligibility=Eligibility.ELIGIBLE, entry=Entry.ACCEPTED,
                        production=production, card_id=card.id)
        s.add(person)
        persons.append(person)
        cards.append(card)
    s.flush()
    if voucher:
        vouchers.record_voucher(s, code, name, [AGENT], CLERK)
    return Made(batch, employer, persons, cards)


def add_person(s: Session, made: Made, person_name: str) -> tuple[Person, Card]:
    """One more person of the employer whose card was accepted (e.g. a remade card)."""
    n, ssn = next_ssn()
    card = Card(card_number=f"B{n:08d}", ssn=ssn, name=person_name, region_code="330200",
                status=CardStatus.NOT_ACTIVATED)
    s.add(card)
    s.flush()
    person = Person(batch_id=made.batch.id, employer_id=made.employer.id,
                    employer_code=made.employer.code, id_number=ssn, name=person_name, sex="2",
                    region="330200", seq=len(made.persons) + 1, eligibility=Eligibility.ELIGIBLE,
                    entry=Entry.ACCEPTED, production=Production.ACCEPTED, card_id=card.id)
    s.add(person)
    s.flush()
    made.persons.append(person)
    made.cards.append(card)
    return person, card


def snapshot(s: Session) -> tuple:
    """Everything the distribution services write (to show a refusal changed nothing)."""
    s.expire_all()
    return (s.execute(select(CardCustody.card_id, CardCustody.state, CardCustody.reason)
                      .order_by(CardCustody.card_id)).all(),
            s.scalar(select(func.count()).select_from(CustodyEvent)),
            s.execute(select(EmployerPickup.id, EmployerPickup.status, EmployerPickup.cards,
                             EmployerPickup.counted_at, EmployerPickup.roster_back_at,
                             EmployerPickup.roster_scan_name).order_by(EmployerPickup.id)).all(),
            s.execute(select(PickupCard.card_id, PickupCard.outcome, PickupCard.reason,
                             PickupCard.note).order_by(PickupCard.id)).all())


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """One migrated SQLite database per module; each test's work is rolled back (the
    services flush, never commit)."""
    path = tmp_path_factory.mktemp("distribution")
    url = f"sqlite:///{path / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(path),
                      "SCHEDULER_IN_PROCESS": False, "TESTING": True})
    upgrade(url)
    yield app
    app.extensions["sscard"].engine.dispose()


@pytest.fixture
def db(platform):
    session = platform.extensions["sscard"].session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def made(db) -> Made:
    """宁波甲机械有限公司: 张三, 李四, 王五, cards accepted; voucher with 王经办."""
    return accepted_employer(db)
