"""Application numbers, card numbers, card identifiers and the complete card data."""
from datetime import date

import pytest

from app.cards import numbers, rules
from app.cards.models import Card
from app.cards.states import CardStatus
from app.procedures.application.numbers import next_application_number
from app.procedures.application.models import Application
from hardware import profile
from hardware.errors import ProfileError


def test_application_numbers_count_per_day(session):
    d1, d2 = date(2026, 8, 6), date(2026, 8, 7)
    got = [next_application_number(session, d1) for _ in range(3)]
    assert got == ["SQ202608060001", "SQ202608060002", "SQ202608060003"]
    assert next_application_number(session, d2) == "SQ202608070001"
    assert next_application_number(session, d1) == "SQ202608060004"


def test_application_numbers_survive_a_rollback_of_others(session):
    first = next_application_number(session, date(2026, 8, 6))
    session.commit()
    next_application_number(session, date(2026, 8, 6))
    session.rollback()  # the step failed: its number is given again
    assert next_application_number(session, date(2026, 8, 6)) == "SQ202608060002"
    assert first == "SQ202608060001"


def test_card_number_is_valid_random_and_unique(session):
    number = numbers.allocate_card_number(session)
    assert profile.is_valid_card_number(number)
    taken = "B6C989166"  # a demo person's card
    assert numbers.card_number_taken(session, taken)
    draws = iter([taken, taken, "B7K334774"])
    assert numbers.allocate_card_number(session, generate=lambda: next(draws)) == "B7K334774"


def test_card_number_allocation_gives_up(session):
    with pytest.raises(numbers.NumberExhausted):
        numbers.allocate_card_number(session, generate=lambda: "B6C989166", tries=3)
    with pytest.raises(ValueError):
        numbers.allocate_card_number(session, generate=lambda: "B6C989160")


def test_card_identifier(session):
    ident = rules.new_card_identifier(session)
    raw = bytes.fromhex(ident)
    assert len(raw) == 16 and raw[:3].hex() == "350581" and raw[3:8] == profile.SS_RID
    assert ident == ident.upper()


def _app(**kw):
    base = dict(id_number="350581199003071311", name="林堃", sex="1", ethnicity="1",
                birth_date=date(1990, 3, 7))
    base.update(kw)
    return Application(**base)


def test_complete_card_data():
    ident = profile.make_card_identifier("350581", bytes(8)).hex().upper()
    data = rules.build_chip_data(_app(), "B7K334774", ident, date(2026, 11, 20))
    assert data == {
        "card_identifier": ident, "card_type": "3", "spec_version": "3.00",
        "init_org": "350581000001", "issue_date": "2026-11-20", "expiry_date": "2036-11-20",
        "card_number": "B7K334774", "ssn": "350581199003071311", "name": "林堃", "sex": "1",
        "ethnicity": "01", "birthplace": "350581", "birth_date": "1990-03-07"}
    assert set(data) == set(profile.BY_KEY)
    profile.encode_card(data)  # the station's own check accepts it


def test_expiry_of_a_leap_day_issue():
    assert rules.add_years(date(2028, 2, 29), 10) == date(2038, 2, 28)
    assert rules.add_years(date(2026, 3, 1), 10) == date(2036, 3, 1)


def test_birthplace_is_the_id_numbers_region():
    """Someone born in 厦门思明区 (350203) keeps 350203 although the card is issued in 石狮."""
    from app.adapters.demo import BY_KEY
    p = BY_KEY["liu_yang"]
    ident = profile.make_card_identifier("350581", bytes(8)).hex()
    data = rules.build_chip_data(_app(id_number=p["id_number"], name=p["name"],
                                      birth_date=p["birth_date"]), "B7K334774", ident)
    assert data["birthplace"] == "350203"


def test_card_data_that_does_not_fit_the_chip_is_refused():
    ident = profile.make_card_identifier("350581", bytes(8)).hex()
    with pytest.raises(ProfileError) as e:
        rules.build_chip_data(_app(name="林𪚥"), "B7K334774", ident)  # not in GBK
    assert "name" in e.value.errors
    with pytest.raises(ProfileError) as e:
        rules.build_chip_data(_app(birth_date=date(1990, 3, 8)), "B7K334774", ident)
    assert "birth_date" in e.value.errors


def test_live_card_of(session):
    from app.adapters.demo import BY_KEY
    ssn = BY_KEY["li_minghui"]["id_number"]
    card = rules.live_card_of(session, ssn)
    assert card is not None and card.status == CardStatus.ACTIVE
    card.status = CardStatus.LOST
    session.flush()
    assert rules.live_card_of(session, ssn) is None
    assert rules.live_card_of(session, BY_KEY["lin_kun"]["id_number"]) is None


def test_card_face():
    card = Card(card_number="B7K334774", ssn="350581199003071311", name="林堃",
                issue_date=date(2026, 11, 20))
    face = rules.card_face(card, "中国工商银行石狮支行")
    assert face == {"name": "林堃", "ssn": "350581199003071311", "card_number": "B7K334774",
                    "issue_date": "2026-11-20", "bank": "中国工商银行石狮支行",
                    "issuer": "福建省人力资源和社会保障厅"}
