from tests.cards.conftest import engine, session  # noqa: F401  (same SQLite demo database)
