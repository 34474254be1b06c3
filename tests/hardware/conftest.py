"""Fixtures of the hardware tests (the PC/SC stack's fixtures are in tests/conftest.py)."""
import pytest

from tests.hardware.station_kit import FakePlatform


@pytest.fixture
def platform():
    """A small platform serving the station protocol on 127.0.0.1 (``station_kit``)."""
    p = FakePlatform()
    yield p
    p.stop()
