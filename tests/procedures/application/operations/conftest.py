"""The application family's service operations, called directly on a demo database (the
kernel's fixtures: ``engine`` and ``session`` of ``tests/cards``)."""
from tests.cards.conftest import engine, session  # noqa: F401  (fixtures)
from tests.cards.helpers import demo_session, pg_engine, sqlite_engine  # noqa: F401
