import pytest

from tests.cards.helpers import demo_session, pg_engine, sqlite_engine  # noqa: F401


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(tmp_path / "cards.db")
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with demo_session(engine) as s:
        yield s
