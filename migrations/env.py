"""Alembic environment: the platform's metadata and DATABASE_URL (or the URL given by the caller)."""
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from app.wiring import load_all

config = context.config
target_metadata = load_all()
url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")


def run_offline():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def render_item(type_, obj, autogen_context):
    """Render the platform's column types as plain SQLAlchemy ones: migrations must not
    import application code that may change later."""
    if type_ == "type" and type(obj).__name__ == "UtcDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection):
    # batch mode: SQLite cannot ALTER most things; Alembic rebuilds the table instead.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
