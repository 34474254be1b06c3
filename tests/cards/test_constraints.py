"""One person, one live card (一人一卡): the database itself refuses a second live card, on
SQLite and on PostgreSQL."""
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.states import LIVE_CARD_STATES, CardStatus
from hardware.profile import new_card_number
from tests.cards.helpers import sqlite_engine

SSN = "350581199003071311"


def card(status, ssn=SSN, number=None):
    return Card(card_number=number or new_card_number(), ssn=ssn, name="林堃",
                region_code="350581", status=status, birth_date=date(1990, 3, 7))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "c.db")
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("pg_engine")


@pytest.mark.parametrize("first", [s.value for s in LIVE_CARD_STATES])
@pytest.mark.parametrize("second", [CardStatus.NUMBER_ASSIGNED, CardStatus.ACTIVE])
def test_second_live_card_is_refused(db, first, second):
    with Session(db) as s:
        s.add(card(first))
        s.commit()
        s.add(card(second))
        with pytest.raises(IntegrityError):
            s.commit()


@pytest.mark.parametrize("dead", [CardStatus.LOST, CardStatus.CANCELLED,
                                  CardStatus.CANCELLED_AFTER_LOSS])
def test_stopped_or_lost_cards_do_not_count(db, dead):
    with Session(db) as s:
        s.add_all([card(dead), card(dead), card(CardStatus.ACTIVE)])
        s.commit()
        assert s.query(Card).count() == 3


def test_stopping_the_old_card_frees_the_slot(db):
    with Session(db) as s:
        old = card(CardStatus.ACTIVE)
        s.add(old)
        s.commit()
        old.status = CardStatus.CANCELLED
        s.flush()
        s.add(card(CardStatus.NUMBER_ASSIGNED))
        s.commit()
        # and a live card cannot come back to life while another is live
        old.status = CardStatus.ACTIVE
        with pytest.raises(IntegrityError):
            s.commit()


def test_other_people_are_independent(db):
    with Session(db) as s:
        s.add_all([card(CardStatus.ACTIVE), card(CardStatus.ACTIVE, ssn="350581198506120220")])
        s.commit()


def test_unknown_status_and_duplicate_number_are_refused(db):
    with Session(db) as s:
        s.add(card("stolen"))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        s.add(card(CardStatus.CANCELLED, number="B7K334774"))
        s.add(card(CardStatus.CANCELLED, number="B7K334774"))
        with pytest.raises(IntegrityError):
            s.commit()
