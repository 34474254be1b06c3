"""One person, one live card (一人一卡): the database itself refuses a second live card, on
SQLite and on PostgreSQL."""
from datetime import date

import pytest
from sqlalchemy import text
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
        # and a cancelled card never comes back to life: the kernel refuses it, and the
        # database refuses it too while another card of the person is live
        with pytest.raises(ValueError):
            old.status = CardStatus.ACTIVE
        with pytest.raises(IntegrityError):
            s.execute(text("UPDATE card SET status = 'active' WHERE id = :id"), {"id": old.id})


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


def test_a_card_job_kind_outside_the_station_protocol_is_refused_by_the_migrated_schema(tmp_path):
    """CardJob.kind is one of hardware.protocol.KINDS (migration 0005's CHECK constraint)."""
    from sqlalchemy import create_engine, text

    from app.migrate import upgrade
    from hardware.protocol import KINDS
    url = f"sqlite:///{tmp_path / 'k.db'}"
    upgrade(url)
    engine = create_engine(url)
    # a plain SQLite connection does not enforce foreign keys: only the CHECK is under test
    for kind, ok in [(KINDS[0], True), ("format_disk", False)]:
        with engine.connect() as conn:
            stmt = text("INSERT INTO card_job (application_id, kind, payload, state, attempts, created_at) "
                        "VALUES (1, :kind, '{}', 'queued', 0, '2026-12-01 00:00:00')")
            if ok:
                conn.execute(stmt, {"kind": kind})
                conn.commit()
            else:
                with pytest.raises(IntegrityError):
                    conn.execute(stmt, {"kind": kind})
    engine.dispose()
