"""The database 数据库 (plain SQLAlchemy 2.0; the engine layer needs no Flask): the declarative
base every table uses (``app.wiring.load_all`` imports every module that defines tables), and the
sessions of the app (one scoped session per request/thread; the engine's steps commit or roll
back). SQLite engines come from ``app.engine.db.make_engine``: it configures SAVEPOINTs, WAL
and the write lock the runtime relies on.
"""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def sql_in(column: str, members) -> str:
    """SQL ``column IN ('a', 'b')`` for a CHECK constraint over an enum or a sequence of strings."""
    return f"{column} IN ({', '.join(repr(str(getattr(v, 'value', v))) for v in members)})"


def make_session_factory(engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def scoped(factory: sessionmaker) -> scoped_session:
    return scoped_session(factory)


def insert_for(session: Session, table):
    """``INSERT`` of the session's dialect (PostgreSQL or SQLite), which knows
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``: idempotent bulk writes."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
