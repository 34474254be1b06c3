"""The database 数据库 (plain SQLAlchemy 2.0; the engine layer needs no Flask): the declarative
base every table uses (``app.wiring.load_all`` imports every module that defines tables), and the
sessions of the app (one scoped session per request/thread; the engine's steps commit or roll
back). SQLite engines come from ``app.engine.db.make_engine``: it configures SAVEPOINTs, WAL
and the write lock the runtime relies on.
"""
from __future__ import annotations

import itertools
import json

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



_stage_names = itertools.count(1)


def _stage(session: Session, table, rows: list[dict]) -> str:
    """PostgreSQL: the rows COPYed into a temporary table of the same column types (dropped
    at commit); its name. COPY is the one fast path for many rows on psycopg 3 (an executemany
    is a statement per row, a multi-row VALUES costs SQLAlchemy more to compile than to run)."""
    from sqlalchemy import JSON
    cols = list(rows[0])
    name = f"_stage_{table.name}_{next(_stage_names)}"
    conn = session.connection()
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS "
                         f"SELECT {', '.join(cols)} FROM {table.name} WITH NO DATA")
    as_json = {c for c in cols if isinstance(table.c[c].type, JSON)}
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row([json.dumps(r[c], ensure_ascii=False) if c in as_json and r[c] is not None
                            else r[c] for c in cols])
    return name


def insert_ignoring(session: Session, table, rows: list[dict], conflict: list[str]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` of many rows (every dict has the same keys)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert_for(session, table).on_conflict_do_nothing(index_elements=conflict), rows)
        return
    cols = ", ".join(rows[0])
    stage = _stage(session, table, rows)
    session.connection().exec_driver_sql(
        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING")


def update_rows(session: Session, table, rows: list[dict], key: str = "id") -> None:
    """UPDATE many rows by ``key``, each with its own values (every dict has the same keys)."""
    from sqlalchemy import bindparam, update
    if not rows:
        return
    names = [c for c in rows[0] if c != key]
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(table).where(table.c[key] == bindparam("_key"))
                        .values({c: bindparam(c) for c in names}),
                        [{**{c: r[c] for c in names}, "_key": r[key]} for r in rows])
        return
    stage = _stage(session, table, rows)
    session.connection().exec_driver_sql(
        f"UPDATE {table.name} SET {', '.join(f'{c} = s.{c}' for c in names)} "
        f"FROM {stage} AS s WHERE {table.name}.{key} = s.{key}")
