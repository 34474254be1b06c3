"""Card archive, blank-card stock and SMS gateway (embedded defaults), and the factory."""
from datetime import date

import pytest
from sqlalchemy import select

import app.adapters as adapters
from app.adapters.demo import BY_KEY
from app.adapters.sms import SmsMessage
from app.cards import archive as card_archive
from app.cards import stock as card_stock
from app.cards.demo import (
    ABC_WINDOW,
    BLANK_CARDS_PER_WINDOW,
    ICBC,
    ICBC_WINDOW,
    luhn_complete,
)
from app.cards.models import BlankCard, Card
from app.cards.states import BlankCardStatus, CardStatus
from app.procedures.application.models import Application

LI = BY_KEY["li_minghui"]["id_number"]


# ---------------------------------------------------------------- archive

def test_find_live_card(session):
    archive = card_archive.archive(session)
    record = archive.find_live_card(LI)
    assert record.card_number == "B6C989166" and record.status == CardStatus.ACTIVE
    assert record.card_number_masked == "B6C****66"
    assert archive.find_live_card(BY_KEY["lin_kun"]["id_number"]) is None


def test_stop_card(session):
    archive = card_archive.archive(session)
    stopped = archive.stop_card("B6C989166", "换领新卡", by="clerk1")
    assert stopped.status == CardStatus.CANCELLED
    card = session.scalars(select(Card).where(Card.card_number == "B6C989166")).one()
    assert card.stop_reason == "换领新卡" and card.stopped_at is not None
    assert archive.find_live_card(LI) is None
    with pytest.raises(card_archive.ArchiveError) as e:
        archive.stop_card("B6C989166", "again")
    assert e.value.code == "card_not_live"


def test_stop_temporarily_lost_card(session):
    card = session.scalars(select(Card).where(Card.card_number == "188347080")).one()
    card.status = CardStatus.TEMP_LOST
    stopped = card_archive.archive(session).stop_card("188347080", "补卡")
    assert stopped.status == CardStatus.CANCELLED_AFTER_LOSS


def test_card_being_made_or_unknown_is_not_stopped(session):
    card = session.scalars(select(Card).where(Card.card_number == "188347080")).one()
    card.status = CardStatus.IN_PRODUCTION
    with pytest.raises(card_archive.ArchiveError) as e:
        card_archive.archive(session).stop_card("188347080", "x")
    assert e.value.code == "card_in_production"
    with pytest.raises(card_archive.ArchiveError) as e:
        card_archive.archive(session).stop_card("B7K334774", "x")
    assert e.value.code == "card_unknown"


# ---------------------------------------------------------------- stock

@pytest.fixture
def apps(session):
    rows = []
    for i in range(3):
        app = Application(number=f"SQ2026112000{i:02d}", channel="window",
                          service_point=ICBC_WINDOW, service_point_name="x", window=ICBC_WINDOW,
                          application_date=date(2026, 11, 20), name="林堃", sex="1",
                          ethnicity="01", birth_date=date(1990, 3, 7), mobile="13805951234",
                          id_type="resident_id", id_number="350581199003071311",
                          created_by="clerk1")
        session.add(app)
        rows.append(app)
    session.flush()
    return rows


def test_reserve_next_blank_card(session, apps):
    stock = card_stock.stock(session)
    assert stock.available(ICBC_WINDOW) == BLANK_CARDS_PER_WINDOW
    first = stock.reserve_blank_card(apps[0].id, ICBC_WINDOW)
    assert first.bank == ICBC and first.status == BlankCardStatus.RESERVED
    assert first.bank_card_number == luhn_complete("621226140800000001")
    assert stock.reserve_blank_card(apps[0].id, ICBC_WINDOW) == first  # idempotent
    second = stock.reserve_blank_card(apps[1].id, ICBC_WINDOW)
    assert second.id != first.id
    assert stock.available(ICBC_WINDOW) == BLANK_CARDS_PER_WINDOW - 2
    assert stock.reserved_for(apps[0].id) == first


def test_reserve_a_named_blank_card(session, apps):
    stock = card_stock.stock(session)
    auto = stock.reserve_blank_card(apps[0].id, ICBC_WINDOW)
    wanted = luhn_complete("621226140800000007")
    named = stock.reserve_blank_card(apps[0].id, ICBC_WINDOW, wanted)  # the clerk took another
    assert named.bank_card_number == wanted
    assert session.get(BlankCard, auto.id).status == BlankCardStatus.AVAILABLE
    for number, code in ((wanted, "blank_card_not_available"),
                         ("6212261408999999999", "blank_card_unknown"),
                         (luhn_complete("622848140800000001"), "wrong_window")):
        with pytest.raises(card_stock.StockError) as e:
            stock.reserve_blank_card(apps[1].id, ICBC_WINDOW, number)
        assert e.value.code == code


def test_stock_runs_out(session, apps):
    for blank in session.scalars(select(BlankCard).where(BlankCard.window == ABC_WINDOW)):
        blank.status = BlankCardStatus.USED
    with pytest.raises(card_stock.StockError) as e:
        card_stock.stock(session).reserve_blank_card(apps[0].id, ABC_WINDOW)
    assert e.value.code == "no_blank_card" and "半成品卡已用完" in e.value.zh


def test_release_spoil_and_use(session, apps):
    stock = card_stock.stock(session)
    assert stock.release_blank_card(apps[0].id) is None
    a = stock.reserve_blank_card(apps[0].id, ICBC_WINDOW)
    assert stock.release_blank_card(apps[0].id).status == BlankCardStatus.AVAILABLE
    b = stock.reserve_blank_card(apps[1].id, ICBC_WINDOW)
    assert b.id == a.id  # back in stock: next in line again
    spoiled = stock.release_blank_card(apps[1].id, spoiled=True, note="卡面打印错位")
    assert spoiled.status == BlankCardStatus.SPOILED
    assert session.get(BlankCard, b.id).note == "卡面打印错位"
    c = stock.reserve_blank_card(apps[2].id, ICBC_WINDOW)
    assert stock.mark_used(apps[2].id).status == BlankCardStatus.USED
    assert stock.reserved_for(apps[2].id) is None and c.id != b.id
    with pytest.raises(card_stock.StockError):
        stock.mark_used(apps[2].id)


# ---------------------------------------------------------------- SMS

def test_sms_goes_to_the_outbox(session):
    msg_id = adapters.sms(session).send("138 0595 1234", "【石狮人社】您的社保卡已到", application_id=None)
    row = session.get(SmsMessage, int(msg_id))
    assert row.phone == "13805951234" and row.state == "queued" and row.phone_masked == "138****1234"
    assert "13805951234" not in repr(row)


@pytest.mark.parametrize("phone, text", [("12345", "x"), ("13805951234", ""),
                                         ("13805951234", "长" * 301)])
def test_sms_refuses_bad_input(session, phone, text):
    with pytest.raises(adapters.SmsError):
        adapters.sms(session).send(phone, text)


# ---------------------------------------------------------------- factory

class FakeSms(adapters.SmsGateway):
    sent = []

    def __init__(self, session):
        pass

    def send(self, phone, text, application_id=None):
        self.sent.append((phone, text))
        return "fake-1"


def test_factory_configure_and_env(session, monkeypatch):
    try:
        adapters.configure(sms=FakeSms)
        assert adapters.sms(session).send("13805951234", "hi") == "fake-1"
        adapters.configure(sms=None)
        assert isinstance(adapters.sms(session), adapters.EmbeddedSmsGateway)
        monkeypatch.setenv("SSCARD_ADAPTER_SMS", f"{__name__}:FakeSms")
        assert isinstance(adapters.sms(session), FakeSms)
        monkeypatch.setenv("SSCARD_ADAPTER_SMS", "embedded")
        assert isinstance(adapters.sms(session), adapters.EmbeddedSmsGateway)
        adapters.configure(police=lambda s: object())
        with pytest.raises(TypeError):
            adapters.police(session)
        with pytest.raises(ValueError, match="unknown adapter"):
            adapters.configure(teleporter="x:y")
        with pytest.raises(ValueError, match="cannot be loaded"):
            adapters.configure(bank="no_such_module_here:Bank")
        with pytest.raises(ValueError):
            adapters.configure(sms="no_colon")
    finally:
        adapters.reset()
