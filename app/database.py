"""Database engine and sessions 数据库会话 (plain SQLAlchemy 2.0; the engine layer needs no Flask).

One scoped session per request/thread; the engine's step functions commit or roll back.
SQLite engines come from ``app.engine.db.make_engine``: it configures SAVEPOINTs, WAL and the
write lock the runtime relies on.
"""
from __future__ import annotations

from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app.engine.db import make_engine  # noqa: F401  (re-exported for the app factory)


def make_session_factory(engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def scoped(factory: sessionmaker) -> scoped_session:
    return scoped_session(factory)
