"""Demo data: valid numbers, idempotent seeding."""
from sqlalchemy import func, select
from stdnum.cn import ric

from app.adapters.demo import BY_KEY, PERSONS
from app.cards.demo import BLANK_CARDS_PER_WINDOW, EXISTING_CARDS, SERVICE_POINTS, luhn_complete, seed_demo
from app.cards.models import BlankCard, Card, ServicePoint
from app.cards.states import CardStatus
from hardware import profile
from stdnum import luhn


def test_demo_numbers_are_valid():
    for p in BY_KEY.values():
        number = p["id_number"]
        assert ric.calc_check_digit(number) == number[-1]
        assert ("1" if int(number[16]) % 2 else "2") == p["sex"] or p["key"] == "xu_xiaoyan"
        assert number[6:14] == p["birth_date"].strftime("%Y%m%d")
        profile.encode_value(profile.BY_KEY["name"], p["name"])  # GBK, fits the chip
    assert any(p["name"] == "林堃" for p in PERSONS)
    for existing in EXISTING_CARDS:
        assert profile.is_valid_card_number(existing["card_number"])
        assert luhn.is_valid(existing["bank_card_number"])
    assert luhn.is_valid(luhn_complete("621226140800000001"))


def test_seed_is_idempotent(session):
    counts = lambda: (session.scalar(select(func.count()).select_from(ServicePoint)),
                      session.scalar(select(func.count()).select_from(BlankCard)),
                      session.scalar(select(func.count()).select_from(Card)))
    before = counts()
    assert before == (len(SERVICE_POINTS), 2 * BLANK_CARDS_PER_WINDOW, 2)
    assert seed_demo(session) == {"service_points": 0, "blank_cards": 0, "cards": 0,
                                  "police_register": 0}
    assert counts() == before
    assert {c.status for c in session.scalars(select(Card))} == {CardStatus.ACTIVE}
    outlet = session.scalars(select(ServicePoint).where(ServicePoint.name == "宝盖镇代办网点")).one()
    assert outlet.kind == "outlet" and outlet.window_code == "ICBC-SS"
    assert session.scalars(select(ServicePoint).where(
        ServicePoint.name == "工商银行石狮支行制卡窗口")).one().kind == "window"
