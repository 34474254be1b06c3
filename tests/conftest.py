"""Shared fixtures: the real PC/SC stack (pcscd + vpcd virtual reader + virtual card)."""
import pytest

# PostgreSQL (pg_url fixture), the Flask app and other shared fixtures live in their own modules.
pytest_plugins = ["tests.fixtures_pg", "tests.fixtures_app"]

from app.wiring import configure_engine
from hardware import lab, reader
from hardware.virtual_card import create_blank

# The engine's task forms and working-day calendar (app.engine.ports), as the app plugs them in.
configure_engine()


@pytest.fixture(scope="session")
def pcscd():
    """pcscd with the vpcd readers: reuse a running one, else start it (and stop it after)."""
    proc = lab.start_pcscd()
    yield
    lab.stop(proc)


class VirtualCardSlot:
    """A reader slot with a card that tests can insert, pull and re-insert."""

    def __init__(self, state_path, slot=0):
        self.state_path = str(state_path)
        self.slot = slot
        self.reader = lab.VIRTUAL_READERS[slot]
        self.proc = None

    def blank(self, bank_card_number="6217001234567890123"):
        create_blank(self.state_path, bank_card_number)
        return self

    def insert(self, faults=()):
        self.pull()
        self.proc = lab.start_virtual_card(self.state_path, self.slot, faults)
        self.present_counter = reader.slot_status(self.reader)[1]
        return self

    def pull(self):
        """Take the card out: end the card process and wait until pcscd notices."""
        if self.proc is not None:
            lab.stop(self.proc)
            self.proc = None
            lab.wait_for_no_card(self.reader, self.present_counter)

    def wait_gone(self, timeout=15):
        """Wait for a card that pulled itself (a fault) to be noticed as gone."""
        self.proc.wait(timeout)
        self.proc = None
        lab.wait_for_no_card(self.reader, self.present_counter)


@pytest.fixture
def card_slot(pcscd, tmp_path):
    """A blank semi-finished card in reader 'Virtual PCD 00 00'."""
    slot = VirtualCardSlot(tmp_path / "card.json").blank()
    slot.insert()
    yield slot
    slot.pull()


def valid_ssn(body17: str) -> str:
    """Complete a 17-digit body with its GB 11643 check character."""
    from stdnum.cn import ric
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture
def card_data():
    """Card data for one holder, as the platform sends it in a card job."""
    from hardware import profile
    return {
        "card_identifier": profile.make_card_identifier("350581", bytes.fromhex("0102030405060708")).hex(),
        "card_type": "3", "spec_version": "3.00", "init_org": "350581000001",
        "issue_date": "2026-11-20", "expiry_date": "2036-11-20",
        "card_number": "B7K334774", "ssn": valid_ssn("35058119900307123"),
        "name": "林堃", "sex": "1", "ethnicity": "01", "birthplace": "350581", "birth_date": "1990-03-07",
    }
