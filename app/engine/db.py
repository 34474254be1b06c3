"""Database plumbing the engine relies on: a UTC timestamp type and a correctly configured
SQLite (事务与保存点).

The runtime uses SAVEPOINTs (``session.begin_nested()``) so a failed service operation's
writes can be undone while the rest of the step commits. Python's ``sqlite3`` driver breaks
SAVEPOINT semantics unless it is told to leave transaction control to SQLAlchemy: create every
SQLite engine with :func:`make_engine` or pass it through :func:`configure_sqlite` before its
first connection. The runtime refuses an unconfigured SQLite engine rather than risk a
half-committed step.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from app.engine.errors import SqliteNotConfigured


class UtcDateTime(TypeDecorator):
    """An aware datetime stored in UTC; comes back aware (UTC) on SQLite and PostgreSQL.

    A naive value is taken as UTC. On SQLite values are stored as naive UTC text, so SQL
    comparisons (``due_at <= :now``) stay correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = plain(value.astimezone(timezone.utc))
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def plain(value: datetime) -> datetime:
    """A plain ``datetime`` (drivers adapt by exact type; the engine clock hands out a
    subclass)."""
    if type(value) is datetime:
        return value
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond, tzinfo=value.tzinfo, fold=value.fold)


def _sqlite_connect(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # wait for a writer instead of failing at once
    # Readers never block the writer (a web page open in one session must not stop a step).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# A runtime step that starts its own transaction takes SQLite's write lock at once
# (BEGIN IMMEDIATE): a second clerk then waits for the first, like a PostgreSQL row lock,
# instead of failing on a stale snapshot when it comes to write.
_IMMEDIATE: ContextVar[bool] = ContextVar("sscard_sqlite_immediate", default=False)


def _sqlite_begin(conn):
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")


@contextmanager
def immediate_transactions() -> Iterator[None]:
    """SQLite transactions begun inside the block take the write lock at once."""
    token = _IMMEDIATE.set(True)
    try:
        yield
    finally:
        _IMMEDIATE.reset(token)


def configure_sqlite(engine: Engine) -> Engine:
    """Make SAVEPOINT and transactions behave on a pysqlite engine (idempotent).

    Call before the engine's first connection. No-op for other databases.
    """
    if engine.dialect.name != "sqlite" or is_configured(engine):
        return engine
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def is_configured(engine: Engine) -> bool:
    return engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin)


def make_engine(url: str, **kwargs) -> Engine:
    """``create_engine`` with the engine layer's requirements (SQLite configured, pool
    pre-ping on servers)."""
    if url.startswith("sqlite"):
        return configure_sqlite(create_engine(url, **kwargs))
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def check_engine(session) -> str:
    """The dialect name of the session's database; refuses an unconfigured SQLite engine."""
    bind = session.get_bind()
    engine = bind.engine if hasattr(bind, "engine") else bind
    if not is_configured(engine):
        raise SqliteNotConfigured(
            "SQLite engine not configured for savepoints: create it with "
            "app.engine.db.make_engine() or call configure_sqlite(engine)")
    return engine.dialect.name

