"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from app.migrate import upgrade
from app.wiring import load_all


def _diff(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, load_all())
    engine.dispose()
    return diff


def test_sqlite_schema_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert _diff(url) == []


@pytest.mark.postgres
def test_postgresql_schema_matches_models(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as conn:  # a clean schema of our own in the test database
        conn.execute(text("DROP SCHEMA IF EXISTS migr CASCADE; CREATE SCHEMA migr"))
    engine.dispose()
    url = pg_url + ("&" if "?" in pg_url else "?") + "options=-csearch_path%3Dmigr"
    upgrade(url)
    assert _diff(url) == []
