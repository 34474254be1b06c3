"""Rows built by hand for the tests of returns, holder pickups and corrections: a migrated
SQLite database per module (the batch family's ``platform``/``db`` fixtures: each test rolled
back), employers with persons, their cards and the cards' custody inserted directly."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from sqlalchemy import func, select

from app.cards.models import Card
from app.cards.states import CardStatus
from app.procedures.batch.models import Batch, Employer, Person, PersonEvent
from app.procedures.batch.states import Eligibility, Production
from app.procedures.distribution.models import (CardCustody, CardReturn, CustodyEvent,
                                                DataCorrection, EmployerPickup, HolderPickup,
                                                PickupCard, ReturnedCard)
from app.procedures.distribution.states import Custody, Outcome
from tests.procedures.batch.conftest import db, employer_with, id_number, platform  # noqa: F401

__all__ = ["db", "platform", "employer_with", "id_number", "cards_for", "flexible_person",
           "pickup_of", "counts", "utc"]

_card_serial = itertools.count(1)
_person_serial = itertools.count(500)
CHECK = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def card_number() -> str:
    """A distinct 9-character card number (the tests do not need its check character)."""
    return f"T{next(_card_serial):07d}X"


def cards_for(db, persons, state=Custody.WITH_EMPLOYER, *, reason=None) -> list[Card]:
    """A made card for each person (``Person.card_id`` set) and its custody row in ``state``."""
    cards = []
    for person in persons:
        card = Card(card_number=card_number(), ssn=person.id_number, name=person.name,
                    sex=person.sex, region_code="330200", status=CardStatus.NOT_ACTIVATED)
        db.add(card)
        db.flush()
        person.card_id, person.production = card.id, Production.ACCEPTED
        db.add(CardCustody(card_id=card.id, person_id=person.id, employer_id=person.employer_id,
                           batch_id=person.batch_id, state=state, reason=reason,
                           changed_by="t"))
        cards.append(card)
    db.flush()
    return cards


def flexible_person(db, name="刘灵活") -> Person:
    """A flexible-employment insured person 灵活就业人员: no employer, collects at the centre."""
    batch = Batch(name="灵活就业批", cutoff=datetime(2011, 8, 31).date(), regions=["330200"],
                  created_by="t")
    db.add(batch)
    db.flush()
    person = Person(batch_id=batch.id, employer_id=None, name=name, sex="2",
                    id_number=id_number(f"33020319650202{next(_person_serial) % 1000:03d}"),
                    eligibility=Eligibility.ELIGIBLE, seq=1)
    db.add(person)
    db.flush()
    return person


def pickup_of(db, employer, cards, number=None) -> EmployerPickup:
    """An employer pickup handed over, with a roster line for each card."""
    pickup = EmployerPickup(number=number or f"JJ{employer.id}-1", employer_id=employer.id,
                            status="handed_over", letter_agent_name="陈经办",
                            letter_agent_id=id_number("33020319750505123"), voucher_version=1,
                            seal_checked=True, cards=len(cards), created_by="t")
    db.add(pickup)
    db.flush()
    for seq, card in enumerate(cards, 1):
        person_id = db.scalar(select(CardCustody.person_id).where(CardCustody.card_id == card.id))
        db.add(PickupCard(pickup_id=pickup.id, card_id=card.id, person_id=person_id, seq=seq))
    db.flush()
    return pickup


def sign(db, pickup, card, at) -> None:
    """The card's roster line signed by its holder (and its custody with_holder)."""
    line = db.scalars(select(PickupCard).where(PickupCard.pickup_id == pickup.id,
                                               PickupCard.card_id == card.id)).one()
    line.outcome, line.recorded_at, line.recorded_by = Outcome.SIGNED, at, "t"
    db.get(CardCustody, card.id).state = Custody.WITH_HOLDER
    db.flush()


TABLES = (CardReturn, ReturnedCard, CustodyEvent, DataCorrection, HolderPickup, PersonEvent)


def counts(db) -> dict:
    """Row counts of the tables a return, a pickup or a correction writes, and every custody
    row's (state, reason): what must not change on a refusal."""
    db.flush()
    out = {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in TABLES}
    out["custody"] = sorted(db.execute(select(CardCustody.card_id, CardCustody.state,
                                              CardCustody.reason)).all())
    out["cards"] = sorted(db.execute(select(Card.id, Card.status, Card.stop_reason)).all())
    return out


def other_employer(db) -> tuple[Employer, list[Person]]:
    employer, persons = employer_with(db, [("孙外单", "一车间", None)], code="E2")
    employer.name = "宁波乙贸易有限公司"
    db.flush()
    return employer, persons
